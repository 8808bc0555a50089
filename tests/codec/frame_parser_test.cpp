// FrameParser against RFC 6455 section 5: the examples of 5.7 and every rejection rule.
#include "codec/frame_parser.h"

#include <gtest/gtest.h>

#include "tests/codec/frame_test_support.h"

namespace wspush::codec {
namespace {

using testing::append;
using testing::bytes;
using testing::client_frame;
using testing::Event;
using testing::parse_all;
using testing::parse_split;
using testing::RecordingSink;

FrameLimits client_side() {
    FrameLimits l;
    l.require_mask = false;
    return l;
}

// --- RFC 6455 5.7 examples -------------------------------------------------------------

TEST(FrameParser, ParsesUnmaskedHelloInClientMode) {
    auto r = parse_all(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), client_side());
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0], (Event{false, Opcode::Text, "Hello", false}));
}

TEST(FrameParser, ParsesMaskedHello) {
    auto r = parse_all(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0], (Event{false, Opcode::Text, "Hello", false}));
}

TEST(FrameParser, JoinsFragmentedHello) {
    auto wire = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
    auto r = parse_all(wire, client_side());
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data, "Hello");
}

TEST(FrameParser, ParsesUnmaskedPingAndMaskedPong) {
    auto ping = parse_all(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), client_side());
    ASSERT_EQ(ping.events.size(), 1u);
    EXPECT_EQ(ping.events[0], (Event{true, Opcode::Ping, "Hello", false}));
    auto pong = parse_all(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    ASSERT_EQ(pong.events.size(), 1u);
    EXPECT_EQ(pong.events[0], (Event{true, Opcode::Pong, "Hello", false}));
}

TEST(FrameParser, Parses256ByteBinaryWith16BitLength) {
    std::string payload(256, '\x5a');
    auto wire = bytes({0x82, 0x7E, 0x01, 0x00});
    wire.insert(wire.end(), payload.begin(), payload.end());
    auto r = parse_all(wire, client_side());
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0], (Event{false, Opcode::Binary, payload, false}));
}

TEST(FrameParser, Parses64KiBBinaryWith64BitLength) {
    std::string payload(65536, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(i * 7);
    auto wire = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00});
    wire.insert(wire.end(), payload.begin(), payload.end());
    auto r = parse_all(wire, client_side());
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data, payload);
}

TEST(FrameParser, Masked64KiBBinarySplitInManyReadsMatches) {
    std::string payload(65536, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(i * 13 + 1);
    auto wire = client_frame(Opcode::Binary, payload);
    std::vector<size_t> cuts;
    for (size_t c = 1; c < wire.size(); c += 1000) cuts.push_back(c);
    auto r = parse_split(wire, cuts);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data, payload);
}

// --- delivery --------------------------------------------------------------------------

TEST(FrameParser, WholeFrameIsDeliveredFromCallersBuffer) {
    auto wire = client_frame(Opcode::Binary, "abc");
    struct PointerSink : FrameSink {
        const uint8_t* seen = nullptr;
        bool on_message(Opcode, uint8_t* d, size_t, bool) override { seen = d; return true; }
        bool on_control(Opcode, uint8_t*, size_t) override { return true; }
    } sink;
    FrameParser p;
    FeedResult r = p.feed(wire.data(), wire.size(), {}, sink);
    EXPECT_EQ(r.close_code, 0);
    EXPECT_EQ(r.consumed, wire.size());
    EXPECT_EQ(sink.seen, wire.data() + 6);
    EXPECT_TRUE(p.idle());
    EXPECT_EQ(p.buffered_bytes(), 0u);
}

TEST(FrameParser, ControlFrameBetweenFragmentsIsDeliveredFirst) {
    std::vector<uint8_t> wire = client_frame(Opcode::Text, "Hel", false);
    append(wire, client_frame(Opcode::Ping, "p"));
    append(wire, client_frame(Opcode::Continuation, "lo", true));
    auto r = parse_all(wire);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[0], (Event{true, Opcode::Ping, "p", false}));
    EXPECT_EQ(r.events[1], (Event{false, Opcode::Text, "Hello", false}));
}

TEST(FrameParser, SpillIsFreedWhenFragmentedMessageCompletes) {
    FrameParser p;
    RecordingSink sink;
    auto first = client_frame(Opcode::Binary, "abc", false);
    p.feed(first.data(), first.size(), {}, sink);
    EXPECT_FALSE(p.idle());
    EXPECT_GT(p.buffered_bytes(), 0u);
    auto last = client_frame(Opcode::Continuation, "def", true);
    p.feed(last.data(), last.size(), {}, sink);
    EXPECT_TRUE(p.idle());
    EXPECT_EQ(p.buffered_bytes(), 0u);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].data, "abcdef");
}

