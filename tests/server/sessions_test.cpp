// Sessions: a connection keeps the UidRef its login got, reads its uid through it and logs out
// with it; only its own entry goes, and the online list stays dense and indexed.
#include "server/sessions.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace wspush::server {
namespace {

using engine::Connection;

std::unique_ptr<Connection> connection(uint32_t n) {
    auto c = std::make_unique<Connection>();
    c->id = registry::ConnId{n, n + 1};
    return c;
}

void expect_online_list_consistent(const Sessions& s) {
    for (size_t i = 0; i < s.online().size(); ++i) {
        ASSERT_EQ(s.online()[i]->user_index, i);
        ASSERT_TRUE(Sessions::logged_in(*s.online()[i]));
    }
}

TEST(Sessions, LoginKeepsARefThatReadsTheUidBack) {
    Sessions s(64);
    auto c = connection(1);
    EXPECT_FALSE(Sessions::logged_in(*c));
    std::string uid = "alice";
    ASSERT_TRUE(s.login(*c, uid));
    uid[0] = 'X';  // the caller's bytes are not what the connection reads back
    EXPECT_TRUE(Sessions::logged_in(*c));
    EXPECT_EQ(s.uid_of(*c), "alice");
    EXPECT_EQ(s.uids().find("alice").size, 1u);
}

TEST(Sessions, SecondLoginOfALoggedInConnectionIsRefusedAndChangesNothing) {
    Sessions s(64);
    auto c = connection(1);
    ASSERT_TRUE(s.login(*c, "alice"));
    EXPECT_FALSE(s.login(*c, "bob"));
    EXPECT_FALSE(s.login(*c, "alice"));
    EXPECT_EQ(s.uid_of(*c), "alice");
    EXPECT_TRUE(s.uids().find("bob").empty());
    EXPECT_EQ(s.uids().conn_count(), 1u);
    ASSERT_EQ(s.online().size(), 1u);
    s.logout(*c);
    EXPECT_TRUE(s.online().empty());
    EXPECT_EQ(s.uids().uid_count(), 0u);
    ASSERT_TRUE(s.login(*c, "bob"));  // after a logout it may log in again
    EXPECT_EQ(s.uid_of(*c), "bob");
    expect_online_list_consistent(s);
}

TEST(Sessions, LogoutRemovesOnlyThatConnection) {
    Sessions s(64);
    auto a = connection(1), b = connection(2), other = connection(3);
    ASSERT_TRUE(s.login(*a, "alice"));
    ASSERT_TRUE(s.login(*b, "alice"));
    ASSERT_TRUE(s.login(*other, "bob"));
    s.logout(*a);
    EXPECT_FALSE(Sessions::logged_in(*a));
    ASSERT_EQ(s.uids().find("alice").size, 1u);
    EXPECT_EQ(s.uids().find("alice").data[0], b->id);
    EXPECT_EQ(s.uid_of(*b), "alice");  // the entry (and its bytes) stay while b holds it
    EXPECT_EQ(s.uid_of(*other), "bob");
    s.logout(*b);
    EXPECT_TRUE(s.uids().find("alice").empty());
    EXPECT_EQ(s.uids().find("bob").size, 1u);
    ASSERT_EQ(s.online().size(), 1u);
    EXPECT_EQ(s.online()[0], other.get());
    expect_online_list_consistent(s);
}

TEST(Sessions, SecondLogoutChangesNothing) {
    Sessions s(64);
    auto a = connection(1), b = connection(2);
    ASSERT_TRUE(s.login(*a, "alice"));
    ASSERT_TRUE(s.login(*b, "alice"));
    s.logout(*a);
    s.logout(*a);
    EXPECT_EQ(s.uids().find("alice").size, 1u);
    EXPECT_EQ(s.online().size(), 1u);
    EXPECT_EQ(s.uid_of(*b), "alice");
}

TEST(Sessions, TooLongUidIsRefusedAndLeavesTheConnectionLoggedOut) {
    Sessions s(8);
    auto c = connection(1);
    EXPECT_FALSE(s.login(*c, "a-uid-of-many-bytes"));
    EXPECT_FALSE(Sessions::logged_in(*c));
    EXPECT_TRUE(s.online().empty());
    s.logout(*c);  // as on_close does for any connection
    EXPECT_EQ(s.uids().uid_count(), 0u);
}

// Logins and logouts in a mixed order (as connections come and go), over a table that grows
// and shrinks: every logged-in connection reads its own uid back and the table holds exactly
// the logged-in pairs.
TEST(Sessions, ChurnKeepsEveryConnectionsUidAndEntry) {
    Sessions s(64);
    constexpr uint32_t kN = 3000;
    std::vector<std::unique_ptr<Connection>> conns;
    std::vector<std::string> uid_of(kN);
    for (uint32_t i = 0; i < kN; ++i) {
        conns.push_back(connection(i));
        uid_of[i] = "user-" + std::to_string(i % 1700);  // some uids have two connections
        ASSERT_TRUE(s.login(*conns[i], uid_of[i]));
    }
    for (uint32_t i = 0; i < kN; i += 3) s.logout(*conns[i]);
    for (uint32_t i = 0; i < kN; i += 3) ASSERT_TRUE(s.login(*conns[i], uid_of[i] + "-again"));
    for (uint32_t i = 1; i < kN; i += 3) s.logout(*conns[i]);
    expect_online_list_consistent(s);
    size_t online = 0;
    for (uint32_t i = 0; i < kN; ++i) {
        const std::string want = i % 3 == 0 ? uid_of[i] + "-again" : uid_of[i];
        if (i % 3 == 1) {
            ASSERT_FALSE(Sessions::logged_in(*conns[i]));
            continue;
        }
        ++online;
        ASSERT_EQ(s.uid_of(*conns[i]), want) << i;
        bool found = false;
        for (registry::ConnId id : s.uids().find(want)) found |= id == conns[i]->id;
        ASSERT_TRUE(found) << i;
    }
    EXPECT_EQ(s.online().size(), online);
    EXPECT_EQ(s.uids().conn_count(), online);
    for (uint32_t i = 0; i < kN; ++i) s.logout(*conns[i]);
    EXPECT_EQ(s.uids().uid_count(), 0u);
    EXPECT_TRUE(s.online().empty());
}

}  // namespace
}  // namespace wspush::server
