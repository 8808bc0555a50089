#include "tools/wsload/client_handshake.h"

#include <cstdio>
#include <cstring>
#include <string_view>

#include "codec/handshake.h"

namespace wsload {
namespace {

constexpr size_t kMaxResponseHeader = 8192;

// 16 key bytes from a splitmix64 of the index, base64-encoded: 24 characters.
void key_for(uint32_t index, char out[24]) {
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[18] = {};
    uint64_t x = index + 0x9E3779B97F4A7C15ull;
    for (int half = 0; half < 2; half++) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        memcpy(raw + half * 8, &z, 8);
    }
    for (int i = 0; i < 6; i++) {  // 18 bytes (16 + 2 zero pad) -> 24 chars, last 2 are '='
        uint32_t v = (raw[i * 3] << 16) | (raw[i * 3 + 1] << 8) | raw[i * 3 + 2];
        out[i * 4 + 0] = alphabet[(v >> 18) & 63];
        out[i * 4 + 1] = alphabet[(v >> 12) & 63];
        out[i * 4 + 2] = alphabet[(v >> 6) & 63];
        out[i * 4 + 3] = alphabet[v & 63];
    }
    out[22] = out[23] = '=';
}

bool header_name_is(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (size_t i = 0; i < name.size(); i++) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (c != name[i]) return false;
    }
    return true;
}

}  // namespace

size_t write_handshake_request(char* out, size_t cap, std::string_view host, uint16_t port,
                               uint32_t global_index, std::string_view target) {
    char key[24];
    key_for(global_index, key);
    int n = snprintf(out, cap,
                     "GET %.*s HTTP/1.1\r\nHost: %.*s:%u\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %.24s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     static_cast<int>(target.size()), target.data(), static_cast<int>(host.size()), host.data(),
                     port, key);
    return n > 0 && static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : 0;
}

long check_handshake_response(const char* data, size_t len, uint32_t global_index) {
    std::string_view text(data, len);
    size_t end = text.find("\r\n\r\n");
    if (end == std::string_view::npos)
        return len > kMaxResponseHeader ? -kHandshakeTooLong : 0;
    std::string_view head = text.substr(0, end + 2);
    if (head.substr(0, 13) == "HTTP/1.1 503 ") return -kHandshakeServiceUnavailable;
    if (head.substr(0, 13) != "HTTP/1.1 101 ") return -kHandshakeBadStatus;

    char key[24], expected[28];
    key_for(global_index, key);
    wspush::codec::compute_accept(std::string_view(key, 24), expected);
    size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
        size_t eol = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, eol - pos);
        if (header_name_is(line, "sec-websocket-accept")) {
            std::string_view value = line.substr(21);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.remove_suffix(1);
            if (value == std::string_view(expected, 28)) return static_cast<long>(end + 4);
            return -kHandshakeBadAccept;
        }
        pos = eol + 2;
    }
    return -kHandshakeBadAccept;
}

}  // namespace wsload
