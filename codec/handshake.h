// The WebSocket opening handshake, RFC 6455 section 4.2, on top of parse_http_request.
//
// check_upgrade() classifies a parsed request:
//   UpgradeKind::WebSocket  a valid version-13 upgrade; `accept` holds Sec-WebSocket-Accept
//   UpgradeKind::PlainHttp  no Upgrade: websocket header at all (a page, a health check, an API
//                           call): the caller answers it as plain HTTP, whatever the method
//   UpgradeKind::Reject     an upgrade attempt that is wrong; answer `status` (400, 405, 426)
//                           with write_http_response(); 426 must carry Sec-WebSocket-Version: 13
#pragma once
#include <cstddef>
#include <string_view>

#include "codec/http_request.h"

namespace wspush::codec {

enum class UpgradeKind { WebSocket, PlainHttp, Reject };

struct Upgrade {
    UpgradeKind kind = UpgradeKind::Reject;
    int status = 400;             // 101 for WebSocket; the answer for Reject; 200 for PlainHttp
    const char* error = "";       // for Reject: a short human-readable reason ("missing Sec-WebSocket-Key")
    std::string_view path, query; // from the request, for routing and auth
    std::string_view host, origin;
    std::string_view protocols;   // Sec-WebSocket-Protocol as offered (token list), may be empty
    std::string_view extensions;  // Sec-WebSocket-Extensions as offered, may be empty
    std::string_view key;         // Sec-WebSocket-Key
    char accept[28] = {};         // base64(SHA-1(key + GUID)), not NUL-terminated
};

Upgrade check_upgrade(const HttpRequest& req);

// Sec-WebSocket-Accept for a key (RFC 6455 4.2.2 step 5.4): 28 base64 characters into out.
void compute_accept(std::string_view key, char out[28]);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection, Sec-WebSocket-Accept and, when
// not empty, Sec-WebSocket-Protocol / Sec-WebSocket-Extensions. Returns bytes written, 0 if
// cap is too small.
size_t write_upgrade_response(char* out, size_t cap, const Upgrade& up,
                              std::string_view protocol = {}, std::string_view extensions = {});

// A complete HTTP/1.1 response with Content-Length. `extra_headers` is zero or more full
// "Name: value\r\n" lines. keep_alive=false adds "Connection: close". Returns bytes written,
// 0 if cap is too small.
size_t write_http_response(char* out, size_t cap, int status, std::string_view content_type,
                           std::string_view body, std::string_view extra_headers = {},
                           bool keep_alive = false);

}  // namespace wspush::codec
