// Incremental frame parser, RFC 6455 section 5. See frame_parser.h for the contract.
//
// Per frame: the header is validated from its first two bytes as soon as they arrive (so a
// bad frame fails before its length or payload is read), then from the extended length.
// Fast path: the header and the whole payload lie in the fed buffer and the frame is a whole
// message or a control frame: unmask in place, validate, hand the sink a pointer into the
// caller's buffer. Slow path: the payload is copied into spill_, unmasked and UTF-8-checked
// piece by piece as it arrives, and delivered when the frame (control) or message (data)
// completes; a control frame that interrupts a fragmented message is spilled behind it.
//
// Liberal choice: a length in a longer encoding than needed (126 + 16-bit length < 126, or
// 127 + 64-bit length < 65536) is accepted. RFC 6455 5.2 says the minimal encoding MUST be
// used, but rejecting it buys no safety (the length is still bounded by max_message) and
// Autobahn does not require it; browsers never send it.
#include "codec/frame_parser.h"

#include <cstdlib>
#include <cstring>

#include "codec/frame_encoder.h"
#include "codec/unmask.h"

namespace wspush::codec {

static_assert(sizeof(FrameParser) <= 48, "FrameParser lives in every connection");

namespace {

constexpr uint16_t kOk = kCloseNone;    // step result: go on
enum : uint8_t { kReadingHeader = 0, kReadingPayload = 1 };
constexpr uint8_t kFin = 0x10;             // frame_bits_: FIN of the current frame
constexpr uint8_t kPhaseShift = 5;         // frame_bits_: mask phase in bits 5-6
constexpr uint8_t kMessageOp = 0x03;       // message_bits_: Text or Binary, 0 = none
constexpr uint8_t kMessageCompressed = 0x04;
// spill_len_ is 32 bits: messages are capped below 4 GiB whatever max_message says.
constexpr uint64_t kMaxSpill = 0xFFFFFFFFull - 2 * kMaxControlPayload;

constexpr size_t header_length(uint8_t b1) {
    uint8_t len7 = b1 & 0x7F;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
}

// 5.5.1: empty, or a code valid on the wire followed by UTF-8.
uint16_t check_close_payload(const uint8_t* p, size_t n) {
    if (n == 0) return kCloseNone;
    if (n == 1) return kCloseProtocolError;
    if (!close_code_is_valid_on_wire(uint16_t(p[0] << 8 | p[1]))) return kCloseProtocolError;
    return utf8_valid(p + 2, n - 2) ? kCloseNone : kCloseInvalidPayload;
}

uint16_t deliver_control(Opcode op, uint8_t* p, size_t n, FrameSink& sink) {
    if (op == Opcode::Close) {
        if (uint16_t code = check_close_payload(p, n)) return code;
    }
    return sink.on_control(op, p, n) ? kOk : kStopped;
}

}  // namespace

FrameParser::~FrameParser() { free(spill_); }

bool FrameParser::idle() const {
    return state_ == kReadingHeader && header_len_ == 0 && message_bits_ == 0 && !spill_;
}

size_t FrameParser::buffered_bytes() const { return spill_cap_; }

void FrameParser::reset() {
    free_spill();
    state_ = kReadingHeader;
    header_len_ = frame_bits_ = message_bits_ = control_len_ = 0;
    error_ = 0;
    utf8_.reset();
}

void FrameParser::free_spill() {
    free(spill_);
    spill_ = nullptr;
    spill_len_ = spill_cap_ = 0;
}

// Grows spill_ to hold `bytes`. Doubling keeps a message trickling in small reads O(n); the
// caller bounds the final size (max_message + one control frame). `ends_at` (0: unknown) is
// where the message ends when the frame being copied is its last: no more is ever needed
// there, so the doubling stops at it (a trickled 600 kB message holds 600 kB, not 1 MiB;
// the server counts capacity against --max-inbound-buffered).
bool FrameParser::reserve_spill(uint64_t bytes, uint64_t ends_at) {
    if (bytes <= spill_cap_) return true;
    uint64_t cap = spill_cap_ * 2 > bytes ? spill_cap_ * 2 : bytes < 256 ? 256 : bytes;
    if (ends_at >= bytes && cap > ends_at) cap = ends_at;
    if (cap > kMaxSpill + 2 * kMaxControlPayload) cap = bytes;
    void* p = realloc(spill_, cap);
    if (!p) return false;
    spill_ = static_cast<uint8_t*>(p);
    spill_cap_ = uint32_t(cap);
    return true;
}

FeedResult FrameParser::fail(size_t consumed, uint16_t code) {
    error_ = code;
    free_spill();
    return {consumed, code};
}

// The rules decidable from the first two header bytes, in the order they are listed in the
// header comment. Same order on every path, so the answer never depends on read boundaries.
uint16_t FrameParser::check_first_bytes(uint8_t b0, uint8_t b1, const FrameLimits& limits) const {
    uint8_t op = b0 & 0x0F;
    bool fin = b0 & 0x80, rsv1 = b0 & 0x40;
    if ((b0 & 0x30) || (rsv1 && !limits.allow_rsv1)) return kCloseProtocolError;
    if ((op > 2 && op < 8) || op > 10) return kCloseProtocolError;
    if (bool(b1 & 0x80) != limits.require_mask) return kCloseProtocolError;
    if (is_control(Opcode(op))) {
        if (!fin || (b1 & 0x7F) > kMaxControlPayload || rsv1) return kCloseProtocolError;
    } else if (op == 0) {
        if (!(message_bits_ & kMessageOp) || rsv1) return kCloseProtocolError;  // RSV1: first frame only
    } else if (message_bits_ & kMessageOp) {
        return kCloseProtocolError;  // new Text/Binary inside an unfinished message
    }
    return kCloseNone;
}

// A complete, checked header. Delivers the frame at once when it can (zero copy), otherwise
// starts spilling. *used = payload bytes taken from `payload`.
uint16_t FrameParser::start_frame(const uint8_t* header, uint8_t* payload, size_t avail,
                                  const FrameLimits& limits, FrameSink& sink, size_t* used) {
    *used = 0;
    Opcode op = Opcode(header[0] & 0x0F);
    bool fin = header[0] & 0x80, rsv1 = header[0] & 0x40, masked = header[1] & 0x80;
    uint64_t len = header[1] & 0x7F;
    const uint8_t* ext = header + 2;
    if (len == 126) {
        len = uint64_t(ext[0]) << 8 | ext[1];
        ext += 2;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; ++i) len = len << 8 | ext[i];
        ext += 8;
        if (len >> 63) return kCloseProtocolError;
    }
    static constexpr uint8_t kNoMask[4] = {0, 0, 0, 0};
    const uint8_t* mask = masked ? ext : kNoMask;
    bool control = is_control(op);
    if (!control) {
        uint64_t limit = limits.max_message < kMaxSpill ? limits.max_message : kMaxSpill;
        if (spill_len_ + len > limit) return kCloseMessageTooBig;  // no overflow: len < 2^63
        if (op != Opcode::Continuation) {
            message_bits_ = uint8_t(static_cast<uint8_t>(op) | (rsv1 ? kMessageCompressed : 0));
            utf8_.reset();
        }
    }
    if (len <= avail && (control || (fin && op != Opcode::Continuation))) {
        *used = size_t(len);
        if (masked) unmask(payload, size_t(len), mask);
        if (control) return deliver_control(op, payload, size_t(len), sink);
        message_bits_ = 0;
        if (op == Opcode::Text && !rsv1 && !utf8_valid(payload, size_t(len)))
            return kCloseInvalidPayload;
        return sink.on_message(op, payload, size_t(len), rsv1) ? kOk : kStopped;
    }
    state_ = kReadingPayload;
    frame_bits_ = uint8_t(static_cast<uint8_t>(op) | (fin ? kFin : 0));
    frame_.remaining = len;
    memcpy(frame_.mask, mask, 4);
    if (control) {
        control_len_ = uint8_t(len);
        if (!reserve_spill(uint64_t(spill_len_) + len)) return kCloseInternalError;
    }
    return take_payload(payload, avail, sink, used);
}

