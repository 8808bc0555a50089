#include <gtest/gtest.h>

#include "cluster/bus_message.h"

using namespace wspush::cluster;

namespace {
bool parse(const BusWriter& w, BusMessage* m) {
    return parse_bus_message(reinterpret_cast<const uint8_t*>(w.bytes().data()), w.size(), m);
}
}  // namespace

TEST(BusMessage, ToUidRoundTripsBinarySafe) {
    BusWriter w;
    w.begin(BusType::ToUid, "node-1");
    w.u8(2);
    w.str(std::string_view("a\0b", 3));
    w.str(std::string_view("\x00\xff:", 3));
    BusMessage m;
    ASSERT_TRUE(parse(w, &m));
    EXPECT_EQ(m.type, BusType::ToUid);
    EXPECT_EQ(m.origin, "node-1");
    EXPECT_EQ(m.op, 2);
    EXPECT_EQ(m.name, std::string_view("a\0b", 3));
    EXPECT_EQ(m.payload, std::string_view("\x00\xff:", 3));
}

TEST(BusMessage, PresenceListReadsBack) {
    BusWriter w;
    w.begin(BusType::Presence, "n");
    size_t at = w.start_list();
    w.str("u1");
    w.u64(3);
    w.str("u2");
    w.u64(0);
    w.end_list(at, 2);
    BusMessage m;
    ASSERT_TRUE(parse(w, &m));
    BusListReader r(m.list);
    std::string_view uid;
    uint64_t n;
    ASSERT_TRUE(r.next_str(&uid) && r.next_u64(&n));
    EXPECT_EQ(uid, "u1");
    EXPECT_EQ(n, 3u);
    ASSERT_TRUE(r.next_str(&uid) && r.next_u64(&n));
    EXPECT_EQ(n, 0u);
    EXPECT_FALSE(r.next_str(&uid));
}

TEST(BusMessage, RejectsTruncatedTrailingUnknownAndBadOpcode) {
    BusWriter w;
    w.begin(BusType::ToAll, "n");
    w.u8(1);
    w.str("hello");
    BusMessage m;
    ASSERT_TRUE(parse(w, &m));
    std::string bytes(w.bytes());
    for (size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_FALSE(parse_bus_message(reinterpret_cast<const uint8_t*>(bytes.data()), cut, &m)) << cut;
    std::string longer = bytes + "x";
    EXPECT_FALSE(parse_bus_message(reinterpret_cast<const uint8_t*>(longer.data()), longer.size(), &m));
    std::string unknown = bytes;
    unknown[4] = 'Z';
    EXPECT_FALSE(parse_bus_message(reinterpret_cast<const uint8_t*>(unknown.data()), unknown.size(), &m));
    std::string ping_op = bytes;
    ping_op[4 + 1 + 4 + 1] = 9;  // opcode 9 (ping) may not travel
    EXPECT_FALSE(parse_bus_message(reinterpret_cast<const uint8_t*>(ping_op.data()), ping_op.size(), &m));
}

TEST(BusMessage, ListCountLargerThanBufferIsRejected) {
    BusWriter w;
    w.begin(BusType::Snapshot, "n");
    w.u8(1);
    size_t at = w.start_list();
    w.str("u");
    w.u64(1);
    w.end_list(at, 1000000);
    BusMessage m;
    EXPECT_FALSE(parse(w, &m));
}

TEST(BusMessage, EmptyOriginIsRejected) {
    BusWriter w;
    w.begin(BusType::Hello, "");
    BusMessage m;
    EXPECT_FALSE(parse(w, &m));
}
