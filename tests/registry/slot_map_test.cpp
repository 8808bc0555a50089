// SlotMap: generation-tagged handles. The property that matters to the server: a handle kept
// past a close never reaches the connection that reuses the slot.
#include "registry/slot_map.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

// Allocation accounting for the exception-safety tests: counts live blocks, and can be armed to
// fail the next allocation of an exact size. Off (counting only) for every other test.
namespace {
long g_live_blocks = 0;
size_t g_fail_size = 0;  // 0: never fail
}  // namespace

void* operator new(size_t n) {
    if (g_fail_size != 0 && n == g_fail_size) {
        g_fail_size = 0;
        throw std::bad_alloc();
    }
    void* p = std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    ++g_live_blocks;
    return p;
}
void operator delete(void* p) noexcept {
    if (!p) return;
    --g_live_blocks;
    std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

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

struct ThrowsOn13 {
    int v;
    explicit ThrowsOn13(int x) : v(x) {
        if (x == 13) throw std::runtime_error("13");
    }
};

TEST(SlotMap, ThrowingConstructorKeepsTheFreeSlotForTheNextEmplace) {
    SlotMap<ThrowsOn13> map;
    ConnId a = map.emplace(1).first;
    map.emplace(2);
    ASSERT_TRUE(map.erase(a));
    EXPECT_THROW(map.emplace(13), std::runtime_error);
    EXPECT_EQ(map.size(), 1u);
    ConnId b = map.emplace(3).first;
    EXPECT_EQ(b.slot, a.slot);  // the freed index was not lost
    EXPECT_EQ(map.capacity(), 2u);
}

TEST(SlotMap, ThrowingConstructorOnAFreshSlotLeavesCapacityUnchanged) {
    SlotMap<ThrowsOn13, 4> map;
    for (int i = 0; i < 4; ++i) map.emplace(i);
    EXPECT_THROW(map.emplace(13), std::runtime_error);  // needed a new chunk, then threw
    EXPECT_EQ(map.capacity(), 4u);
    auto [id, p] = map.emplace(5);
    EXPECT_EQ(id.slot, 4u);
    for (int i = 6; i < 12; ++i) map.emplace(i);  // and the chunks after it index correctly
    EXPECT_EQ(map.get(id), p);
    EXPECT_EQ(p->v, 5);
    EXPECT_EQ(map.size(), 11u);
}

TEST(SlotMap, ChunkIsFreedWhenTheChunkVectorCannotGrow) {
    SlotMap<int, 1> map;  // one chunk per object: the second emplace grows chunks_ from 1 to 2
    map.emplace(1);
    const long before = g_live_blocks;
    g_fail_size = 2 * sizeof(void*);  // the vector's new buffer for 2 unique_ptrs
    EXPECT_THROW(map.emplace(2), std::bad_alloc);
    g_fail_size = 0;
    EXPECT_EQ(g_live_blocks, before);  // the chunk allocated first was not leaked
    EXPECT_EQ(map.size(), 1u);
    EXPECT_EQ(map.capacity(), 1u);
    EXPECT_EQ(map.emplace(3).first.slot, 1u);
}

}  // namespace
}  // namespace wspush::registry
