// Unsigned decimals written into and read from message payloads on the hot path: no locale,
// no allocation, no snprintf. parse_decimal() contract: returns the position after the digits,
// or nullptr when there is no digit at `p` or the number passes 2^64.
#pragma once
#include <cstdint>

namespace wsload {

inline char* write_decimal(char* out, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *out++ = tmp[--n];
    return out;
}

inline const char* parse_decimal(const char* p, const char* end, uint64_t& v) {
    if (p == end || *p < '0' || *p > '9') return nullptr;
    v = 0;
    for (; p != end && *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) return nullptr;
        v = v * 10 + static_cast<uint64_t>(*p - '0');
    }
    return p;
}

}  // namespace wsload
