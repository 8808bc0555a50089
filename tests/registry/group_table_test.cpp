// GroupTable: one behaviour per test.
#include "registry/group_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace wspush::registry {
namespace {

using Join = GroupTable::JoinResult;

ConnId conn(uint32_t n) { return ConnId{n, 1}; }

std::set<uint32_t> slots(ConnSpan s) {
    std::set<uint32_t> out;
    for (ConnId c : s) out.insert(c.slot);
    return out;
}

TEST(GroupTable, JoinCreatesGroupWithOneMember) {
    GroupTable g;
    EXPECT_EQ(g.join("room", conn(1)), Join::Joined);
    ConnSpan m = g.members("room");
    ASSERT_EQ(m.size, 1u);
    EXPECT_EQ(m.data[0], conn(1));
    EXPECT_EQ(g.group_count(), 1u);
    EXPECT_EQ(g.group_size("room"), 1u);
    EXPECT_EQ(g.membership_count(conn(1)), 1u);
}

TEST(GroupTable, JoiningTwiceReportsAlreadyMember) {
    GroupTable g;
    g.join("room", conn(1));
    EXPECT_EQ(g.join("room", conn(1)), Join::AlreadyMember);
    EXPECT_EQ(g.group_size("room"), 1u);
}

TEST(GroupTable, NameLongerThanLimitIsRefused) {
    GroupTable g(4);
    EXPECT_EQ(g.join("abcde", conn(1)), Join::TooLong);
    EXPECT_EQ(g.join("abcd", conn(1)), Join::Joined);
    EXPECT_EQ(g.group_count(), 1u);
}

TEST(GroupTable, LeaveRemovesOnlyThatMembership) {
    GroupTable g;
    g.join("a", conn(1));
    g.join("a", conn(2));
    g.join("b", conn(1));
    EXPECT_TRUE(g.leave("a", conn(1)));
    EXPECT_EQ(slots(g.members("a")), std::set<uint32_t>{2});
    EXPECT_EQ(slots(g.members("b")), std::set<uint32_t>{1});
    EXPECT_EQ(g.membership_count(conn(1)), 1u);
}

TEST(GroupTable, LeaveOfANonMemberReturnsFalse) {
    GroupTable g;
    g.join("a", conn(1));
    EXPECT_FALSE(g.leave("a", conn(2)));
    EXPECT_FALSE(g.leave("nope", conn(1)));
    EXPECT_EQ(g.group_size("a"), 1u);
}

TEST(GroupTable, EmptiedGroupIsDeleted) {
    GroupTable g;
    g.join("a", conn(1));
    g.leave("a", conn(1));
    EXPECT_EQ(g.group_count(), 0u);
    EXPECT_TRUE(g.members("a").empty());
    EXPECT_EQ(g.group_size("a"), 0u);
}

TEST(GroupTable, UngroupRemovesEveryMemberAndReturnsTheCount) {
    GroupTable g;
    for (uint32_t i = 0; i < 5; ++i) g.join("a", conn(i));
    g.join("b", conn(3));
    EXPECT_EQ(g.ungroup("a"), 5u);
    EXPECT_EQ(g.group_count(), 1u);
    EXPECT_EQ(g.membership_count(conn(0)), 0u);
    EXPECT_EQ(g.membership_count(conn(3)), 1u);
    EXPECT_EQ(slots(g.members("b")), std::set<uint32_t>{3});
    EXPECT_EQ(g.ungroup("a"), 0u);
}

TEST(GroupTable, LeaveAllRemovesEveryMembershipOfTheConnection) {
    GroupTable g;
    g.join("a", conn(1));
    g.join("b", conn(1));
    g.join("c", conn(1));
    g.join("b", conn(2));
    EXPECT_EQ(g.leave_all(conn(1)), 3u);
    EXPECT_EQ(g.membership_count(conn(1)), 0u);
    EXPECT_EQ(g.group_count(), 1u);
    EXPECT_EQ(slots(g.members("b")), std::set<uint32_t>{2});
    EXPECT_EQ(g.leave_all(conn(1)), 0u);
}

TEST(GroupTable, StaleHandleCannotLeaveTheNewOwnersGroups) {
    GroupTable g;
    ConnId old_conn{7, 1}, new_conn{7, 2};
    g.join("a", old_conn);
    g.leave_all(old_conn);
    g.join("a", new_conn);
    EXPECT_FALSE(g.leave("a", old_conn));
    EXPECT_EQ(g.leave_all(old_conn), 0u);
    EXPECT_EQ(g.membership_count(old_conn), 0u);
    ConnSpan m = g.members("a");
    ASSERT_EQ(m.size, 1u);
    EXPECT_EQ(m.data[0], new_conn);
}

TEST(GroupTable, MembershipsLeftByAClosedConnectionAreDroppedWhenTheSlotIsReused) {
    GroupTable g;
    ConnId old_conn{7, 1}, new_conn{7, 2};
    g.join("a", old_conn);
    g.join("b", old_conn);
    g.join("b", conn(1));
    g.join("c", new_conn);  // old_conn closed without leave_all
    EXPECT_TRUE(g.members("a").empty());
    EXPECT_EQ(slots(g.members("b")), std::set<uint32_t>{1});
    EXPECT_EQ(g.membership_count(new_conn), 1u);
    EXPECT_EQ(g.group_count(), 2u);
}

TEST(GroupTable, SwapRemoveKeepsMovedMemberLeavable) {
    GroupTable g;
    for (uint32_t i = 0; i < 4; ++i) g.join("a", conn(i));
    EXPECT_TRUE(g.leave("a", conn(0)));  // conn(3) moves into index 0
    EXPECT_TRUE(g.leave("a", conn(3)));
    EXPECT_EQ(slots(g.members("a")), (std::set<uint32_t>{1, 2}));
}

TEST(GroupTable, MembersAreContiguous) {
    GroupTable g;
    for (uint32_t i = 0; i < 100; ++i) g.join("a", conn(i));
    ConnSpan m = g.members("a");
    ASSERT_EQ(m.size, 100u);
    EXPECT_EQ(m.end() - m.begin(), 100);
    EXPECT_EQ(slots(m).size(), 100u);
}

}  // namespace
}  // namespace wspush::registry
