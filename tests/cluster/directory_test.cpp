#include <gtest/gtest.h>

#include "cluster/directory.h"

using namespace wspush::cluster;

TEST(Directory, HoldersFollowPresenceCounts) {
    Directory d;
    size_t a = d.touch_node("A", 0), b = d.touch_node("B", 0);
    d.set("u", a, 2);
    d.set("u", b, 1);
    EXPECT_EQ(d.remote_connections("u"), 3u);
    d.set("u", a, 0);
    ASSERT_NE(d.holders("u"), nullptr);
    EXPECT_EQ(d.holders("u")->size(), 1u);
    d.set("u", b, 0);
    EXPECT_EQ(d.holders("u"), nullptr);
    EXPECT_EQ(d.uid_count(), 0u);
}

TEST(Directory, SilentNodeIsForgottenWithItsUids) {
    Directory d;
    size_t a = d.touch_node("A", 0), b = d.touch_node("B", 0);
    d.set("ua", a, 1);
    d.set("ub", b, 1);
    d.touch_node("B", 4000);
    std::vector<std::string> gone;
    d.expire(5500, 5000, &gone);
    EXPECT_EQ(gone, std::vector<std::string>{"A"});
    EXPECT_EQ(d.holders("ua"), nullptr);
    EXPECT_NE(d.holders("ub"), nullptr);
    EXPECT_EQ(d.live_nodes(), 1u);
    EXPECT_EQ(d.find_node("A"), SIZE_MAX);
}

TEST(Directory, SnapshotReplacesOnlyThatNode) {
    Directory d;
    size_t a = d.touch_node("A", 0), b = d.touch_node("B", 0);
    d.set("x", a, 1);
    d.set("x", b, 1);
    d.set("y", a, 1);
    d.clear_node(a);
    EXPECT_EQ(d.remote_connections("x"), 1u);
    EXPECT_EQ(d.holders("y"), nullptr);
}

TEST(Directory, FreshNeedsASnapshotAndRecentHeartbeat) {
    Directory d;
    size_t a = d.touch_node("A", 100);
    EXPECT_FALSE(d.fresh(a, 100, 3000));
    d.node(a).have_snapshot = true;
    EXPECT_TRUE(d.fresh(a, 3000, 3000));
    EXPECT_FALSE(d.fresh(a, 3200, 3000));
    d.mark_all_stale();
    EXPECT_FALSE(d.fresh(a, 100, 3000));
}

TEST(Directory, NodeCountIsBounded) {
    Directory d;
    for (size_t i = 0; i < Directory::kMaxNodes; ++i) ASSERT_NE(d.touch_node("n" + std::to_string(i), 0), SIZE_MAX);
    EXPECT_EQ(d.touch_node("one-too-many", 0), SIZE_MAX);
}

// A node whose heartbeats are late (queued behind a data backlog) but whose messages keep
// arriving is alive: any message refreshes it.
TEST(Directory, AnyMessageFromANodeKeepsItFreshAndRemembered) {
    Directory d;
    size_t a = d.touch_node("A", 0);
    d.node(a).have_snapshot = true;
    d.set("ua", a, 1);
    for (uint32_t t = 1000; t <= 20000; t += 1000) d.heard("A", t);
    EXPECT_TRUE(d.fresh(a, 20500, 3500));
    std::vector<std::string> gone;
    d.expire(20500, 5000, &gone);
    EXPECT_TRUE(gone.empty());
    EXPECT_NE(d.holders("ua"), nullptr);
    d.expire(25500, 5000, &gone);  // then silence: forgotten as ever
    EXPECT_EQ(gone, std::vector<std::string>{"A"});
}

TEST(Directory, DataFromAnUnknownNodeDoesNotCreateIt) {
    Directory d;
    d.heard("stranger", 100);
    EXPECT_EQ(d.find_node("stranger"), SIZE_MAX);
    EXPECT_EQ(d.live_nodes(), 0u);
}

// Its announced snapshot travels the data links and may arrive after its first heartbeat (the
// control lane): a node heard first is given time before we ask it for a snapshot again.
TEST(Directory, ANewNodeCountsAsAskedWhenFirstHeard) {
    Directory d;
    size_t a = d.touch_node("A", 7000);
    EXPECT_EQ(d.node(a).asked_ms, 7000u);
}