// A final frame's length says where the message ends: trickled in, it is held in exactly that
// many bytes, not in a buffer doubled past it (the server counts capacity against a budget).
TEST(FrameParser, TrickledFinalFrameIsHeldInItsOwnLengthNotADoubledBuffer) {
    const std::string body(100'000, 'x');
    std::vector<uint8_t> wire = client_frame(Opcode::Binary, body, true);
    FrameParser p;
    RecordingSink sink;
    size_t most = 0;
    for (size_t at = 0; at < wire.size(); at += 1000) {
        size_t n = std::min<size_t>(1000, wire.size() - at);
        EXPECT_EQ(p.feed(wire.data() + at, n, {}, sink).close_code, 0);
        most = std::max(most, p.buffered_bytes());
    }
    EXPECT_EQ(most, body.size());
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].data, body);
}

TEST(FrameParser, EmptyTextMessageIsDelivered) {
    auto r = parse_all(client_frame(Opcode::Text, ""));
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data, "");
}

TEST(FrameParser, StopsWhenSinkReturnsFalse) {
    std::vector<uint8_t> wire = client_frame(Opcode::Text, "one");
    size_t first_len = wire.size();
    append(wire, client_frame(Opcode::Text, "two"));
    FrameParser p;
    RecordingSink sink;
    sink.stop_after = 1;
    FeedResult r = p.feed(wire.data(), wire.size(), {}, sink);
    EXPECT_EQ(r.close_code, kStopped);
    EXPECT_EQ(r.consumed, first_len);
    EXPECT_EQ(sink.events.size(), 1u);
}

TEST(FrameParser, AcceptsNonMinimalLengthEncoding) {
    // 126 + 16-bit length 5: RFC says minimal encoding MUST be used; we are liberal.
    auto wire = bytes({0x82, 0x7E, 0x00, 0x05, 1, 2, 3, 4, 5});
    auto r = parse_all(wire, client_side());
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data.size(), 5u);
}

TEST(FrameParser, DeliversValidCloseFrame) {
    uint8_t buf[140];
    size_t n = encode_close(buf, 1000, "bye");
    // Re-encode masked, as a client would send it.
    auto wire = client_frame(Opcode::Close, std::string_view(reinterpret_cast<char*>(buf) + 2, n - 2));
    auto r = parse_all(wire);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0], (Event{true, Opcode::Close, std::string("\x03\xe8" "bye"), false}));
}

TEST(FrameParser, RSV1IsReportedAsCompressedWhenAllowed) {
    auto wire = client_frame(Opcode::Binary, "zz");
    wire[0] |= 0x40;
    FrameLimits l;
    l.allow_rsv1 = true;
    auto r = parse_all(wire, l);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_TRUE(r.events[0].compressed);
}

// --- rejections ------------------------------------------------------------------------

TEST(FrameParser, RejectsUnmaskedClientFrame) {
    EXPECT_EQ(parse_all(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'})).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsMaskedFrameInClientMode) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Text, "x"), client_side()).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsRsv1WithoutExtension) {
    auto wire = client_frame(Opcode::Text, "x");
    wire[0] |= 0x40;
    EXPECT_EQ(parse_all(wire).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsRsv2AndRsv3EvenWithExtension) {
    FrameLimits l;
    l.allow_rsv1 = true;
    for (uint8_t bit : {0x20, 0x10}) {
        auto wire = client_frame(Opcode::Text, "x");
        wire[0] |= bit;
        EXPECT_EQ(parse_all(wire, l).code, kCloseProtocolError) << int(bit);
    }
}

TEST(FrameParser, RejectsRsv1OnContinuationFrame) {
    FrameLimits l;
    l.allow_rsv1 = true;
    std::vector<uint8_t> wire = client_frame(Opcode::Binary, "a", false);
    auto cont = client_frame(Opcode::Continuation, "b", true);
    cont[0] |= 0x40;
    append(wire, cont);
    EXPECT_EQ(parse_all(wire, l).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsReservedOpcode) {
    for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        auto wire = client_frame(Opcode(op), "");
        EXPECT_EQ(parse_all(wire).code, kCloseProtocolError) << op;
    }
}

TEST(FrameParser, RejectsControlFrameOver125Bytes) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Ping, std::string(126, 'p'))).code, kCloseProtocolError);
}

TEST(FrameParser, Accepts125BytePing) {
    auto r = parse_all(client_frame(Opcode::Ping, std::string(125, 'p')));
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.events.size(), 1u);
}

