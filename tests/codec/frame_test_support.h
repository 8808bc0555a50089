// Test helpers for the frame parser: a sink that records everything, and frame builders.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "codec/frame_encoder.h"
#include "codec/frame_parser.h"

namespace wspush::codec::testing {

struct Event {
    bool control;
    Opcode op;
    std::string data;
    bool compressed;
    bool operator==(const Event&) const = default;
};

class RecordingSink : public FrameSink {
public:
    std::vector<Event> events;
    size_t stop_after = SIZE_MAX;  // return false once this many events are recorded
    bool on_message(Opcode op, uint8_t* data, size_t len, bool compressed) override {
        events.push_back({false, op, std::string(reinterpret_cast<char*>(data), len), compressed});
        return events.size() < stop_after;
    }
    bool on_control(Opcode op, uint8_t* data, size_t len) override {
        events.push_back({true, op, std::string(reinterpret_cast<char*>(data), len), false});
        return events.size() < stop_after;
    }
};

inline std::vector<uint8_t> bytes(std::initializer_list<int> list) {
    std::vector<uint8_t> v;
    for (int b : list) v.push_back(uint8_t(b));
    return v;
}

// A masked client frame (mask 0x37fa213d, the RFC 6455 5.7 key).
inline std::vector<uint8_t> client_frame(Opcode op, std::string_view payload, bool fin = true,
                                         uint32_t mask = 0x37fa213d) {
    std::vector<uint8_t> out(frame_size(payload.size(), true));
    encode_client_frame(out.data(), op, payload.data(), payload.size(), mask, fin);
    return out;
}

inline void append(std::vector<uint8_t>& to, const std::vector<uint8_t>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

struct ParseOutcome {
    std::vector<Event> events;
    uint16_t code = 0;
};

// Feeds `wire` in pieces cut at `cuts` (sorted offsets); stops at the first non-zero code.
inline ParseOutcome parse_split(std::vector<uint8_t> wire, const std::vector<size_t>& cuts,
                                const FrameLimits& limits = {}) {
    FrameParser parser;
    RecordingSink sink;
    ParseOutcome out;
    size_t start = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(wire.size());
    for (size_t end : ends) {
        if (end < start) continue;
        // A fresh copy per piece: the parser may keep no pointer into earlier pieces.
        std::vector<uint8_t> piece(wire.begin() + start, wire.begin() + end);
        FeedResult r = parser.feed(piece.data(), piece.size(), limits, sink);
        start = end;
        if (r.close_code) {
            out.code = r.close_code;
            break;
        }
    }
    out.events = sink.events;
    return out;
}

inline ParseOutcome parse_all(const std::vector<uint8_t>& wire, const FrameLimits& limits = {}) {
    return parse_split(wire, {}, limits);
}

}  // namespace wspush::codec::testing
