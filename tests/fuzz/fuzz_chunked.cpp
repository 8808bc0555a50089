// libFuzzer target for codec/chunked_body: never reads past its input, leaves an incomplete
// body untouched, agrees with a straightforward reference decoder on what it accepts, and
// gives the same answer when resumed (ChunkedScan) as on the whole input at once.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "codec/chunked_body.h"

namespace {

// Reference: the RFC 9112 7.1 grammar written plainly (sizes in hex, CRLF or LF line ends).
// Returns wire length or -1 (error) / -2 (incomplete), with the body in *out.
long reference(const std::string& in, size_t max_body, std::string* out) {
    size_t p = 0;
    auto line = [&](std::string* l) -> int {
        size_t nl = in.find('\n', p);
        if (nl == std::string::npos) return -2;
        *l = in.substr(p, nl - p);
        p = nl + 1;
        return 0;
    };
    for (;;) {
        std::string l;
        if (line(&l) < 0) return -2;
        size_t i = 0;
        uint64_t size = 0;
        while (i < l.size() && isxdigit(static_cast<unsigned char>(l[i]))) {
            if (size > (uint64_t(1) << 40)) return -1;
            size = size * 16 + static_cast<uint64_t>(strtol(std::string(1, l[i]).c_str(), nullptr, 16));
            ++i;
        }
        if (i == 0) return -1;
        if (i < l.size() && l[i] != ';' && l[i] != '\r' && l[i] != ' ' && l[i] != '\t') return -1;
        if (size == 0) break;
        if (out->size() + size > max_body) return -1;
        if (in.size() - p < size + 1) return -2;
        out->append(in, p, size);
        p += size;
        if (in[p] == '\r') {
            if (in.size() - p < 2) return -2;
            if (in[p + 1] != '\n') return -1;
            p += 2;
        } else if (in[p] == '\n') {
            p += 1;
        } else {
            return -1;
        }
    }
    const size_t trailers_at = p;
    for (;;) {
        std::string l;
        if (line(&l) < 0) return -2;
        if (l.empty() || l == "\r") break;
        if (p - trailers_at > wspush::codec::kMaxChunkedTrailers || out->size() + (p - trailers_at) > max_body) return -1;
    }
    return static_cast<long>(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Byte 0 also picks the limit, so both the trailer total (8 KiB) and max_body bind.
    const size_t max_body = size > 0 && (data[0] & 1) ? 16384 : 4096;
    std::vector<uint8_t> buf(data, data + size);  // exact size: ASan catches any overread
    size_t body_len = 0;
    int status = 0;
    long rc = wspush::codec::decode_chunked(buf.data(), buf.size(), max_body, &body_len, &status);
    if (rc == wspush::codec::kHttpIncomplete && size > 0 && memcmp(buf.data(), data, size) != 0) abort();
    if (rc >= 0 && (static_cast<size_t>(rc) > size || body_len > max_body)) abort();
    if (rc == wspush::codec::kHttpError && status != 400 && status != 413 && status != 431) abort();
    // Agreement with the reference on accepted inputs (long junk lines differ only in when
    // they are declared errors, so compare when both reached a verdict).
    std::string in(reinterpret_cast<const char*>(data), size), ref_body;
    long ref = reference(in, max_body, &ref_body);
    if (rc >= 0 && ref >= 0 && (rc != ref || ref_body != std::string(buf.begin(), buf.begin() + body_len))) abort();
    if (rc >= 0 && ref == -1) abort();
    if (ref >= 0 && rc == wspush::codec::kHttpError) abort();

    // Resuming: fed in two growing steps with a ChunkedScan (the split point taken from the
    // input), the answer equals the whole-input answer.
    if (size >= 1) {
        const size_t cut = data[0] % size;
        std::vector<uint8_t> grown(data, data + size);
        wspush::codec::ChunkedScan scan;
        size_t len2 = 0;
        int st2 = 0;
        long rc2 = wspush::codec::decode_chunked(grown.data(), cut, max_body, &len2, &st2, &scan);
        if (rc2 == wspush::codec::kHttpIncomplete) {
            if (scan.pos > cut || memcmp(grown.data(), data, size) != 0) abort();
            rc2 = wspush::codec::decode_chunked(grown.data(), size, max_body, &len2, &st2, &scan);
            if (rc2 != rc) abort();
            if (rc >= 0 && (len2 != body_len || memcmp(grown.data(), buf.data(), body_len) != 0)) abort();
            if (rc == wspush::codec::kHttpError && st2 != status) abort();
        }
    }
    return 0;
}
