#include "codec/http_body_framing.h"

#include "codec/http_status.h"

namespace wspush::codec {

namespace {

// 1*DIGIT and nothing else (no sign, no list, no spaces); caps at 2^40 to stay clear of overflow.
bool parse_length(std::string_view v, uint64_t* n) {
    if (v.empty()) return false;
    uint64_t x = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '9' || x > (uint64_t(1) << 40)) return false;
        x = x * 10 + static_cast<uint64_t>(ch - '0');
    }
    *n = x;
    return true;
}

// Walks the codings of every Transfer-Encoding field in order (a list may be split over
// several fields, RFC 9110 5.3). Empty list elements are skipped (RFC 9110 5.6.1).
int check_codings(const HttpRequest& req, const char** why) {
    size_t codings = 0, chunked = 0;
    bool last_chunked = false, unknown = false;
    for (size_t i = 0; i < req.num_headers; ++i) {
        if (!ascii_iequals(req.headers[i].name, "Transfer-Encoding")) continue;
        for_each_list_item(req.headers[i].value, [&](std::string_view item) {
            ++codings;
            last_chunked = ascii_iequals(item, "chunked");
            if (last_chunked) ++chunked;
            else unknown = true;
            return true;
        });
    }
    if (codings == 0) return *why = "empty Transfer-Encoding", kHttpBadRequest;
    if (!last_chunked) return *why = "Transfer-Encoding must end with chunked", kHttpBadRequest;
    if (chunked > 1) return *why = "chunked applied more than once", kHttpBadRequest;
    if (unknown) return *why = "unsupported Transfer-Encoding", kHttpNotImplemented;
    return 0;
}

}  // namespace

int body_framing(const HttpRequest& req, BodyFraming* out, const char** why) {
    *out = BodyFraming{};
    size_t lengths = 0, encodings = 0;
    std::string_view length;
    for (size_t i = 0; i < req.num_headers; ++i) {
        if (ascii_iequals(req.headers[i].name, "Content-Length")) {
            ++lengths;
            length = req.headers[i].value;
        } else if (ascii_iequals(req.headers[i].name, "Transfer-Encoding")) {
            ++encodings;
        }
    }
    if (lengths > 1) return *why = "more than one Content-Length", kHttpBadRequest;
    if (encodings > 0) {
        if (lengths > 0) return *why = "Content-Length with Transfer-Encoding", kHttpBadRequest;
        if (req.minor_version == 0) return *why = "Transfer-Encoding in an HTTP/1.0 request", kHttpBadRequest;
        if (int st = check_codings(req, why)) return st;
        out->kind = BodyKind::Chunked;
        return 0;
    }
    if (lengths == 1) {
        if (!parse_length(length, &out->length)) return *why = "bad Content-Length", kHttpBadRequest;
        out->kind = BodyKind::Length;
    }
    return 0;
}

}  // namespace wspush::codec
