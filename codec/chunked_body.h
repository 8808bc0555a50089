// HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1), decoded in place.
//
// Return contract (as parse_http_request):
//   >= 0              the whole chunked body (last chunk, trailers, final CRLF) is in
//                     buf[0..return); the decoded body now sits in buf[0..*body_len)
//   kHttpIncomplete   need more bytes; buf is untouched, call again with the longer buffer
//   kHttpError        malformed (*status = 400) or decoded size over max_body (*status = 413)
// Chunk extensions are skipped; trailer fields are read and dropped.
//
// Resuming: a body that arrives in many reads would be scanned from its start on every call
// (quadratic in its length). Pass the same ChunkedScan with each longer buffer (the earlier
// bytes unchanged) and a call starts where the previous incomplete one stopped, at the last
// chunk-size or trailer line it had not finished. Buffers up to 4 GiB.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/http_request.h"

namespace wspush::codec {

struct ChunkedScan {
    uint32_t pos = 0;      // start of the first line not yet read: a chunk-size or trailer line
    uint32_t total = 0;    // decoded bytes in the chunks before pos
    bool trailers = false;  // pos is in the trailer section
};

// body_len == nullptr: check only. The answer is the same, but a complete body is left where
// it is (not compacted) and scan is not advanced past the last incomplete stop, so a later
// call with body_len (and the same scan) finishes the job.
long decode_chunked(uint8_t* buf, size_t len, size_t max_body, size_t* body_len, int* status,
                    ChunkedScan* scan = nullptr);

}  // namespace wspush::codec
