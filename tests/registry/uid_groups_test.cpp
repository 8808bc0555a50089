#include <gtest/gtest.h>
#define XXH_INLINE_ALL  // XXH3_kSecret, the public secret
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

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

#if defined(__GLIBCXX__)
// HashDoS: uids that anyone can compute offline to share one hash must not share one bucket of
// a group's member set. Two families: 16-byte uids with one std::hash (libstdc++'s is
// MurmurHash64A-like under a fixed, public seed: each 8-byte block's mix is invertible, so the
// second block can be solved to cancel the first), and 32-byte uids with one unseeded XXH3
// (the first 8 bytes equal to XXH3's public secret zero the first multiply). Under the
// process's random seed both spread: ~6 per bucket at most, where a fixed hash puts all 2000
// in one (a lookup then compares against every one of them).
namespace {

uint64_t inverse_mod_2_64(uint64_t a) {  // a odd: Newton's iteration doubles the good bits
    uint64_t x = a;
    for (int i = 0; i < 6; ++i) x *= 2 - a * x;
    return x;
}

std::vector<std::string> std_hash_collisions(size_t n) {
    constexpr uint64_t mul = (uint64_t(0xc6a4a793) << 32) + 0x5bd1e995;  // libstdc++ _Hash_bytes
    constexpr uint64_t seed = 0xc70f6907;                                 // std::hash's seed
    const uint64_t inv = inverse_mod_2_64(mul);
    auto block = [](uint64_t k) {  // one 8-byte block's contribution
        uint64_t a = k * mul;
        return (a ^ (a >> 47)) * mul;
    };
    auto unblock = [&](uint64_t y) {  // block's inverse (a 47-bit shift-xor undoes itself)
        uint64_t b = y * inv;
        return (b ^ (b >> 47)) * inv;
    };
    const uint64_t h0 = seed ^ (16 * mul);
    const uint64_t target = 0x5eed5eed5eed5eedull;  // the state after both blocks, for every uid
    std::vector<std::string> out;
    for (uint64_t k1 = 1; out.size() < n; ++k1) {
        const uint64_t k2 = unblock(((h0 ^ block(k1)) * mul) ^ target);
        std::string s(16, '\0');
        std::memcpy(s.data(), &k1, 8);
        std::memcpy(s.data() + 8, &k2, 8);
        out.push_back(s);
    }
    return out;
}

std::vector<std::string> xxh3_collisions(size_t n) {
    std::vector<std::string> out;
    for (uint64_t v = 0; v < n; ++v) {
        std::string s(32, 'u');
        std::memcpy(s.data(), XXH3_kSecret, 8);
        std::memcpy(s.data() + 8, &v, 8);
        out.push_back(s);
    }
    return out;
}

size_t fullest_bucket(const UidGroups::Members& m) {
    size_t most = 0;
    for (size_t b = 0; b < m.bucket_count(); ++b) most = std::max(most, m.bucket_size(b));
    return most;
}

}  // namespace

TEST(UidGroups, UidsWithOneFixedHashSpreadOverTheMemberSetsBuckets) {
    const std::vector<std::string> murmur = std_hash_collisions(2000), xxh3 = xxh3_collisions(2000);
    std::set<size_t> std_hashes;
    std::set<uint64_t> xxh3_hashes;
    for (const std::string& s : murmur) std_hashes.insert(std::hash<std::string_view>()(s));
    for (const std::string& s : xxh3) xxh3_hashes.insert(XXH3_64bits(s.data(), s.size()));
    ASSERT_EQ(std_hashes.size(), 1u);  // the attacks are real
    ASSERT_EQ(xxh3_hashes.size(), 1u);

    UidGroups g;
    for (const std::string& s : murmur) ASSERT_TRUE(g.join("murmur", s));
    for (const std::string& s : xxh3) ASSERT_TRUE(g.join("xxh3", s));
    ASSERT_EQ(g.size("murmur"), 2000u);
    ASSERT_EQ(g.size("xxh3"), 2000u);
    EXPECT_LE(fullest_bucket(*g.members("murmur")), 16u);
    EXPECT_LE(fullest_bucket(*g.members("xxh3")), 16u);
    for (const std::string& s : murmur) ASSERT_TRUE(g.contains("murmur", s));
}
#endif
