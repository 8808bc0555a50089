#include "auth/base64url.h"

#include <array>

namespace wspush::auth {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 for the alphabet, 0xFF for everything else (a 256-byte table: one load per character).
constexpr std::array<uint8_t, 256> make_table() {
    std::array<uint8_t, 256> t{};
    for (auto& v : t) v = 0xFF;
    for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
    return t;
}
constexpr std::array<uint8_t, 256> kTable = make_table();

}  // namespace

long base64url_decode(std::string_view in, uint8_t* out) {
    const size_t len = in.size();
    if (len % 4 == 1) return -1;  // 6 bits cannot end a byte
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    size_t o = 0, i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t a = kTable[p[i]], b = kTable[p[i + 1]], c = kTable[p[i + 2]], d = kTable[p[i + 3]];
        if ((a | b | c | d) & 0x80) return -1;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        out[o++] = static_cast<uint8_t>(v >> 16);
        out[o++] = static_cast<uint8_t>(v >> 8);
        out[o++] = static_cast<uint8_t>(v);
    }
    size_t rest = len - i;  // 0, 2 or 3
    if (rest >= 2) {
        uint32_t a = kTable[p[i]], b = kTable[p[i + 1]], c = rest == 3 ? kTable[p[i + 2]] : 0;
        if ((a | b | c) & 0x80) return -1;
        uint32_t v = a << 18 | b << 12 | c << 6;
        // Canonical: the bits after the last whole byte are zero.
        if (rest == 2 && (v & 0xFFFF)) return -1;
        if (rest == 3 && (v & 0xFF)) return -1;
        out[o++] = static_cast<uint8_t>(v >> 16);
        if (rest == 3) out[o++] = static_cast<uint8_t>(v >> 8);
    }
    return static_cast<long>(o);
}

void base64url_encode(const void* bytes, size_t len, std::string& out) {
    const auto* p = static_cast<const uint8_t*>(bytes);
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = uint32_t(p[i]) << 16;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
    }
}

}  // namespace wspush::auth
