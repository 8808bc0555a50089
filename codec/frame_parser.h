// Incremental WebSocket frame parser, RFC 6455 section 5. Bytes in, whole messages out.
//
// The caller hands feed() whatever a read() returned, in any pieces. The parser unmasks in
// place and, when a whole single-frame message lies in the buffer it was given (the common
// case), hands the sink a pointer into that same buffer: no copy. Only a frame split across
// feeds, or a fragmented message, is copied into the parser's own spill buffer, allocated when
// first needed and freed when the message completes, so an idle connection holds no buffer.
//
// Return contract of feed(): FeedResult{consumed, close_code}
//   close_code == kCloseNone   every byte was consumed (consumed == len)
//   close_code == kStopped     the sink returned false; `consumed` bytes were used, stop reading
//   any other close_code       protocol violation: send a close frame with this code, stop reading
//                              (1002 protocol error, 1007 invalid UTF-8, 1009 message too big)
// After an error the parser stays failed: further feed() calls return the same code.
//
// Rules enforced (each a 1002 unless noted): masked-ness per FrameLimits::require_mask; RSV1
// only when allow_rsv1, RSV2/RSV3 never; reserved opcodes 3-7, B-F; control frames longer
// than 125 bytes or without FIN; continuation with no message started; a new Text/Binary frame
// while a message is unfinished; 64-bit length with the top bit set; a close payload of 1
// byte, or a code not valid on the wire; a close reason or a text message that is not UTF-8
// (1007, reported as soon as the invalid bytes arrive, even mid-message); a message whose
// total length, counted across fragments, passes max_message (1009, decided from the frame
// header before any of its payload is buffered).
// Control frames may arrive between the fragments of a message and are delivered at once.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/close_code.h"
#include "codec/opcode.h"
#include "codec/utf8.h"

namespace wspush::codec {

struct FrameLimits {
    uint64_t max_message = 1 << 20;  // bytes per message across fragments; beyond: 1009
    bool require_mask = true;        // true: server side, frames must be masked; false: client
                                     // side, frames must NOT be masked
    bool allow_rsv1 = false;         // permessage-deflate negotiated: RSV1 allowed on the first
                                     // frame of a data message (reported in on_message)
};

class FrameSink {
public:
    virtual ~FrameSink() = default;
    // A whole data message (Text or Binary), unmasked; Text is valid UTF-8. `data` is valid
    // only during the call and may be modified by the sink. `compressed` is the RSV1 bit of
    // the message's first frame. Return false to stop parsing (the connection is closing).
    virtual bool on_message(Opcode op, uint8_t* data, size_t len, bool compressed) = 0;
    // A Ping, Pong or Close frame's payload, unmasked. A Close payload has been checked: it is
    // empty or holds a valid code followed by UTF-8. Return false to stop parsing.
    virtual bool on_control(Opcode op, uint8_t* data, size_t len) = 0;
};

constexpr uint16_t kStopped = 1;  // FeedResult::close_code when the sink asked to stop

struct FeedResult {
    size_t consumed;
    uint16_t close_code;  // kCloseNone, kStopped, or the close code of a violation
};

class FrameParser {
public:
    FrameParser() = default;
    ~FrameParser();
    FrameParser(const FrameParser&) = delete;
    FrameParser& operator=(const FrameParser&) = delete;

    FeedResult feed(uint8_t* data, size_t len, const FrameLimits& limits, FrameSink& sink);

    // True when no partial frame or message is held (nothing buffered).
    bool idle() const;
    // Bytes held in the spill buffer (for memory accounting).
    size_t buffered_bytes() const;
    // Frees the spill buffer and forgets any partial frame or error.
    void reset();

private:
    // Kept small: it lives inside every connection. The layout is the implementer's choice,
    // within the static_assert in frame_parser.cpp (sizeof(FrameParser) <= 48).
    uint8_t* spill_ = nullptr;     // partial frame payload / fragmented message, or null
    uint32_t spill_len_ = 0;
    uint32_t spill_cap_ = 0;
    uint64_t remaining_ = 0;       // payload bytes still to come in the current frame
    uint32_t message_len_ = 0;     // bytes of the current message so far (<= max_message)
    uint8_t mask_[4] = {};
    uint8_t mask_phase_ = 0;
    uint8_t header_len_ = 0;       // bytes of a partial header held in header_
    uint8_t header_[14] = {};
    uint8_t state_ = 0;            // implementation-defined
    uint8_t flags_ = 0;            // implementation-defined (message opcode, fin, rsv1, failed)
    uint16_t error_ = 0;
    Utf8Stream utf8_;              // incremental UTF-8 state of the current text message
};

}  // namespace wspush::codec
