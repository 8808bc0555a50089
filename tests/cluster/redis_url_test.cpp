#include <gtest/gtest.h>

#include "cluster/redis_url.h"

using namespace wspush::cluster;

namespace {
std::vector<RedisEndpoint> ok(std::string_view s) {
    std::vector<RedisEndpoint> v;
    std::string err;
    EXPECT_TRUE(parse_redis_urls(s, &v, &err)) << s << ": " << err;
    return v;
}
std::string bad(std::string_view s) {
    std::vector<RedisEndpoint> v;
    std::string err;
    EXPECT_FALSE(parse_redis_urls(s, &v, &err)) << s;
    return err;
}
}  // namespace

TEST(RedisUrl, HostPortDbAndDefaults) {
    auto v = ok("redis://10.0.0.1:6380/3");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].host, "10.0.0.1");
    EXPECT_EQ(v[0].port, 6380);
    EXPECT_EQ(v[0].db, 3u);
    EXPECT_EQ(ok("redis://localhost")[0].port, 6379);
}

TEST(RedisUrl, UserAndPercentEncodedPasswordNeverInDisplay) {
    auto v = ok("redis://app:p%40ss%3Aw@h:1");
    EXPECT_EQ(v[0].user, "app");
    EXPECT_EQ(v[0].password, "p@ss:w");
    EXPECT_EQ(v[0].display, "redis://***@h:1");
    EXPECT_EQ(ok("redis://onlypw@h:1")[0].password, "onlypw");
}

TEST(RedisUrl, UnixSocketWithDbAndPassword) {
    auto v = ok("unix://:pw@/run/redis.sock?db=2");
    EXPECT_EQ(v[0].unix_path, "/run/redis.sock");
    EXPECT_EQ(v[0].password, "pw");
    EXPECT_EQ(v[0].db, 2u);
    EXPECT_EQ(v[0].display.find("pw@"), std::string::npos);
}

TEST(RedisUrl, CommaListIsShardsInOrder) {
    auto v = ok("redis://a:1,redis://b:2,unix:///s");
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[1].host, "b");
    EXPECT_EQ(v[2].unix_path, "/s");
}

TEST(RedisUrl, Ipv6Brackets) { EXPECT_EQ(ok("redis://[::1]:7000")[0].host, "::1"); }

TEST(RedisUrl, RejectsWithAReason) {
    EXPECT_NE(bad("").find("empty"), std::string::npos);
    EXPECT_NE(bad("http://h").find("expected"), std::string::npos);
    EXPECT_NE(bad("redis://h:0").find("port"), std::string::npos);
    EXPECT_NE(bad("redis://h:1/70000").find("database"), std::string::npos);
    EXPECT_NE(bad("redis://h:1,").find("empty URL"), std::string::npos);
    EXPECT_NE(bad("unix://rel").find("absolute"), std::string::npos);
    EXPECT_NE(bad("redis://a%2:x@h").find("password"), std::string::npos);
    EXPECT_NE(bad("redis://h:1,redis://h:1").find("twice"), std::string::npos);
    EXPECT_NE(bad("redis://[::1").find("IPv6"), std::string::npos);
}

TEST(RedisUrl, ResolvesNamesToNumbersOnce) {
    auto v = ok("redis://localhost:1");
    std::string err;
    ASSERT_TRUE(resolve_endpoint(v[0], &err)) << err;
    EXPECT_TRUE(v[0].host == "127.0.0.1" || v[0].host == "::1") << v[0].host;
}
