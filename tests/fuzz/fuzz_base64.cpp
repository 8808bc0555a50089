// libFuzzer target for api/api_base64 (the binary pushes of the HTTP API).
// Input: byte 0 picks a mode; the rest is either base64 text to decode or bytes to encode.
// Invariants (abort on violation):
//   decode   base64_decode accepts exactly what a plain quantum-by-quantum reference decoder
//            accepts, appends the same bytes after whatever `out` held, and on rejection leaves
//            `out` exactly as it was (never a partial result);
//   round    the reference encoding of any bytes, padded or not, decodes back to those bytes,
//            and that encoding with one character spoiled (outside the alphabet) is rejected.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_base64.h"

using wspush::api::base64_decode;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
    for (int i = 0; i < 64; ++i)
        if (kAlphabet[i] == c) return i;
    return -1;
}

// RFC 4648 section 4, encoded three bytes at a time.
std::string reference_encode(std::string_view in, bool pad) {
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        size_t n = in.size() - i < 3 ? in.size() - i : 3;
        uint32_t v = 0;
        for (size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? static_cast<uint8_t>(in[i + k]) : 0);
        for (size_t k = 0; k < 4; ++k) {
            if (k <= n) out += kAlphabet[(v >> (18 - 6 * k)) & 63];
            else if (pad) out += '=';
        }
    }
    return out;
}

// The accepted language, written as the RFC states it: whole quanta of four characters, the last
// of which may be "xx==" or "xxx=" (or those without their '='); no '=' elsewhere; the bits
// that the padding drops must be zero (RFC 4648 3.5, canonical encoding).
bool reference_decode(std::string_view in, std::string* out) {
    size_t pad = 0;
    if (in.size() % 4 == 0) {
        while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
        in.remove_suffix(pad);
    }
    if (in.size() % 4 == 1) return false;
    for (size_t i = 0; i < in.size(); i += 4) {
        size_t n = in.size() - i < 4 ? in.size() - i : 4;  // characters in this quantum
        uint32_t v = 0;
        for (size_t k = 0; k < 4; ++k) {
            int s = k < n ? sextet(in[i + k]) : 0;
            if (s < 0) return false;
            v = v << 6 | static_cast<uint32_t>(s);
        }
        size_t bytes = n - 1;  // 4 chars -> 3 bytes, 3 -> 2, 2 -> 1
        if (bytes < 3 && (v & ((1u << (8 * (3 - bytes))) - 1)) != 0) return false;
        for (size_t k = 0; k < bytes; ++k) *out += static_cast<char>(v >> (16 - 8 * k));
    }
    return true;
}

void check_decode(std::string_view text) {
    const std::string prefix = "kept";  // bytes `out` held before: must survive either way
    std::string out = prefix, ref;
    bool ok = base64_decode(text, out);
    bool ref_ok = reference_decode(text, &ref);
    CHECK(ok == ref_ok);
    if (ok) {
        CHECK(out == prefix + ref);
        CHECK(ref.size() <= text.size() / 4 * 3 + 2);
    } else {
        CHECK(out == prefix);
    }
}

void check_round_trip(std::string_view bytes) {
    for (bool pad : {true, false}) {
        std::string text = reference_encode(bytes, pad), out;
        CHECK(base64_decode(text, out));
        CHECK(out == bytes);
        if (text.empty()) continue;
        // Spoil one character (chosen by the data) with a byte outside the alphabet.
        std::string bad = text;
        size_t at = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]) % bad.size();
        bad[at] = bytes.size() > 1 && static_cast<uint8_t>(bytes[1]) & 1 ? '\n' : '*';
        out = "x";
        CHECK(!base64_decode(bad, out));
        CHECK(out == "x");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    // An exact-size heap copy: ASan catches any read past the end.
    std::vector<char> in(data + 1, data + size);
    std::string_view view(in.data(), in.size());
    if (data[0] & 1) {
        check_round_trip(view);
    } else {
        check_decode(view);
    }
    return 0;
}
