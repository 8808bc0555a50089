// HTTP request parsing and the RFC 6455 4.2 opening handshake.
#include "codec/handshake.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/http_status.h"

namespace wspush::codec {
namespace {

const std::string kUpgrade =
    "GET /chat?room=1 HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// Views in the results point into the argument: callers keep the string alive.
struct Parsed {
    long rc;
    int status;
    HttpRequest req;
};

Parsed parse(const std::string& s, size_t max_head = kDefaultMaxHttpHead) {
    Parsed p;
    p.rc = parse_http_request(s.data(), s.size(), 0, max_head, p.req, &p.status);
    return p;
}

// Parses and classifies; rc must be the whole head.
Upgrade upgrade_of(const std::string& s) {
    Parsed p = parse(s);
    EXPECT_EQ(p.rc, long(s.size())) << s;
    return check_upgrade(p.req);
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
}

TEST(Handshake, ComputesRfcExampleAccept) {
    char accept[28];
    compute_accept("dGhlIHNhbXBsZSBub25jZQ==", accept);
    EXPECT_EQ(std::string(accept, 28), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, AcceptsRfcExampleRequestAndHandsUpFields) {
    Upgrade up = upgrade_of(kUpgrade);
    EXPECT_EQ(up.kind, UpgradeKind::WebSocket);
    EXPECT_EQ(up.status, 101);
    EXPECT_EQ(std::string(up.accept, 28), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(up.path, "/chat");
    EXPECT_EQ(up.query, "room=1");
    EXPECT_EQ(up.host, "server.example.com");
    EXPECT_EQ(up.origin, "http://example.com");
    EXPECT_EQ(up.protocols, "chat, superchat");
    EXPECT_EQ(up.extensions, "permessage-deflate");
}

TEST(Handshake, Writes101ResponseBytes) {
    Upgrade up = upgrade_of(kUpgrade);
    char out[512];
    size_t n = write_upgrade_response(out, sizeof(out), up, "chat");
    EXPECT_EQ(std::string(out, n),
              "HTTP/1.1 101 Switching Protocols\r\n"
              "Upgrade: websocket\r\n"
              "Connection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "Sec-WebSocket-Protocol: chat\r\n"
              "\r\n");
}

TEST(Handshake, ResponseWriterReturnsZeroWhenBufferTooSmall) {
    Upgrade up = upgrade_of(kUpgrade);
    char out[64];
    EXPECT_EQ(write_upgrade_response(out, sizeof(out), up), 0u);
    EXPECT_EQ(write_http_response(out, 10, 400, "text/plain", "bad"), 0u);
}

TEST(Handshake, Writes426WithSupportedVersion) {
    char out[256];
    size_t n = write_http_response(out, sizeof(out), 426, "", "");
    EXPECT_EQ(std::string(out, n),
              "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n"
              "Sec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n");
}

TEST(Handshake, WritesPlainResponseWithBody) {
    char out[256];
    size_t n = write_http_response(out, sizeof(out), 200, "text/plain", "ok", "X-A: b\r\n", true);
    EXPECT_EQ(std::string(out, n),
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nX-A: b\r\n\r\nok");
}

TEST(Handshake, Writes204WithoutContentLengthOrBody) {
    char out[256];
    size_t n = write_http_response(out, sizeof(out), 204, "", "ignored", "", true);
    EXPECT_EQ(std::string(out, n), "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(Handshake, FramesAfterHeadAreNotConsumed) {
    std::string wire = kUpgrade + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    Parsed p = parse(wire);
    EXPECT_EQ(p.rc, long(kUpgrade.size()));
    EXPECT_EQ(wire.substr(size_t(p.rc)), "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
}

TEST(Handshake, OneByteAtATimeFindsTheHeadExactlyOnce) {
    std::string wire = kUpgrade + "\x81\x80";
    HttpRequest req;
    int status = 0;
    size_t last = 0;
    long rc = kHttpIncomplete;
    size_t len = 0;
    for (len = 1; len <= wire.size(); ++len) {
        rc = parse_http_request(wire.data(), len, last, kDefaultMaxHttpHead, req, &status);
        if (rc != kHttpIncomplete) break;
        last = len;
    }
    ASSERT_EQ(rc, long(kUpgrade.size()));
    EXPECT_EQ(len, kUpgrade.size());
    EXPECT_EQ(check_upgrade(req).kind, UpgradeKind::WebSocket);
}

TEST(Handshake, AcceptsBareLfLineEndings) {
    std::string lf = "GET / HTTP/1.1\nHost: a\nUpgrade: websocket\nConnection: Upgrade\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n";
    EXPECT_EQ(upgrade_of(lf).kind, UpgradeKind::WebSocket);
}

TEST(Handshake, ConnectionAndUpgradeAreCaseInsensitiveTokenLists) {
    std::string s = replace(kUpgrade, "Connection: Upgrade", "connection: keep-alive, UPGRADE");
    s = replace(s, "Upgrade: websocket", "UPGRADE: h2c, WebSocket");
    EXPECT_EQ(upgrade_of(s).kind, UpgradeKind::WebSocket);
}

TEST(Handshake, HeaderHasTokenMatchesWholeTokensOnly) {
    EXPECT_TRUE(header_has_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(header_has_token(" Upgrade ", "upgrade"));
    EXPECT_FALSE(header_has_token("keep-alive, Upgraded", "upgrade"));
    EXPECT_FALSE(header_has_token("", "upgrade"));
}

TEST(Handshake, PlainGetIsPlainHttp) {
    const std::string wire = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n";
    Upgrade up = upgrade_of(wire);
    EXPECT_EQ(up.kind, UpgradeKind::PlainHttp);
    EXPECT_EQ(up.status, 200);
    EXPECT_EQ(up.path, "/health");
}

TEST(Handshake, PostWithBodyLeavesBodyUnconsumed) {
    std::string head = "POST /push?uid=7 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
    const std::string wire = head + "hello";
    Parsed p = parse(wire);
    EXPECT_EQ(p.rc, long(head.size()));
    EXPECT_EQ(p.req.method, "POST");
    EXPECT_EQ(p.req.path, "/push");
    EXPECT_EQ(p.req.query, "uid=7");
    EXPECT_EQ(p.req.header("content-length"), "5");
    EXPECT_EQ(check_upgrade(p.req).kind, UpgradeKind::PlainHttp);
}

TEST(Handshake, RejectsUpgradeWithPostAs405) {
    Upgrade up = upgrade_of(replace(kUpgrade, "GET", "POST"));
    EXPECT_EQ(up.kind, UpgradeKind::Reject);
    EXPECT_EQ(up.status, 405);
}

TEST(Handshake, RejectsOtherVersionAs426) {
    Upgrade up = upgrade_of(replace(kUpgrade, "Version: 13", "Version: 8"));
    EXPECT_EQ(up.kind, UpgradeKind::Reject);
    EXPECT_EQ(up.status, 426);
}

TEST(Handshake, RejectsMissingVersionAs400) {
    EXPECT_EQ(upgrade_of(replace(kUpgrade, "Sec-WebSocket-Version: 13\r\n", "")).status, 400);
}

TEST(Handshake, RejectsMissingHostAs400) {
    EXPECT_EQ(upgrade_of(replace(kUpgrade, "Host: server.example.com\r\n", "")).status, 400);
}

TEST(Handshake, RejectsConnectionWithoutUpgradeTokenAs400) {
    EXPECT_EQ(upgrade_of(replace(kUpgrade, "Connection: Upgrade", "Connection: keep-alive")).status, 400);
}

TEST(Handshake, RejectsMissingKeyAs400) {
    EXPECT_EQ(upgrade_of(replace(kUpgrade, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")).status,
              400);
}

TEST(Handshake, RejectsKeyThatIsNotBase64) {
    EXPECT_EQ(upgrade_of(replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZ!==")).status,
              400);
}

TEST(Handshake, RejectsKeyThatIsNot16Bytes) {
    // base64 of 15 and 17 bytes, and a non-canonical last character.
    for (const char* key : {"dGhlIHNhbXBsZSBub25j", "dGhlIHNhbXBsZSBub25jZQE=", "dGhlIHNhbXBsZSBub25jZR=="}) {
        EXPECT_EQ(upgrade_of(replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", key)).status, 400) << key;
    }
}

TEST(Handshake, RejectsRepeatedKey) {
    std::string s = replace(kUpgrade, "Origin:", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nOrigin:");
    EXPECT_EQ(upgrade_of(s).status, 400);
}

TEST(Handshake, RejectsHttp10UpgradeAs400) {
    EXPECT_EQ(upgrade_of(replace(kUpgrade, "HTTP/1.1", "HTTP/1.0")).status, 400);
}

// --- Host fields (RFC 9112 3.2) ---------------------------------------------------------

TEST(HttpRequest, HostMustBeThereOnceInHttp11AndAtMostOnceInHttp10) {
    struct Case {
        const char* head;
        const char* problem;  // nullptr: fine
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", nullptr},
        {"GET / HTTP/1.1\r\nhOST: a\r\n\r\n", nullptr},
        {"GET / HTTP/1.1\r\nHost:\r\n\r\n", nullptr},  // present, empty: the loopback check's concern
        {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 requires a Host header"},
        {"GET / HTTP/1.1\r\nX-Host: a\r\nHosts: b\r\n\r\n", "HTTP/1.1 requires a Host header"},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "more than one Host header"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhost: b\r\n\r\n", "more than one Host header"},
        {"GET / HTTP/1.0\r\n\r\n", nullptr},
        {"GET / HTTP/1.0\r\nHost: a\r\n\r\n", nullptr},
        {"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host header"},
    };
    for (const Case& c : cases) {
        const std::string head = c.head;  // the request's views point into it
        Parsed p = parse(head);
        ASSERT_GT(p.rc, 0) << c.head;
        const char* got = host_field_problem(p.req);
        if (c.problem) {
            ASSERT_NE(got, nullptr) << c.head;
            EXPECT_STREQ(got, c.problem) << c.head;
        } else {
            EXPECT_EQ(got, nullptr) << c.head;
        }
    }
}

// --- parse_http_request rejections -----------------------------------------------------

TEST(HttpRequest, IncompleteHeadNeedsMore) {
    EXPECT_EQ(parse(kUpgrade.substr(0, kUpgrade.size() - 1)).rc, kHttpIncomplete);
}

TEST(HttpRequest, RejectsHeadOverLimitAs431) {
    Parsed p = parse(kUpgrade, 100);
    EXPECT_EQ(p.rc, kHttpError);
    EXPECT_EQ(p.status, 431);
}

TEST(HttpRequest, RejectsUnfinishedHeadOverLimitAs431) {
    Parsed p = parse(std::string("GET / HTTP/1.1\r\nX: ") + std::string(200, 'a'), 100);
    EXPECT_EQ(p.rc, kHttpError);
    EXPECT_EQ(p.status, 431);
}

TEST(HttpRequest, RejectsTooManyHeadersAs431) {
    std::string s = "GET / HTTP/1.1\r\n";
    for (size_t i = 0; i <= kMaxHttpHeaders; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
    Parsed p = parse(s + "\r\n");
    EXPECT_EQ(p.rc, kHttpError);
    EXPECT_EQ(p.status, 431);
}

TEST(HttpRequest, RejectsObsoleteLineFolding) {
    Parsed p = parse("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n");
    EXPECT_EQ(p.rc, kHttpError);
    EXPECT_EQ(p.status, 400);
}

TEST(HttpRequest, RejectsInvalidHeaderNameChar) {
    for (const char* line : {"X A: v", "X(A): v", "X-A : v", ": v", "X\"A: v"}) {
        Parsed p = parse(std::string("GET / HTTP/1.1\r\n") + line + "\r\n\r\n");
        EXPECT_EQ(p.rc, kHttpError) << line;
        EXPECT_EQ(p.status, 400) << line;
    }
}

TEST(HttpRequest, RejectsControlCharInValue) {
    for (char c : {'\x01', '\x7f', '\r', '\0'}) {
        std::string s = std::string("GET / HTTP/1.1\r\nX-A: a") + c + "b\r\n\r\n";
        Parsed p = parse(s);
        EXPECT_EQ(p.rc, kHttpError) << int(c);
        EXPECT_EQ(p.status, 400) << int(c);
    }
}

TEST(HttpRequest, TrimsValueWhitespaceAndKeepsObsText) {
    const std::string wire = "GET / HTTP/1.1\r\nX-A: \t caf\xc3\xa9 \t\r\nX-Empty:\r\n\r\n";
    Parsed p = parse(wire);
    ASSERT_GT(p.rc, 0);
    EXPECT_EQ(p.req.header("x-a"), "caf\xc3\xa9");
    EXPECT_TRUE(p.req.has_header("X-EMPTY"));
    EXPECT_EQ(p.req.header("x-empty"), "");
    EXPECT_FALSE(p.req.has_header("X-Missing"));
}

TEST(HttpRequest, RejectsMalformedRequestLine) {
    for (const char* line : {"GET /", "GET  / HTTP/1.1", "GET / HTTP/1.1 x", "/ HTTP/1.1", "GET / HTTX/1.1",
                             "GET / HTTP/1", "G(T / HTTP/1.1", "GET /a\x01 HTTP/1.1"}) {
        Parsed p = parse(std::string(line) + "\r\nHost: a\r\n\r\n");
        EXPECT_EQ(p.rc, kHttpError) << line;
        EXPECT_EQ(p.status, 400) << line;
    }
}

TEST(HttpRequest, RejectsHttp2As505) {
    Parsed p = parse("GET / HTTP/2.0\r\n\r\n");
    EXPECT_EQ(p.rc, kHttpError);
    EXPECT_EQ(p.status, 505);
}

TEST(HttpStatus, ReasonPhrases) {
    EXPECT_STREQ(http_reason(101), "Switching Protocols");
    EXPECT_STREQ(http_reason(431), "Request Header Fields Too Large");
    EXPECT_STREQ(http_reason(999), "Unknown");
}

}  // namespace
}  // namespace wspush::codec
