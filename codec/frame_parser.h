// Incremental WebSocket frame parser, RFC 6455 section 5. Bytes in, whole messages out.
//
// The caller hands feed() whatever a read() returned, in any pieces. The parser unmasks in
// place and, when a whole single-frame message lies in the buffer it was given (the common
// case), hands the sink a pointer into that same buffer: no copy. Only a frame split across
// feeds, or a fragmented message, is copied into the parser's own spill buffer, allocated when
// first needed and freed when the message completes, so an idle connection holds no buffer.
// It grows by doubling, but never past the end of a message whose final frame has begun (its
// length is known): a single-frame message is held in exactly its length.
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
    // Kept small: it lives inside every connection. 48 bytes (static_assert in the .cpp).
    // A partial header and the current frame's (remaining, mask) are never needed at the
    // same time, so they share 16 bytes.
    struct PayloadState {
        uint64_t remaining;        // payload bytes still to come in the current frame
        uint8_t mask[4];
    };
    uint8_t* spill_ = nullptr;     // 8: message so far, then a split control frame; or null
    uint32_t spill_len_ = 0;       // 4: message bytes in spill_ (= message length so far)
    uint32_t spill_cap_ = 0;       // 4
    union {
        uint8_t header_[14];       // partial frame header (header_len_ bytes)
        PayloadState frame_;
    };                             // 16
    uint8_t state_ = 0;            // 1: reading a header, or a spilled payload
    uint8_t header_len_ = 0;       // 1
    uint8_t frame_bits_ = 0;       // 1: current frame's opcode, FIN, mask phase
    uint8_t message_bits_ = 0;     // 1: message opcode (0 = none), RSV1 of its first frame
    uint8_t control_len_ = 0;      // 1: payload length of a spilled control frame
    uint16_t error_ = 0;           // 2: sticky close code after a violation
    Utf8Stream utf8_;              // 4: incremental UTF-8 state of the current text message

    uint16_t check_first_bytes(uint8_t b0, uint8_t b1, const FrameLimits& limits) const;
    FeedResult fail(size_t consumed, uint16_t code);
    bool reserve_spill(uint64_t bytes, uint64_t ends_at = 0);
    void free_spill();
    uint16_t start_frame(const uint8_t* header, uint8_t* payload, size_t avail,
                         const FrameLimits& limits, FrameSink& sink, size_t* used);
    uint16_t take_payload(uint8_t* data, size_t avail, FrameSink& sink, size_t* used);
    uint16_t finish_spilled_frame(uint8_t* any_valid_ptr, FrameSink& sink);
};

}  // namespace wspush::codec