// Copies, unmasks and (for text) validates the next piece of a spilled frame.
uint16_t FrameParser::take_payload(uint8_t* data, size_t avail, FrameSink& sink, size_t* used) {
    uint64_t remaining = frame_.remaining;
    size_t n = remaining < avail ? size_t(remaining) : avail;
    bool control = is_control(Opcode(frame_bits_ & 0x0F));
    *used = n;
    if (n) {
        uint8_t* dst;
        if (control) {
            dst = spill_ + spill_len_ + (control_len_ - remaining);
        } else {
            const uint64_t ends_at = (frame_bits_ & kFin) ? uint64_t(spill_len_) + remaining : 0;
            if (!reserve_spill(uint64_t(spill_len_) + n, ends_at)) return kCloseInternalError;
            dst = spill_ + spill_len_;
        }
        memcpy(dst, data, n);
        unsigned phase = (frame_bits_ >> kPhaseShift) & 3;
        phase = unmask(dst, n, frame_.mask, phase);
        frame_bits_ = uint8_t((frame_bits_ & 0x1F) | phase << kPhaseShift);
        if (!control) {
            spill_len_ += uint32_t(n);
            bool text = (message_bits_ & kMessageOp) == uint8_t(Opcode::Text);
            if (text && !(message_bits_ & kMessageCompressed) && !utf8_.feed(dst, n))
                return kCloseInvalidPayload;  // fail fast: before the message ends
        }
        frame_.remaining = remaining - n;
    }
    if (frame_.remaining) return kCloseNone;
    state_ = kReadingHeader;
    return finish_spilled_frame(data, sink);
}

