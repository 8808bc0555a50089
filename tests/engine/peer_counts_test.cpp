#include "engine/peer_counts.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

using wspush::engine::PeerCounts;

namespace {

sockaddr_storage v4(const char* ip, uint16_t port = 1) {
    sockaddr_storage ss{};
    auto& in = reinterpret_cast<sockaddr_in&>(ss);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    inet_pton(AF_INET, ip, &in.sin_addr);
    return ss;
}

sockaddr_storage v6(const char* ip) {
    sockaddr_storage ss{};
    auto& in6 = reinterpret_cast<sockaddr_in6&>(ss);
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &in6.sin6_addr);
    return ss;
}

}  // namespace

TEST(PeerCounts, RefusesTheConnectionPastTheLimitAndCountsNothingForIt) {
    PeerCounts p;
    uint32_t idx[3];
    EXPECT_TRUE(p.add(v4("10.0.0.1", 1), 2, &idx[0]));
    EXPECT_TRUE(p.add(v4("10.0.0.1", 2), 2, &idx[1]));
    EXPECT_EQ(idx[0], idx[1]) << "ports do not matter";
    EXPECT_FALSE(p.add(v4("10.0.0.1", 3), 2, &idx[2]));
    EXPECT_TRUE(p.add(v4("10.0.0.2"), 2, &idx[2])) << "another address has its own count";
    p.release(idx[0]);
    EXPECT_TRUE(p.add(v4("10.0.0.1"), 2, &idx[0])) << "a release gives the place back";
    EXPECT_EQ(p.addresses(), 2u);
}

TEST(PeerCounts, ZeroMeansNoLimit) {
    PeerCounts p;
    uint32_t idx;
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(p.add(v4("127.0.0.1"), 0, &idx));
    EXPECT_EQ(p.addresses(), 1u);
}

TEST(PeerCounts, CountsIpv6ByItsSlash64) {
    PeerCounts p;
    uint32_t a, b, c;
    EXPECT_TRUE(p.add(v6("2001:db8:1:2::1"), 2, &a));
    EXPECT_TRUE(p.add(v6("2001:db8:1:2:ffff:ffff:ffff:ffff"), 2, &b));
    EXPECT_EQ(a, b);
    EXPECT_FALSE(p.add(v6("2001:db8:1:2:abcd::9"), 2, &c)) << "the same /64";
    EXPECT_TRUE(p.add(v6("2001:db8:1:3::1"), 2, &c)) << "the next /64";
}

TEST(PeerCounts, AnIpv4MappedAddressCountsAsItsIpv4Address) {
    PeerCounts p;
    uint32_t a, b;
    EXPECT_TRUE(p.add(v4("192.0.2.7"), 1, &a));
    EXPECT_FALSE(p.add(v6("::ffff:192.0.2.7"), 1, &b));
    EXPECT_TRUE(p.add(v6("::ffff:192.0.2.8"), 1, &b)) << "the whole IPv4 address counts, not a /64 of it";
}

TEST(PeerCounts, RecyclesEntriesOfAddressesThatLeft) {
    PeerCounts p;
    uint32_t idx;
    for (int round = 0; round < 3; ++round) {
        char ip[32];
        for (int i = 0; i < 100; ++i) {
            snprintf(ip, sizeof ip, "10.%d.0.%d", round, i);
            ASSERT_TRUE(p.add(v4(ip), 1, &idx));
            ASSERT_LT(idx, 100u) << "entries of released addresses are reused";
            p.release(idx);
        }
    }
    EXPECT_EQ(p.addresses(), 0u);
}
