#include "codec/chunked_body.h"

#include <cstring>

namespace wspush::codec {

namespace {

int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Finds the end of the line starting at p (index just past '\n'), or 0 when no '\n' yet.
size_t line_end(const uint8_t* buf, size_t p, size_t len) {
    if (p >= len) return 0;  // (memchr on a null buffer of length 0 is undefined)
    const void* nl = memchr(buf + p, '\n', len - p);
    return nl ? static_cast<size_t>(static_cast<const uint8_t*>(nl) - buf) + 1 : 0;
}

}  // namespace

// Two passes: the first only reads (so an incomplete body leaves buf as it was and the caller
// can simply call again), the second moves each chunk's data down into place. The first pass
// can resume (scan): it stops only at the start of a line, where nothing before is pending.
long decode_chunked(uint8_t* buf, size_t len, size_t max_body, size_t* body_len, int* status, ChunkedScan* scan) {
    size_t p = scan ? scan->pos : 0, total = scan ? scan->total : 0;
    size_t trailers_at = scan ? scan->trailers_at : 0;
    // Incomplete: remember the line start p0 and the total before it.
    auto incomplete = [&](size_t p0, size_t total0) {
        if (scan) *scan = ChunkedScan{p0, total0, trailers_at};
        return kHttpIncomplete;
    };
    if (trailers_at == 0) {
        for (;;) {
            // chunk-size [; extensions] CRLF
            const size_t p0 = p, total0 = total;
            size_t eol = line_end(buf, p, len);
            if (eol == 0) return len - p > 1024 ? (*status = 400, kHttpError) : incomplete(p0, total0);
            uint64_t size = 0;
            size_t q = p, digits = 0;
            for (int v; q < eol && (v = hex_value(buf[q])) >= 0; ++q, ++digits) {
                if (size > (uint64_t(1) << 40)) return *status = 413, kHttpError;
                size = size * 16 + static_cast<uint64_t>(v);
            }
            if (digits == 0 || (buf[q] != ';' && buf[q] != '\r' && buf[q] != '\n' && buf[q] != ' ' && buf[q] != '\t'))
                return *status = 400, kHttpError;
            p = eol;
            if (size == 0) {
                trailers_at = p;
                break;
            }
            if (total + size > max_body) return *status = 413, kHttpError;
            total += size;
            if (len - p < size + 1) return incomplete(p0, total0);
            p += size;
            if (buf[p] == '\r') {
                if (len - p < 2) return incomplete(p0, total0);
                if (buf[p + 1] != '\n') return *status = 400, kHttpError;
                p += 2;
            } else if (buf[p] == '\n') {
                p += 1;
            } else {
                return *status = 400, kHttpError;
            }
        }
    }
    // Trailer fields, then an empty line. Bounded in total (the bytes since trailers_at), so
    // the check also sees a trailer line still without its '\n'.
    auto trailers_too_big = [&](size_t upto) {
        const size_t bytes = upto - trailers_at;
        if (total + bytes > max_body) return *status = 413, true;
        if (bytes > kMaxChunkedTrailers) return *status = 431, true;
        return false;
    };
    for (;;) {
        size_t eol = line_end(buf, p, len);
        if (eol == 0) return trailers_too_big(len) ? kHttpError : incomplete(p, total);
        size_t line_len = eol - p;
        if (line_len == 1 || (line_len == 2 && buf[eol - 2] == '\r')) {
            p = eol;
            break;
        }
        if (trailers_too_big(eol)) return kHttpError;
        p = eol;
    }
    const size_t wire = p;
    if (!body_len) return static_cast<long>(wire);  // check only
    // Second pass: compact.
    size_t in = 0, out = 0;
    for (;;) {
        size_t eol = line_end(buf, in, wire);
        uint64_t size = 0;
        for (size_t q = in; q < eol; ++q) {
            int v = hex_value(buf[q]);
            if (v < 0) break;
            size = size * 16 + static_cast<uint64_t>(v);
        }
        in = eol;
        if (size == 0) break;
        memmove(buf + out, buf + in, size);
        out += size;
        in += size;
        in += buf[in] == '\r' ? 2 : 1;
    }
    *body_len = out;
    return static_cast<long>(wire);
}

}  // namespace wspush::codec
