// SlotMap: generation-tagged handles. The property that matters to the server: a handle kept
// past a close never reaches the connection that reuses the slot.
#include "registry/slot_map.h"

#include <gtest/gtest.h>

#include <string>

namespace wspush::registry {
namespace {

TEST(SlotMap, DefaultConnIdIsInvalid) {
    EXPECT_FALSE(ConnId{}.valid());
    SlotMap<int> map;
    EXPECT_EQ(map.get(ConnId{}), nullptr);
}

TEST(SlotMap, FirstHandleHasLiveGeneration) {
    SlotMap<int> map;
    auto [id, p] = map.emplace(7);
    EXPECT_TRUE(id.valid());
    EXPECT_EQ(id.slot, 0u);
    EXPECT_EQ(*p, 7);
    EXPECT_EQ(map.get(id), p);
    EXPECT_EQ(map.size(), 1u);
}

TEST(SlotMap, StaleHandleAfterEraseReturnsNull) {
    SlotMap<int> map;
    ConnId id = map.emplace(1).first;
    ASSERT_TRUE(map.erase(id));
    EXPECT_EQ(map.get(id), nullptr);
    EXPECT_FALSE(map.erase(id));
    EXPECT_EQ(map.size(), 0u);
}

TEST(SlotMap, StaleHandleNeverReachesTheConnectionReusingItsSlot) {
    SlotMap<std::string> map;
    ConnId old_id = map.emplace("alice").first;
    ASSERT_TRUE(map.erase(old_id));
    auto [new_id, p] = map.emplace("bob");
    ASSERT_EQ(new_id.slot, old_id.slot);  // LIFO reuse
    EXPECT_NE(new_id.gen, old_id.gen);
    EXPECT_EQ(map.get(old_id), nullptr);
    EXPECT_FALSE(map.erase(old_id));
    ASSERT_EQ(map.get(new_id), p);
    EXPECT_EQ(*map.get(new_id), "bob");
}

TEST(SlotMap, PackUnpackRoundTrips) {
    ConnId c{123456, 0xdeadbeef};
    EXPECT_EQ(ConnId::unpack(c.pack()), c);
}

TEST(SlotMap, EachReuseOfASlotBumpsItsGeneration) {
    SlotMap<int> map;
    ConnId id = map.emplace(0).first;
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(map.erase(id));
        id = map.emplace(i).first;
        ASSERT_EQ(id.slot, 0u);
    }
    EXPECT_EQ(id.gen, 1001u);
}

TEST(SlotMap, PointersStayValidAcrossChunkGrowth) {
    SlotMap<int, 4> map;
    auto [first, p] = map.emplace(42);
    for (int i = 0; i < 100; ++i) map.emplace(i);
    EXPECT_EQ(map.get(first), p);
    EXPECT_EQ(*p, 42);
}

TEST(SlotMap, ForEachVisitsExactlyTheLiveObjects) {
    SlotMap<int> map;
    ConnId a = map.emplace(1).first;
    ConnId b = map.emplace(2).first;
    ConnId c = map.emplace(3).first;
    map.erase(b);
    int sum = 0, n = 0;
    map.for_each([&](ConnId id, int& v) {
        EXPECT_TRUE(id == a || id == c);
        sum += v;
        ++n;
    });
    EXPECT_EQ(n, 2);
    EXPECT_EQ(sum, 4);
}

TEST(SlotMap, DestructorRunsForLiveObjectsOnly) {
    static int live = 0;
    struct Counted {
        Counted() { ++live; }
        ~Counted() { --live; }
    };
    {
        SlotMap<Counted> map;
        ConnId a = map.emplace().first;
        map.emplace();
        map.erase(a);
        EXPECT_EQ(live, 1);
    }
    EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace wspush::registry