TEST(FrameParser, RejectsFragmentedControlFrame) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Ping, "p", false)).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsContinuationWithoutMessage) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Continuation, "x")).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsNewDataFrameInsideUnfinishedMessage) {
    std::vector<uint8_t> wire = client_frame(Opcode::Text, "a", false);
    append(wire, client_frame(Opcode::Binary, "b"));
    EXPECT_EQ(parse_all(wire).code, kCloseProtocolError);
}

TEST(FrameParser, Rejects64BitLengthWithTopBitSet) {
    auto wire = bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4});
    EXPECT_EQ(parse_all(wire).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsMessageOverLimitFromHeaderAlone) {
    FrameLimits l;
    l.max_message = 1000;
    // Only the header of a 1001-byte frame: the verdict comes before any payload.
    auto wire = client_frame(Opcode::Binary, std::string(1001, 'x'));
    wire.resize(8);
    EXPECT_EQ(parse_all(wire, l).code, kCloseMessageTooBig);
}

TEST(FrameParser, RejectsFragmentedMessageOverLimitCountedAcrossFragments) {
    FrameLimits l;
    l.max_message = 1000;
    std::vector<uint8_t> wire = client_frame(Opcode::Binary, std::string(600, 'x'), false);
    append(wire, client_frame(Opcode::Continuation, std::string(401, 'y'), true));
    auto r = parse_all(wire, l);
    EXPECT_EQ(r.code, kCloseMessageTooBig);
    EXPECT_TRUE(r.events.empty());
}

TEST(FrameParser, AcceptsMessageExactlyAtLimit) {
    FrameLimits l;
    l.max_message = 1000;
    std::vector<uint8_t> wire = client_frame(Opcode::Binary, std::string(600, 'x'), false);
    append(wire, client_frame(Opcode::Continuation, std::string(400, 'y'), true));
    auto r = parse_all(wire, l);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data.size(), 1000u);
}

TEST(FrameParser, RejectsOneByteClosePayload) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Close, "\x03")).code, kCloseProtocolError);
}

TEST(FrameParser, RejectsCloseCodesNotValidOnWire) {
    for (int code : {0, 999, 1004, 1005, 1006, 1012, 1015, 2000, 2999, 5000, 65535}) {
        std::string payload{char(code >> 8), char(code & 0xFF)};
        EXPECT_EQ(parse_all(client_frame(Opcode::Close, payload)).code, kCloseProtocolError) << code;
    }
}

TEST(FrameParser, AcceptsCloseCodesValidOnWire) {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
        std::string payload{char(code >> 8), char(code & 0xFF)};
        EXPECT_EQ(parse_all(client_frame(Opcode::Close, payload)).code, 0) << code;
    }
}

TEST(FrameParser, RejectsCloseReasonThatIsNotUtf8) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Close, "\x03\xe8\xff")).code, kCloseInvalidPayload);
}

TEST(FrameParser, RejectsInvalidUtf8Text) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Text, "ab\xc0\xaf")).code, kCloseInvalidPayload);
}

TEST(FrameParser, RejectsTextEndingInsideCodePoint) {
    EXPECT_EQ(parse_all(client_frame(Opcode::Text, "ab\xe2\x82")).code, kCloseInvalidPayload);
}

TEST(FrameParser, AcceptsCodePointSplitBetweenFragments) {
    std::vector<uint8_t> wire = client_frame(Opcode::Text, "\xe2\x82", false);
    append(wire, client_frame(Opcode::Continuation, "\xac", true));
    auto r = parse_all(wire);
    EXPECT_EQ(r.code, 0);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].data, "\xe2\x82\xac");
}

TEST(FrameParser, RejectsInvalidUtf8InFirstFragmentBeforeMessageEnds) {
    // Only the first fragment arrives: the bad bytes are reported at once, not at FIN.
    auto r = parse_all(client_frame(Opcode::Text, "ok\xed\xa0\x80", false));
    EXPECT_EQ(r.code, kCloseInvalidPayload);
}

TEST(FrameParser, StaysFailedAfterError) {
    FrameParser p;
    RecordingSink sink;
    auto bad = bytes({0x81, 0x00});
    EXPECT_EQ(p.feed(bad.data(), bad.size(), {}, sink).close_code, kCloseProtocolError);
    auto good = client_frame(Opcode::Text, "x");
    FeedResult r = p.feed(good.data(), good.size(), {}, sink);
    EXPECT_EQ(r.close_code, kCloseProtocolError);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_TRUE(sink.events.empty());
}

TEST(FrameParser, RejectsBadHeaderFromItsFirstTwoBytes) {
    // Fail fast: a reserved opcode is reported before the extended length arrives.
    auto r = parse_all(bytes({0x83, 0xFF}));
    EXPECT_EQ(r.code, kCloseProtocolError);
}

}  // namespace
}  // namespace wspush::codec
