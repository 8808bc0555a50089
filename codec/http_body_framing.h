// What delimits a request's body (RFC 9112 section 6.3), refusing every shape that two HTTP
// implementations could read differently: request smuggling needs a proxy in front of us and
// us to disagree on where a request ends, so anything ambiguous is an error, not a guess.
//
// Return contract: 0 and *out filled, or the HTTP status to answer (and then close, since
// where the next request starts is unknown) with *why saying what was wrong:
//   400  two Content-Length fields (even equal ones), a Content-Length that is not 1*DIGIT,
//        Content-Length together with Transfer-Encoding, Transfer-Encoding in HTTP/1.0,
//        a Transfer-Encoding whose last coding is not chunked or that applies chunked twice
//   501  a final chunked after a coding we do not decode ("gzip, chunked")
// Pure: no allocation, O(headers).
#pragma once
#include <cstdint>

#include "codec/http_request.h"

namespace wspush::codec {

enum class BodyKind : uint8_t { None, Length, Chunked };

struct BodyFraming {
    BodyKind kind = BodyKind::None;
    uint64_t length = 0;  // BodyKind::Length: the Content-Length (at most 2^40)
};

int body_framing(const HttpRequest& req, BodyFraming* out, const char** why);

}  // namespace wspush::codec
