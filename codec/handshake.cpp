// Opening handshake, RFC 6455 section 4.2: classify a parsed request, compute the accept
// key, write the answers. The checks run in the order RFC 6455 4.2.1 lists the fields, so a
// request with several faults always gets the same answer.
#include "codec/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstring>

#include "codec/http_status.h"

namespace wspush::codec {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // 4.2.2 step 5.4

size_t base64_encode(const uint8_t* in, size_t len, char* out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
        out[o++] = kBase64[v >> 18];
        out[o++] = kBase64[(v >> 12) & 63];
        out[o++] = kBase64[(v >> 6) & 63];
        out[o++] = kBase64[v & 63];
    }
    if (i < len) {
        uint32_t v = uint32_t(in[i]) << 16 | (i + 1 < len ? uint32_t(in[i + 1]) << 8 : 0);
        out[o++] = kBase64[v >> 18];
        out[o++] = kBase64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? kBase64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

int base64_value(char c) {
    const char* p = c ? strchr(kBase64, c) : nullptr;
    return p ? int(p - kBase64) : -1;
}

// 4.2.1 item 5: the key is the base64 of 16 bytes: 22 characters and "==". The last
// character carries only 2 data bits, so its low 4 bits must be zero (canonical encoding).
bool is_valid_key(std::string_view key) {
    if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
    for (size_t i = 0; i < 22; ++i)
        if (base64_value(key[i]) < 0) return false;
    return (base64_value(key[21]) & 0xF) == 0;
}

size_t count_headers(const HttpRequest& req, std::string_view name) {
    size_t n = 0;
    for (size_t i = 0; i < req.num_headers; ++i) n += ascii_iequals(req.headers[i].name, name);
    return n;
}

Upgrade reject(Upgrade up, int status, const char* why) {
    up.kind = UpgradeKind::Reject;
    up.status = status;
    up.error = why;
    return up;
}

// Appends s to out[0..cap) at *pos; false when it does not fit.
bool put(char* out, size_t cap, size_t* pos, std::string_view s) {
    if (cap - *pos < s.size()) return false;
    if (!s.empty()) memcpy(out + *pos, s.data(), s.size());  // empty views may hold nullptr
    *pos += s.size();
    return true;
}

}  // namespace

void compute_accept(std::string_view key, char out[28]) {
    uint8_t digest[SHA_DIGEST_LENGTH];
    char joined[128];
    if (key.size() + sizeof(kGuid) <= sizeof(joined)) {
        // Every valid key (24 chars) takes this path: one-shot SHA1 on the stack.
        memcpy(joined, key.data(), key.size());
        memcpy(joined + key.size(), kGuid, sizeof(kGuid) - 1);
        SHA1(reinterpret_cast<const uint8_t*>(joined), key.size() + sizeof(kGuid) - 1, digest);
    } else {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
        EVP_DigestUpdate(ctx, key.data(), key.size());
        EVP_DigestUpdate(ctx, kGuid, sizeof(kGuid) - 1);
        EVP_DigestFinal_ex(ctx, digest, nullptr);
        EVP_MD_CTX_free(ctx);
    }
    base64_encode(digest, sizeof(digest), out);  // 20 bytes -> exactly 28 characters
}

Upgrade check_upgrade(const HttpRequest& req) {
    Upgrade up;
    up.path = req.path;
    up.query = req.query;
    up.host = req.header("Host");
    up.origin = req.header("Origin");
    up.protocols = req.header("Sec-WebSocket-Protocol");
    up.extensions = req.header("Sec-WebSocket-Extensions");
    up.key = req.header("Sec-WebSocket-Key");
    if (!header_has_token(req.header("Upgrade"), "websocket")) {
        up.kind = UpgradeKind::PlainHttp;
        up.status = kHttpOk;
        return up;
    }
    if (req.method != "GET") return reject(up, kHttpMethodNotAllowed, "WebSocket upgrade needs GET");
    if (req.minor_version < 1) return reject(up, kHttpBadRequest, "WebSocket upgrade needs HTTP/1.1");
    if (!req.has_header("Host")) return reject(up, kHttpBadRequest, "missing Host");
    if (!header_has_token(req.header("Connection"), "Upgrade"))
        return reject(up, kHttpBadRequest, "Connection header lacks Upgrade");
    if (count_headers(req, "Sec-WebSocket-Key") != 1)
        return reject(up, kHttpBadRequest, "missing or repeated Sec-WebSocket-Key");
    if (!is_valid_key(up.key))
        return reject(up, kHttpBadRequest, "Sec-WebSocket-Key is not base64 of 16 bytes");
    if (!req.has_header("Sec-WebSocket-Version"))
        return reject(up, kHttpBadRequest, "missing Sec-WebSocket-Version");
    if (count_headers(req, "Sec-WebSocket-Version") != 1 || req.header("Sec-WebSocket-Version") != "13")
        return reject(up, kHttpUpgradeRequired, "unsupported Sec-WebSocket-Version");
    up.kind = UpgradeKind::WebSocket;
    up.status = kHttpSwitchingProtocols;
    compute_accept(up.key, up.accept);
    return up;
}

size_t write_upgrade_response(char* out, size_t cap, const Upgrade& up, std::string_view protocol,
                              std::string_view extensions) {
    size_t pos = 0;
    bool ok = put(out, cap, &pos,
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: ") &&
              put(out, cap, &pos, {up.accept, sizeof(up.accept)}) && put(out, cap, &pos, "\r\n");
    if (ok && !protocol.empty())
        ok = put(out, cap, &pos, "Sec-WebSocket-Protocol: ") && put(out, cap, &pos, protocol) &&
             put(out, cap, &pos, "\r\n");
    if (ok && !extensions.empty())
        ok = put(out, cap, &pos, "Sec-WebSocket-Extensions: ") && put(out, cap, &pos, extensions) &&
             put(out, cap, &pos, "\r\n");
    ok = ok && put(out, cap, &pos, "\r\n");
    return ok ? pos : 0;
}

size_t write_http_response(char* out, size_t cap, int status, std::string_view content_type,
                           std::string_view body, std::string_view extra_headers, bool keep_alive) {
    char line[96];
    // RFC 9110 8.6: a 204 carries no Content-Length (and no body).
    int n = status == kHttpNoContent
                ? snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, http_reason(status))
                : snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n", status,
                           http_reason(status), body.size());
    if (status == kHttpNoContent) body = {};
    size_t pos = 0;
    bool ok = put(out, cap, &pos, {line, size_t(n)});
    if (ok && !content_type.empty())
        ok = put(out, cap, &pos, "Content-Type: ") && put(out, cap, &pos, content_type) &&
             put(out, cap, &pos, "\r\n");
    // RFC 6455 4.4: a 426 names the versions we speak. Added here so no caller can forget it.
    if (ok && status == kHttpUpgradeRequired &&
        extra_headers.find("Sec-WebSocket-Version") == std::string_view::npos)
        ok = put(out, cap, &pos, "Sec-WebSocket-Version: 13\r\n");
    ok = ok && put(out, cap, &pos, extra_headers);
    if (ok && !keep_alive) ok = put(out, cap, &pos, "Connection: close\r\n");
    ok = ok && put(out, cap, &pos, "\r\n") && put(out, cap, &pos, body);
    return ok ? pos : 0;
}

}  // namespace wspush::codec
