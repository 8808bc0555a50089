// libFuzzer target for parse_http_request + check_upgrade + the response writers, and what
// the engine asks of every parsed head: body_framing (smuggling shapes) and the Origin
// allowlist (the request's Origin against a fixed list, and the Origin parsed as a list).
// Input: byte 0 sets max_head (64 + 32 * b), bytes 1-2 a cut point; the rest is the request.
// Invariants (abort on violation): the result is <= len; every view lies inside the input;
// fed in two pieces with last_len, the answer equals the one-piece answer; a 101 is only
// produced for a request that has the required fields; writers never exceed their cap.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "codec/handshake.h"
#include "codec/http_body_framing.h"
#include "codec/http_request.h"
#include "codec/origin_allowlist.h"

using namespace wspush::codec;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

void check_inside(std::string_view v, const char* buf, size_t len) {
    if (v.empty()) return;
    CHECK(v.data() >= buf && v.data() + v.size() <= buf + len);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    size_t max_head = 64 + 32 * size_t(data[0]);
    // An exact-size heap copy: ASan catches any read past the end.
    std::vector<char> buf(data + 3, data + size);
    const char* p = buf.data();
    size_t len = buf.size();
    size_t cut = len ? (size_t(data[1]) << 8 | data[2]) % (len + 1) : 0;

    HttpRequest req;
    int status = 0;
    long rc = parse_http_request(p, len, 0, max_head, req, &status);
    CHECK(rc == kHttpIncomplete || rc == kHttpError || (rc > 0 && size_t(rc) <= len));
    if (rc == kHttpError) CHECK(status == 400 || status == 431 || status == 505);

    // The same bytes in two reads, resuming with last_len.
    HttpRequest req2;
    int status2 = 0;
    long rc2 = parse_http_request(p, cut, 0, max_head, req2, &status2);
    if (rc2 == kHttpIncomplete) rc2 = parse_http_request(p, len, cut, max_head, req2, &status2);
    CHECK(rc2 == rc);
    if (rc == kHttpError) CHECK(status2 == status);

    if (rc <= 0) return 0;
    check_inside(req.method, p, size_t(rc));
    check_inside(req.target, p, size_t(rc));
    for (size_t i = 0; i < req.num_headers; ++i) {
        check_inside(req.headers[i].name, p, size_t(rc));
        check_inside(req.headers[i].value, p, size_t(rc));
        CHECK(!req.headers[i].name.empty());
    }
    // Host: refused exactly when there are two or more, or none in HTTP/1.1.
    size_t hosts = 0;
    for (size_t i = 0; i < req.num_headers; ++i) hosts += ascii_iequals(req.headers[i].name, "Host");
    CHECK((host_field_problem(req) != nullptr) == (hosts > 1 || (hosts == 0 && req.minor_version >= 1)));
    BodyFraming framing;
    const char* why = nullptr;
    int fst = body_framing(req, &framing, &why);
    CHECK(fst == 0 || fst == 400 || fst == 501);
    if (fst != 0) CHECK(why != nullptr);
    if (fst == 0) {
        size_t lengths = 0, encodings = 0;
        for (size_t i = 0; i < req.num_headers; ++i) {
            lengths += ascii_iequals(req.headers[i].name, "Content-Length");
            encodings += ascii_iequals(req.headers[i].name, "Transfer-Encoding");
        }
        // Accepted: at most one framing header kind, never both, no coding in HTTP/1.0.
        CHECK(lengths <= 1 && !(lengths && encodings));
        CHECK(!(encodings && req.minor_version == 0));
        CHECK((framing.kind == BodyKind::Chunked) == (encodings > 0));
        CHECK(framing.kind != BodyKind::Length || framing.length <= (uint64_t(1) << 44));
    }
    static const OriginAllowlist fixed = [] {
        OriginAllowlist l;
        std::string e;
        if (!l.parse("https://app.example.com, https://*.example.org:8443, null", &e)) abort();
        return l;
    }();
    std::string_view origin = req.header("Origin");
    if (fixed.allows(origin)) {
        CHECK(origin == "null" || (origin.size() > 8 && ascii_iequals(origin.substr(0, 8), "https://")));
        CHECK(origin.find('/', 8) == std::string_view::npos && origin.find('@') == std::string_view::npos);
    }
    OriginAllowlist parsed;
    std::string error;
    if (parsed.parse(origin, &error)) {
        CHECK(error.empty());
        (void)parsed.allows(req.header("Host"));
    } else {
        CHECK(!error.empty() && parsed.empty());
    }
    Upgrade up = check_upgrade(req);
    if (up.kind == UpgradeKind::WebSocket) {
        CHECK(req.method == "GET" && req.has_header("Host") && up.key.size() == 24);
        CHECK(req.header("Sec-WebSocket-Version") == "13");
        char out[512];
        size_t n = write_upgrade_response(out, sizeof(out), up, up.protocols.substr(0, 100));
        CHECK(n > 0 && n <= sizeof(out));
    } else if (up.kind == UpgradeKind::Reject) {
        CHECK(up.status == 400 || up.status == 405 || up.status == 426);
        char out[256];
        size_t n = write_http_response(out, sizeof(out), up.status, "text/plain", up.error);
        CHECK(n <= sizeof(out));
    }
    return 0;
}
