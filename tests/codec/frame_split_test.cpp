// Property: the parser's output (messages, control frames, final close code) does not depend
// on how the bytes are cut into reads. Random streams of fragmented messages, interleaved
// control frames and occasional corruption, fed whole and at random split points.
#include <gtest/gtest.h>

#include <random>

#include "tests/codec/frame_test_support.h"

namespace wspush::codec {
namespace {

using testing::append;
using testing::client_frame;
using testing::parse_split;

std::string random_payload(std::mt19937& rng, bool text) {
    size_t len = rng() % 16 == 0 ? 200 + rng() % 70000 : rng() % 140;
    std::string s;
    static const char* kPieces[] = {"a", "Z", " ", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80"};
    while (s.size() < len) s += text ? kPieces[rng() % 6] : std::string(1, char(rng()));
    return s;
}

std::vector<uint8_t> random_stream(std::mt19937& rng) {
    std::vector<uint8_t> wire;
    size_t messages = 1 + rng() % 5;
    for (size_t m = 0; m < messages; ++m) {
        bool text = rng() % 2;
        std::string payload = random_payload(rng, text);
        size_t fragments = 1 + rng() % 3, at = 0;
        for (size_t f = 0; f < fragments; ++f) {
            size_t end = f + 1 == fragments ? payload.size() : at + rng() % (payload.size() - at + 1);
            Opcode op = f == 0 ? (text ? Opcode::Text : Opcode::Binary) : Opcode::Continuation;
            append(wire, client_frame(op, std::string_view(payload).substr(at, end - at),
                                      f + 1 == fragments, uint32_t(rng())));
            at = end;
            if (rng() % 3 == 0) append(wire, client_frame(Opcode::Ping, "ping", true, uint32_t(rng())));
        }
    }
    if (rng() % 4 == 0) {
        std::string close = {char(0x03), char(0xE8), 'o', 'k'};
        append(wire, client_frame(Opcode::Close, close, true, uint32_t(rng())));
    }
    if (rng() % 3 == 0 && !wire.empty()) wire[rng() % wire.size()] ^= uint8_t(1u << (rng() % 8));
    return wire;
}

std::vector<size_t> random_cuts(std::mt19937& rng, size_t size) {
    std::vector<size_t> cuts;
    if (size == 0) return cuts;
    if (rng() % 8 == 0) {  // one byte at a time (only for small streams: keeps the test fast)
        if (size < 5000)
            for (size_t i = 1; i < size; ++i) cuts.push_back(i);
        return cuts;
    }
    size_t n = rng() % 20;
    for (size_t i = 0; i < n; ++i) cuts.push_back(rng() % size);
    std::sort(cuts.begin(), cuts.end());
    return cuts;
}

TEST(FrameParserSplit, RandomSplitPointsGiveSameMessagesAndErrors) {
    std::mt19937 rng(2024);
    FrameLimits limits;
    limits.max_message = 60000;  // some of the large messages pass it: 1009
    size_t errors = 0, clean = 0;
    for (int iter = 0; iter < 1500; ++iter) {
        auto wire = random_stream(rng);
        auto whole = parse_split(wire, {}, limits);
        (whole.code ? errors : clean)++;
        for (int trial = 0; trial < 4; ++trial) {
            auto cuts = random_cuts(rng, wire.size());
            auto split = parse_split(wire, cuts, limits);
            ASSERT_EQ(split.code, whole.code) << "iter " << iter << " trial " << trial;
            ASSERT_EQ(split.events, whole.events) << "iter " << iter << " trial " << trial;
        }
    }
    EXPECT_GT(errors, 100u);  // both outcomes are exercised
    EXPECT_GT(clean, 100u);
}

TEST(FrameParserSplit, OneByteFeedsDeliverFragmentedMessageWithPingBetween) {
    std::vector<uint8_t> wire = client_frame(Opcode::Text, "caf\xc3", false);
    append(wire, client_frame(Opcode::Ping, "x"));
    append(wire, client_frame(Opcode::Continuation, "\xa9!", true));
    std::vector<size_t> cuts;
    for (size_t i = 1; i < wire.size(); ++i) cuts.push_back(i);
    auto r = parse_split(wire, cuts);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[0].op, Opcode::Ping);
    EXPECT_EQ(r.events[1].data, "caf\xc3\xa9!");
}

}  // namespace
}  // namespace wspush::codec
