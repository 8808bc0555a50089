#include <gtest/gtest.h>

#include "registry/uid_groups.h"

using wspush::registry::UidGroups;

TEST(UidGroups, JoinIsIdempotentAndCountsMemberships) {
    UidGroups g;
    EXPECT_TRUE(g.join("room", "a"));
    EXPECT_FALSE(g.join("room", "a"));
    EXPECT_TRUE(g.join("room", "b"));
    EXPECT_TRUE(g.join("other", "a"));
    EXPECT_EQ(g.size("room"), 2u);
    EXPECT_EQ(g.group_count(), 2u);
    EXPECT_EQ(g.membership_count(), 3u);
}

TEST(UidGroups, LeavingTheLastMemberDeletesTheGroup) {
    UidGroups g;
    g.join("room", "a");
    EXPECT_FALSE(g.leave("room", "b"));
    EXPECT_TRUE(g.leave("room", "a"));
    EXPECT_EQ(g.members("room"), nullptr);
    EXPECT_EQ(g.group_count(), 0u);
}

TEST(UidGroups, UngroupRemovesEveryMember) {
    UidGroups g;
    g.join("room", "a");
    g.join("room", "b");
    EXPECT_EQ(g.ungroup("room"), 2u);
    EXPECT_EQ(g.ungroup("room"), 0u);
    EXPECT_EQ(g.membership_count(), 0u);
    EXPECT_FALSE(g.contains("room", "a"));
}
