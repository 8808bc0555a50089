// HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1), decoded in place.
//
// Return contract (as parse_http_request):
//   >= 0              the whole chunked body (last chunk, trailers, final CRLF) is in
//                     buf[0..return); the decoded body now sits in buf[0..*body_len)
//   kHttpIncomplete   need more bytes; buf is untouched, call again with the longer buffer
//   kHttpError        malformed (*status = 400); decoded bytes plus trailer bytes over max_body
//                     (*status = 413); the trailer section over kMaxChunkedTrailers (*status = 431)
// Chunk extensions are skipped; trailer fields are read and dropped. Trailers are bounded in
// total, not per line: an endless stream of short trailer lines is an error at 8 KiB, not a
// gigabyte held for a request that never ends; and they count against max_body like data.
//
// Resuming: a body that arrives in many reads would be scanned from its start on every call
// (quadratic in its length). Pass the same ChunkedScan with each longer buffer (the earlier
// bytes unchanged) and a call starts where the previous incomplete one stopped, at the last
// chunk-size or trailer line it had not finished. Sizes are 64-bit.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/http_request.h"

namespace wspush::codec {

// The trailer section (every trailer line, not the final CRLF) may hold at most this many bytes,
// as much as a request head: trailers are header fields, and nothing here reads them.
constexpr size_t kMaxChunkedTrailers = 8 * 1024;

struct ChunkedScan {
    size_t pos = 0;          // start of the first line not yet read: a chunk-size or trailer line
    size_t total = 0;        // decoded bytes in the chunks before pos
    size_t trailers_at = 0;  // where the trailer section starts; 0 while still in the chunks
};

// body_len == nullptr: check only. The answer is the same, but a complete body is left where
// it is (not compacted) and scan is not advanced past the last incomplete stop, so a later
// call with body_len (and the same scan) finishes the job.
long decode_chunked(uint8_t* buf, size_t len, size_t max_body, size_t* body_len, int* status,
                    ChunkedScan* scan = nullptr);

}  // namespace wspush::codec
