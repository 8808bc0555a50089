// HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1), decoded in place.
//
// Return contract (as parse_http_request):
//   >= 0              the whole chunked body (last chunk, trailers, final CRLF) is in
//                     buf[0..return); the decoded body now sits in buf[0..*body_len)
//   kHttpIncomplete   need more bytes; buf is untouched, call again with the longer buffer
//   kHttpError        malformed (*status = 400) or decoded size over max_body (*status = 413)
// Chunk extensions are skipped; trailer fields are read and dropped.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/http_request.h"

namespace wspush::codec {

long decode_chunked(uint8_t* buf, size_t len, size_t max_body, size_t* body_len, int* status);

}  // namespace wspush::codec
