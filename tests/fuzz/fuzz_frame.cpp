// libFuzzer target for FrameParser. Input: 4 bytes of settings, then the wire bytes.
//   byte 0: bit 0 require_mask, bit 1 allow_rsv1     byte 1: max_message = 1 << (b % 18)
//   bytes 2-3: where to cut the wire for the two-piece feed
// Invariants checked (abort on violation):
//   consumed <= len; fed in two pieces == fed whole; and the parser agrees, event for event
//   and on the close code, with the straightforward reference decoder below, so it never
//   accepts what the reference rejects (nor the reverse).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "codec/close_code.h"
#include "codec/frame_parser.h"

using namespace wspush::codec;

namespace {

struct Event {
    bool control;
    int op;
    std::string data;
    bool compressed;
    bool operator==(const Event&) const = default;
};

struct Recorder : FrameSink {
    std::vector<Event> events;
    bool on_message(Opcode op, uint8_t* d, size_t n, bool c) override {
        events.push_back({false, int(op), std::string(reinterpret_cast<char*>(d), n), c});
        return true;
    }
    bool on_control(Opcode op, uint8_t* d, size_t n) override {
        events.push_back({true, int(op), std::string(reinterpret_cast<char*>(d), n), false});
        return true;
    }
};

struct Outcome {
    std::vector<Event> events;
    uint16_t code = 0;
};

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

Outcome run_parser(const std::vector<uint8_t>& wire, size_t cut, const FrameLimits& limits) {
    FrameParser parser;
    Recorder rec;
    Outcome out;
    size_t bounds[3] = {0, cut, wire.size()};
    for (int i = 0; i < 2 && !out.code; ++i) {
        std::vector<uint8_t> piece(wire.begin() + long(bounds[i]), wire.begin() + long(bounds[i + 1]));
        FeedResult r = parser.feed(piece.data(), piece.size(), limits, rec);
        CHECK(r.consumed <= piece.size());
        if (!r.close_code) CHECK(r.consumed == piece.size());
        out.code = r.close_code;
    }
    out.events = rec.events;
    return out;
}

// UTF-8 by plain decoding. With `prefix`, a sequence cut off at the end is fine as long as
// the bytes present can still begin a valid code point.
bool ref_utf8(const std::string& s, bool prefix) {
    size_t i = 0, n = s.size();
    while (i < n) {
        uint8_t c = uint8_t(s[i]);
        if (c < 0x80) { ++i; continue; }
        size_t k = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (k == 9) return false;
        uint32_t cp = c & (0x3F >> k);
        size_t j = 1;
        for (; j <= k && i + j < n; ++j) {
            uint8_t b = uint8_t(s[i + j]);
            if ((b & 0xC0) != 0x80) return false;
            cp = cp << 6 | (b & 0x3F);
        }
        if (j <= k) {  // cut off: check the bounds the known bits already fix
            if (!prefix) return false;
            size_t have = j - 1, missing = k - have;
            uint32_t lo = cp << (6 * missing), hi = lo | ((1u << (6 * missing)) - 1);
            uint32_t min = k == 1 ? 0x80 : k == 2 ? 0x800 : 0x10000;
            if (hi < min || lo > 0x10FFFF) return false;
            if (lo >= 0xD800 && hi <= 0xDFFF) return false;
            return true;
        }
        uint32_t min = k == 1 ? 0x80 : k == 2 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += k + 1;
    }
    return true;
}

// The rules of frame_parser.h, one frame at a time over the whole buffer.
Outcome reference(const std::vector<uint8_t>& w, const FrameLimits& lim) {
    Outcome out;
    int msg_op = 0;
    bool compressed = false;
    std::string msg;
    size_t pos = 0, n = w.size();
    while (n - pos >= 2) {
        uint8_t b0 = w[pos], b1 = w[pos + 1];
        int op = b0 & 15;
        bool fin = b0 & 0x80, rsv1 = b0 & 0x40, masked = b1 & 0x80, control = op >= 8;
        uint64_t len = b1 & 0x7F;
        bool bad = (b0 & 0x30) || (rsv1 && !lim.allow_rsv1) || (op > 2 && op < 8) || op > 10 ||
                   masked != lim.require_mask ||
                   (control && (!fin || len > 125 || rsv1)) ||
                   (op == 0 && (!msg_op || rsv1)) || ((op == 1 || op == 2) && msg_op);
        if (bad) { out.code = 1002; return out; }
        size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0, hl = 2 + ext + (masked ? 4 : 0);
        if (n - pos < hl) return out;
        if (ext) {
            len = 0;
            for (size_t i = 0; i < ext; ++i) len = len << 8 | w[pos + 2 + i];
            if (len >> 63) { out.code = 1002; return out; }
        }
        if (!control && msg.size() + len > lim.max_message) { out.code = 1009; return out; }
        if (op == 1 || op == 2) { msg_op = op; compressed = rsv1; msg.clear(); }
        const uint8_t* mask = masked ? &w[pos + hl - 4] : nullptr;
        size_t avail = n - pos - hl < len ? n - pos - hl : size_t(len);
        std::string payload;
        for (size_t i = 0; i < avail; ++i) payload += char(w[pos + hl + i] ^ (mask ? mask[i % 4] : 0));
        bool text = !control && msg_op == 1 && !compressed;
        if (avail < len) {  // incomplete: only a text message's bytes so far can fail
            if (text && !ref_utf8(msg + payload, true)) out.code = 1007;
            return out;
        }
        pos += hl + size_t(len);
        if (control) {
            if (op == 8 && payload.size() == 1) { out.code = 1002; return out; }
            if (op == 8 && payload.size() >= 2) {
                uint16_t code = uint16_t(uint8_t(payload[0]) << 8 | uint8_t(payload[1]));
                if (!close_code_is_valid_on_wire(code)) { out.code = 1002; return out; }
                if (!ref_utf8(payload.substr(2), false)) { out.code = 1007; return out; }
            }
            out.events.push_back({true, op, payload, false});
            continue;
        }
        msg += payload;
        if (text && !ref_utf8(msg, !fin)) { out.code = 1007; return out; }
        if (fin) {
            out.events.push_back({false, msg_op, msg, compressed});
            msg_op = 0;
            msg.clear();
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    FrameLimits limits;
    limits.require_mask = data[0] & 1;
    limits.allow_rsv1 = data[0] & 2;
    limits.max_message = uint64_t(1) << (data[1] % 18);
    std::vector<uint8_t> wire(data + 4, data + size);
    size_t cut = wire.empty() ? 0 : (size_t(data[2]) << 8 | data[3]) % (wire.size() + 1);

    Outcome whole = run_parser(wire, wire.size(), limits);
    Outcome split = run_parser(wire, cut, limits);
    CHECK(whole.code == split.code);
    CHECK(whole.events == split.events);
    Outcome ref = reference(wire, limits);
    CHECK(whole.code == ref.code);
    CHECK(whole.events == ref.events);
    return 0;
}
