// The client side of the opening handshake, RFC 6455 section 4.1.
//
// Each connection's Sec-WebSocket-Key is derived from its global index, so the expected
// Sec-WebSocket-Accept is recomputed when the answer comes instead of being stored per
// connection (28 bytes x 100k connections saved).
//
// check_handshake_response() contract:
//   > 0  the response is complete and valid: bytes of HTTP header consumed (frames may follow)
//     0  incomplete: keep the bytes and read more
//   < 0  a HandshakeError (negated)
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsload {

enum HandshakeError : int {
    kHandshakeBadStatus = 1,       // not 101 (and not 503)
    kHandshakeServiceUnavailable,  // 503: the server is at --max-conns
    kHandshakeBadAccept,           // Sec-WebSocket-Accept missing or wrong
    kHandshakeTooLong,             // no end of header within 8 KB
};

// Writes the GET request for `target` ("/" or "/?token=...") into out (at least 256 bytes
// plus the target). Returns its length, 0 when it does not fit.
size_t write_handshake_request(char* out, size_t cap, std::string_view host, uint16_t port,
                               uint32_t global_index, std::string_view target = "/");

long check_handshake_response(const char* data, size_t len, uint32_t global_index);

}  // namespace wsload
