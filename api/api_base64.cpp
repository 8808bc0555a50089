#include "api/api_base64.h"

#include <array>
#include <cstdint>

namespace wspush::api {

namespace {

constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> make_table() {
    std::array<uint8_t, 256> t{};
    for (auto& v : t) v = kInvalid;
    constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (uint8_t i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = i;
    return t;
}
constexpr std::array<uint8_t, 256> kTable = make_table();

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
    // Strip up to two '=' of padding; then the length must be 4k, 4k+2 or 4k+3.
    size_t n = in.size();
    if (n % 4 == 0 && n >= 1 && in[n - 1] == '=') --n;
    if (n % 4 == 3 && n + 1 == in.size() && in[n - 1] == '=') --n;
    if (n % 4 == 1) return false;
    size_t base = out.size();
    out.resize(base + n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
    char* dst = out.data() + base;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; ++i) {
        uint8_t v = kTable[static_cast<uint8_t>(in[i])];
        if (v == kInvalid) {
            out.resize(base);
            return false;
        }
        acc = acc << 6 | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *dst++ = static_cast<char>(acc >> bits);
        }
    }
    // Leftover bits of the last quantum must be zero (RFC 4648 3.5: canonical encoding).
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        out.resize(base);
        return false;
    }
    return true;
}

}  // namespace wspush::api