// The last byte of a spilled frame arrived. `any_valid_ptr` stands in for spill_ when a
// message or control frame is empty and nothing was ever allocated.
uint16_t FrameParser::finish_spilled_frame(uint8_t* any_valid_ptr, FrameSink& sink) {
    Opcode op = Opcode(frame_bits_ & 0x0F);
    if (is_control(op)) {
        uint8_t* p = spill_ ? spill_ + spill_len_ : any_valid_ptr;
        uint16_t code = deliver_control(op, p, control_len_, sink);
        if (!(message_bits_ & kMessageOp)) free_spill();
        return code;
    }
    if (!(frame_bits_ & kFin)) return kCloseNone;
    Opcode message_op = Opcode(message_bits_ & kMessageOp);
    bool compressed = message_bits_ & kMessageCompressed;
    if (message_op == Opcode::Text && !compressed && !utf8_.complete())
        return kCloseInvalidPayload;  // ends inside a code point
    message_bits_ = 0;
    bool go = sink.on_message(message_op, spill_ ? spill_ : any_valid_ptr, spill_len_, compressed);
    free_spill();  // the message is complete: an idle connection holds no buffer
    return go ? kOk : kStopped;
}

FeedResult FrameParser::feed(uint8_t* data, size_t len, const FrameLimits& limits,
                             FrameSink& sink) {
    if (error_) return {0, error_};
    size_t pos = 0;
    while (pos < len) {
        uint16_t code;
        size_t used = 0;
        if (state_ == kReadingPayload) {
            code = take_payload(data + pos, len - pos, sink, &used);
            pos += used;
        } else if (header_len_ == 0 && len - pos >= 2 &&
                   len - pos >= header_length(data[pos + 1])) {
            // Fast path: the whole header is in the buffer.
            const uint8_t* h = data + pos;
            if ((code = check_first_bytes(h[0], h[1], limits))) return fail(pos, code);
            size_t hl = header_length(h[1]);
            code = start_frame(h, data + pos + hl, len - pos - hl, limits, sink, &used);
            pos += hl + used;
        } else {
            // Slow path: gather the header in header_, checking its first bytes early.
            while (header_len_ < 2 && pos < len) header_[header_len_++] = data[pos++];
            if (header_len_ < 2) break;
            if ((code = check_first_bytes(header_[0], header_[1], limits))) return fail(pos, code);
            size_t hl = header_length(header_[1]);
            size_t take = hl - header_len_ < len - pos ? hl - header_len_ : len - pos;
            memcpy(header_ + header_len_, data + pos, take);
            header_len_ = uint8_t(header_len_ + take);
            pos += take;
            if (header_len_ < hl) break;
            uint8_t h[kMaxFrameHeader];
            memcpy(h, header_, hl);  // frame_ overlays header_; start_frame writes frame_
            header_len_ = 0;
            code = start_frame(h, data + pos, len - pos, limits, sink, &used);
            pos += used;
        }
        if (code == kStopped) return {pos, kStopped};
        if (code) return fail(pos, code);
    }
    return {pos, kCloseNone};
}

}  // namespace wspush::codec
