// UidTable: one behaviour per test. Randomized comparison against std containers lives in
// registry_differential_test.cpp.
#include "registry/uid_table.h"
#include "registry/seeded_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace wspush::registry {
namespace {

using Add = UidTable::AddResult;
using Remove = UidTable::RemoveResult;

ConnId conn(uint32_t n) { return ConnId{n, n + 1}; }
std::string uid(size_t i) { return "user-" + std::to_string(i); }
uint64_t constant_hash(const void*, size_t) { return 0x1234567800000005ull; }

std::set<uint64_t> packed(ConnSpan s) {
    std::set<uint64_t> out;
    for (ConnId c : s) out.insert(c.pack());
    return out;
}

TEST(UidTable, EmptyTableFindsNothing) {
    UidTable t;
    EXPECT_TRUE(t.find("alice").empty());
    EXPECT_FALSE(t.contains(""));
    EXPECT_EQ(t.uid_count(), 0u);
    EXPECT_EQ(t.conn_count(), 0u);
}

TEST(UidTable, FirstAddCreatesUidWithOneConnection) {
    UidTable t;
    EXPECT_EQ(t.add("alice", conn(1)), Add::NewUid);
    ConnSpan s = t.find("alice");
    ASSERT_EQ(s.size, 1u);
    EXPECT_EQ(s.data[0], conn(1));
    EXPECT_EQ(t.uid_count(), 1u);
    EXPECT_EQ(t.conn_count(), 1u);
}

TEST(UidTable, SecondConnectionJoinsTheSameUid) {
    UidTable t;
    t.add("alice", conn(1));
    EXPECT_EQ(t.add("alice", conn(2)), Add::AddedToUid);
    EXPECT_EQ(packed(t.find("alice")), (std::set<uint64_t>{conn(1).pack(), conn(2).pack()}));
    EXPECT_EQ(t.uid_count(), 1u);
    EXPECT_EQ(t.conn_count(), 2u);
}

TEST(UidTable, AddingTheSameConnectionTwiceReportsAlreadyPresent) {
    UidTable t;
    t.add("alice", conn(1));
    EXPECT_EQ(t.add("alice", conn(1)), Add::AlreadyPresent);
    t.add("alice", conn(2));
    EXPECT_EQ(t.add("alice", conn(2)), Add::AlreadyPresent);
    EXPECT_EQ(t.conn_count(), 2u);
}

TEST(UidTable, UidLongerThanLimitIsRefused) {
    UidTable t(8);
    EXPECT_EQ(t.add("123456789", conn(1)), Add::TooLong);
    EXPECT_EQ(t.add("12345678", conn(1)), Add::NewUid);
    EXPECT_TRUE(t.find("123456789").empty());
    EXPECT_EQ(t.uid_count(), 1u);
}

TEST(UidTable, EmptyUidIsAnOrdinaryKey) {
    UidTable t;
    EXPECT_EQ(t.add("", conn(1)), Add::NewUid);
    EXPECT_EQ(t.find("").size, 1u);
    EXPECT_TRUE(t.find("x").empty());
    EXPECT_EQ(t.remove("", conn(1)), Remove::UidGone);
    EXPECT_TRUE(t.find("").empty());
}

TEST(UidTable, RemovingTheLastConnectionDeletesTheUid) {
    UidTable t;
    t.add("alice", conn(1));
    EXPECT_EQ(t.remove("alice", conn(1)), Remove::UidGone);
    EXPECT_TRUE(t.find("alice").empty());
    EXPECT_EQ(t.uid_count(), 0u);
    EXPECT_EQ(t.conn_count(), 0u);
}

TEST(UidTable, RemoveTakesOnlyTheGivenConnection) {
    UidTable t;
    t.add("alice", conn(1));
    t.add("alice", conn(2));
    t.add("alice", conn(3));
    EXPECT_EQ(t.remove("alice", conn(2)), Remove::RemovedFromUid);
    EXPECT_EQ(packed(t.find("alice")), (std::set<uint64_t>{conn(1).pack(), conn(3).pack()}));
    EXPECT_EQ(t.remove("alice", conn(3)), Remove::RemovedFromUid);
    ConnSpan s = t.find("alice");
    ASSERT_EQ(s.size, 1u);
    EXPECT_EQ(s.data[0], conn(1));
    EXPECT_EQ(t.remove("alice", conn(1)), Remove::UidGone);
}

TEST(UidTable, RemoveOfAnotherUidsConnectionIsNotFound) {
    UidTable t;
    t.add("alice", conn(1));
    t.add("bob", conn(2));
    EXPECT_EQ(t.remove("alice", conn(2)), Remove::NotFound);
    EXPECT_EQ(t.remove("carol", conn(1)), Remove::NotFound);
    t.add("alice", conn(3));
    EXPECT_EQ(t.remove("alice", conn(2)), Remove::NotFound);
    EXPECT_EQ(t.conn_count(), 3u);
}

TEST(UidTable, StaleHandleOfAReusedSlotIsNotRemovedOrMatched) {
    UidTable t;
    ConnId old_conn{5, 1}, new_conn{5, 2};  // same slot, next generation
    t.add("alice", old_conn);
    t.remove("alice", old_conn);
    t.add("alice", new_conn);
    EXPECT_EQ(t.remove("alice", old_conn), Remove::NotFound);
    EXPECT_EQ(t.add("alice", old_conn), Add::AddedToUid);  // a distinct handle, not a duplicate
    EXPECT_EQ(t.remove("alice", old_conn), Remove::RemovedFromUid);
    ConnSpan s = t.find("alice");
    ASSERT_EQ(s.size, 1u);
    EXPECT_EQ(s.data[0], new_conn);
}

TEST(UidTable, StoredViewEqualsUidAndSurvivesGrowth) {
    UidTable t;
    std::string_view stored;
    ASSERT_EQ(t.add("first-user", conn(0), &stored), Add::NewUid);
    const char* where = stored.data();
    const size_t cap = t.capacity();
    for (size_t i = 1; i < 100000; ++i) t.add(uid(i), conn(uint32_t(i)));
    EXPECT_GT(t.capacity(), cap);
    EXPECT_EQ(stored, "first-user");
    EXPECT_EQ(stored.data(), where);
}

TEST(UidTable, StoredViewFromSecondAddPointsAtTheSameBytes) {
    UidTable t;
    std::string_view a, b;
    t.add("alice", conn(1), &a);
    t.add("alice", conn(2), &b);
    EXPECT_EQ(a.data(), b.data());
    EXPECT_EQ(b, "alice");
}

TEST(UidTable, GrowthKeepsEveryEntryReachableMidMigration) {
    UidTable t;
    size_t i = 0;
    while (!t.migrating() || t.uid_count() < 1000) {
        t.add(uid(i), conn(uint32_t(i)));
        ++i;
    }
    ASSERT_TRUE(t.migrating());
    for (size_t j = 0; j < i; ++j) ASSERT_EQ(t.find(uid(j)).size, 1u) << j;
    EXPECT_TRUE(t.find(uid(i)).empty());
}

TEST(UidTable, ShrinkAfterMassLogoutKeepsSurvivorsReachable) {
    UidTable t;
    const size_t n = 50000;
    for (size_t i = 0; i < n; ++i) t.add(uid(i), conn(uint32_t(i)));
    const size_t big = t.capacity();
    bool saw_migration = false;
    for (size_t i = 0; i < n; ++i) {
        if (i % 10 == 0) continue;
        ASSERT_EQ(t.remove(uid(i), conn(uint32_t(i))), Remove::UidGone);
        if (t.migrating() && i % 97 == 0) {
            saw_migration = true;
            for (size_t j = 0; j < n; j += 10) ASSERT_EQ(t.find(uid(j)).size, 1u) << j;
        }
    }
    EXPECT_TRUE(saw_migration);
    EXPECT_LT(t.capacity(), big);
    EXPECT_EQ(t.uid_count(), n / 10);
    for (size_t j = 0; j < n; ++j) ASSERT_EQ(t.find(uid(j)).size, j % 10 == 0 ? 1u : 0u) << j;
}

// The load limits, exactly: the insert that would leave more than cap - cap/5 uids (0.8) starts
// a grow to twice the array; the remove that leaves fewer than cap/5 (0.2), with no migration
// running, starts a shrink to half; the 16-slot array never shrinks. Checked at every size from
// 16 to 32768 slots and back, so the limits must follow every change of array, shrinks included.
TEST(UidTable, GrowAndShrinkStartExactlyAtTheLoadLimits) {
    UidTable t;
    size_t n = 0, lo = 0;
    for (size_t cap = 16; cap < 32768; cap *= 2) {
        while (t.uid_count() < cap - cap / 5) {
            ASSERT_EQ(t.add(uid(n), conn(uint32_t(n))), Add::NewUid);
            ++n;
            ASSERT_EQ(t.capacity(), cap) << "grew early, at " << t.uid_count() << " uids";
        }
        ASSERT_EQ(t.add(uid(n), conn(uint32_t(n))), Add::NewUid);
        ++n;
        ASSERT_EQ(t.capacity(), 2 * cap) << "no grow past " << cap - cap / 5 << " uids";
    }
    for (size_t cap = t.capacity(); cap > 16; cap /= 2) {
        while (t.advance_resize()) {
        }
        ASSERT_EQ(t.capacity(), cap);
        while (t.uid_count() > cap / 5) {
            ASSERT_EQ(t.remove(uid(lo), conn(uint32_t(lo))), Remove::UidGone);
            ++lo;
            ASSERT_EQ(t.capacity(), cap) << "shrank early, at " << t.uid_count() << " uids";
        }
        ASSERT_EQ(t.remove(uid(lo), conn(uint32_t(lo))), Remove::UidGone);
        ++lo;
        ASSERT_EQ(t.capacity(), cap / 2) << "no shrink below " << cap / 5 << " uids";
    }
    while (t.advance_resize()) {
    }
    while (lo < n) {
        ASSERT_EQ(t.remove(uid(lo), conn(uint32_t(lo))), Remove::UidGone);
        ++lo;
        ASSERT_EQ(t.capacity(), 16u);
    }
    EXPECT_EQ(t.uid_count(), 0u);
}

TEST(UidTable, ChurnAtSteadySizeDoesNotGrowMemory) {
    UidTable t;
    const size_t n = 20000;
    for (size_t i = 0; i < n; ++i) t.add(uid(i), conn(uint32_t(i)));
    for (size_t i = 0; i < 2 * n; ++i) {  // settle any resize
        t.remove(uid(i), conn(uint32_t(i)));
        t.add(uid(i + n), conn(uint32_t(i + n)));
    }
    const size_t before = t.memory_bytes();
    for (size_t i = 2 * n; i < 10 * n; ++i) {
        t.remove(uid(i), conn(uint32_t(i)));
        t.add(uid(i + n), conn(uint32_t(i + n)));
    }
    EXPECT_EQ(t.memory_bytes(), before);
    EXPECT_EQ(t.uid_count(), n);
}

TEST(UidTable, ForcedCollisionsStillSeparateKeys) {
    UidTable t(256, constant_hash);
    for (uint32_t i = 0; i < 500; ++i) ASSERT_EQ(t.add(uid(i), conn(i)), Add::NewUid);
    for (uint32_t i = 0; i < 500; i += 2) ASSERT_EQ(t.remove(uid(i), conn(i)), Remove::UidGone);
    for (uint32_t i = 0; i < 500; ++i) {
        ConnSpan s = t.find(uid(i));
        if (i % 2 == 0) {
            ASSERT_TRUE(s.empty()) << i;
        } else {
            ASSERT_EQ(s.size, 1u) << i;
            ASSERT_EQ(s.data[0], conn(i));
        }
    }
}

// Deletion's backward shift walks a cluster slot by slot, wrapping past the array's end, and
// keeps the clones of the first 15 tags (past the end) in step. Homes here fall in slots
// 120-135, so at 64 and 128 slots (the table holds ~100 uids) the cluster wraps the end.
// Random logins and logouts (by uid and by UidRef) against a model; every uid is looked up
// after each step: an entry shifted wrongly, or left past an empty slot, is not found.
uint64_t clustered_hash(const void* p, size_t n) {
    uint64_t i = 0;
    for (size_t k = 1; k < n; ++k) i = i * 10 + uint64_t(static_cast<const char*>(p)[k] - '0');
    uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
    return (z & ~uint64_t(0xffffffff)) | (120 + (z >> 60)) | ((z >> 40 & 0x3) << 16);
}

TEST(UidTable, BackwardShiftAgainstAModelWithWrappingClusters) {
    UidTable t(64, clustered_hash);
    std::mt19937_64 rng(11);
    constexpr uint32_t kUids = 200;
    std::vector<bool> in(kUids);
    std::vector<UidRef> refs(kUids);
    size_t count = 0;
    for (int step = 0; step < 6000; ++step) {
        const uint32_t i = uint32_t(rng() % kUids);
        const std::string u = "u" + std::to_string(i);
        if (in[i]) {
            const Remove r = rng() % 2 ? t.remove(u, conn(i)) : t.remove(refs[i], conn(i));
            ASSERT_EQ(r, Remove::UidGone) << step;
            in[i] = false, --count;
        } else {
            ASSERT_EQ(t.add(u, conn(i), &refs[i]), Add::NewUid) << step;
            in[i] = true, ++count;
        }
        ASSERT_EQ(t.uid_count(), count);
        for (uint32_t k = 0; k < kUids; ++k)
            ASSERT_EQ(t.find("u" + std::to_string(k)).size, in[k] ? 1u : 0u) << "step " << step << " uid " << k;
    }
}

// Lookups compare a record's bytes against the probe's with overlapping loads whose offsets
// depend on the length (1-3, 4-7, 8-16 bytes; four 16-byte loads for 17-64; memcmp longer).
// Under a constant hash every key is a candidate for every probe, so a byte the compare skipped
// would surface as a wrong hit: uids of each length 0..80 that differ from a stored one in
// exactly one byte must miss.
TEST(UidTable, InlineCompareSeesEveryByteOfEveryLength) {
    UidTable t(256, constant_hash);
    std::vector<std::string> stored;
    for (size_t len = 0; len <= 80; ++len) {
        std::string s(len, 'a');
        for (size_t i = 0; i < len; ++i) s[i] = char('a' + (i * 7 + len) % 26);
        stored.push_back(s);
        ASSERT_EQ(t.add(s, conn(uint32_t(len))), Add::NewUid) << len;
    }
    for (size_t len = 0; len <= 80; ++len) {
        ConnSpan hit = t.find(stored[len]);
        ASSERT_EQ(hit.size, 1u) << len;
        EXPECT_EQ(hit.data[0], conn(uint32_t(len)));
        for (size_t i = 0; i < len; ++i) {
            std::string other = stored[len];
            other[i] = char(other[i] ^ 0x20);
            EXPECT_TRUE(t.find(other).empty()) << "len " << len << " byte " << i;
        }
    }
}

// find()'s inline path hashes uids with XXH3's short (0-16) and mid-size (17-128) functions
// directly; add() and the cold paths must place and look up by the same value,
// XXH3_64bits_withSeed under the table's seed, whatever the seed.
TEST(UidTable, InlineHashIsXxh3ForEveryLengthAndSeed) {
    std::string s;
    for (uint64_t seed : {uint64_t(0), uint64_t(1), uint64_t(0x9E3779B97F4A7C15ull), random_seed()}) {
        for (size_t len = 0; len <= 300; ++len) {
            for (int v = 0; v < 16; ++v) {
                s.assign(len, '\0');
                for (size_t i = 0; i < len; ++i) s[i] = char(v * 37 + i * 11 + len);
                ASSERT_EQ(uid_lookup::hash(s, seed), XXH3_64bits_withSeed(s.data(), s.size(), seed))
                    << len << " " << v << " " << seed;
            }
        }
    }
}

// Each table hashes under its own random seed, so which uids share a home slot cannot be worked
// out offline. Seen from outside: two tables holding the same uids keep them in different
// orders (for_each walks the array). Under one fixed hash the orders would be identical.
// The order in which a table under `seed` (0: a random one) keeps 200 uids: its layout.
std::vector<std::string> layout_under(uint64_t seed) {
    UidTable t(256, nullptr, seed);
    for (uint32_t i = 0; i < 200; ++i) t.add("user-" + std::to_string(i), ConnId{i, 1});
    std::vector<std::string> seen;
    t.for_each([&](std::string_view uid, ConnSpan) { seen.emplace_back(uid); });
    return seen;
}

TEST(UidTable, EachTableHashesUnderItsOwnSeed) {
    const std::vector<std::string> a = layout_under(0), b = layout_under(0);
    ASSERT_EQ(a.size(), 200u);
    ASSERT_EQ(b.size(), 200u);
    EXPECT_NE(a, b);
    EXPECT_NE(random_seed(), random_seed());
}

// A seed given to the constructor (a test replaying a layout) is the one used: two tables with
// the same seed keep the same uids in the same order, and with another seed in another.
TEST(UidTable, AGivenSeedReplaysTheLayout) {
    EXPECT_EQ(layout_under(42), layout_under(42));
    EXPECT_NE(layout_under(42), layout_under(43));
}

// Why the seed goes into the hash, not after it: unseeded XXH3 has collisions anyone can make.
// For a 32-byte input, mix16B(bytes 0-15) multiplies (bytes 0-7 ^ secret word) by (bytes 8-15
// ^ the next word): with bytes 0-7 equal to the public secret's first word it is 0 whatever
// bytes 8-15 hold, so 2^64 uids share one full hash, and any keyed mixing after the hash keeps
// them together. Under a seed the attacker does not know they spread.
TEST(UidTable, UnseededXxh3CollisionsSpreadUnderTheSeed) {
    std::vector<std::string> uids;
    for (uint64_t v = 0; v < 2000; ++v) {
        std::string s(32, 'u');
        std::memcpy(s.data(), XXH3_kSecret, 8);
        std::memcpy(s.data() + 8, &v, 8);
        uids.push_back(s);
    }
    std::set<uint64_t> unseeded, seeded;
    const uint64_t seed = random_seed();
    for (const std::string& s : uids) {
        unseeded.insert(XXH3_64bits(s.data(), s.size()));
        seeded.insert(uid_lookup::hash(s, seed) & 0xffff);  // the home in a 2^16-slot array
    }
    EXPECT_EQ(unseeded.size(), 1u);    // the attack is real: one hash for all 2000
    EXPECT_GT(seeded.size(), 1900u);   // ~1970 distinct homes expected for 2000 random ones
    UidTable t;
    for (uint32_t i = 0; i < uids.size(); ++i) ASSERT_EQ(t.add(uids[i], ConnId{i, 1}), Add::NewUid);
    for (uint32_t i = 0; i < uids.size(); ++i) ASSERT_EQ(t.find(uids[i]).size, 1u);
}

// The std:: tables keyed by client-chosen strings (group names, uids in the cluster directory)
// hash with XXH3 under the process's seed, not std::hash's fixed one.
TEST(SeededStringHash, IsXxh3UnderTheProcessSeed) {
    const uint64_t seed = process_seed();
    EXPECT_EQ(seed, process_seed());  // drawn once
    SeededStringHash h;
    size_t differs = 0;
    for (const char* k : {"", "a", "room-1", "0123456789abcdef0123", "f47ac10b-58cc-4372-a567-0e02b2c3d479"}) {
        const std::string_view v(k);
        EXPECT_EQ(h(v), XXH3_64bits_withSeed(v.data(), v.size(), seed));
        EXPECT_EQ(h(v), h(std::string(v)));
        differs += h(v) != XXH3_64bits(v.data(), v.size());
    }
    EXPECT_EQ(differs, 5u);
}

// Uids of up to kInlineUid bytes are found inline, longer ones out of line: under the real
// hash, every length on both sides of the boundary is found, and its one-byte variants are not.
TEST(UidTable, FindAnswersOnBothSidesOfTheInlineLengthLimit) {
    UidTable t;
    std::vector<std::string> stored;
    for (size_t len = 0; len <= uid_lookup::kInlineUid + 40; ++len) {
        std::string s(len, 'a');
        for (size_t i = 0; i < len; ++i) s[i] = char('A' + (i * 5 + len) % 50);
        stored.push_back(s);
        ASSERT_EQ(t.add(s, conn(uint32_t(len))), Add::NewUid) << len;
    }
    for (size_t len = 0; len < stored.size(); ++len) {
        ConnSpan hit = t.find(stored[len]);
        ASSERT_EQ(hit.size, 1u) << len;
        EXPECT_EQ(hit.data[0], conn(uint32_t(len)));
        if (len == 0) continue;
        std::string other = stored[len];
        other[len / 2] = char(other[len / 2] ^ 0x40);
        EXPECT_TRUE(t.find(other).empty()) << len;
    }
}

// A uid with several connections, and one still in the old array mid-migration, leave find()'s
// inline path for the out-of-line one; both must still answer.
TEST(UidTable, FindLeavesTheInlinePathForSetsAndTheOldArray) {
    UidTable t;
    size_t i = 0;
    while (!t.migrating()) {
        t.add(uid(i), conn(uint32_t(i)));
        ++i;
    }
    ASSERT_EQ(t.add(uid(0), conn(100000)), Add::AddedToUid);
    EXPECT_EQ(packed(t.find(uid(0))), (std::set<uint64_t>{conn(0).pack(), conn(100000).pack()}));
    for (size_t j = 0; j < i; ++j) ASSERT_FALSE(t.find(uid(j)).empty()) << j;
    EXPECT_TRUE(t.find(uid(i)).empty());
}

TEST(UidTable, ForEachVisitsEveryUidOnceEvenMidMigration) {
    UidTable t;
    size_t i = 0;
    while (!t.migrating() || t.uid_count() < 3000) {
        t.add(uid(i), conn(uint32_t(i)));
        ++i;
    }
    t.add(uid(0), conn(999999));
    std::set<std::string> seen;
    size_t conns = 0;
    t.for_each([&](std::string_view u, ConnSpan s) {
        EXPECT_TRUE(seen.insert(std::string(u)).second) << u;
        conns += s.size;
    });
    EXPECT_EQ(seen.size(), i);
    EXPECT_EQ(conns, i + 1);  // uid(0) has two
}

TEST(UidTable, FindManyAgreesWithFindForHitsMissesAndTooLong) {
    UidTable t(24);
    for (uint32_t i = 0; i < 1000; i += 2) t.add(uid(i), conn(i));
    t.add(uid(4), conn(7777));
    std::vector<std::string> names;
    for (uint32_t i = 0; i < 37; ++i) names.push_back(uid(i));  // not a multiple of the block
    names.push_back(std::string(25, 'x'));
    std::vector<std::string_view> views(names.begin(), names.end());
    std::vector<ConnSpan> out(views.size());
    t.find_many(views.data(), views.size(), out.data());
    for (size_t i = 0; i < views.size(); ++i) {
        ConnSpan want = t.find(views[i]);
        ASSERT_EQ(out[i].size, want.size) << i;
        ASSERT_EQ(out[i].data, want.data) << i;
    }
    EXPECT_EQ(out[4].size, 2u);
    EXPECT_EQ(out[3].size, 0u);
    EXPECT_EQ(out[37].size, 0u);
}

TEST(UidTable, AdvanceResizeFinishesAMigrationWithoutTraffic) {
    UidTable t;
    size_t i = 0;
    while (!t.migrating()) {
        t.add(uid(i), conn(uint32_t(i)));
        ++i;
    }
    while (t.advance_resize(3)) {
    }
    EXPECT_FALSE(t.migrating());
    for (size_t j = 0; j < i; ++j) ASSERT_EQ(t.find(uid(j)).size, 1u) << j;
}

TEST(UidTable, MemoryBytesCountsSlotsTagsAndArena) {
    UidTable t;
    // 700 of 1024 slots: not migrating (the old array would count too) and more than 32 inserts
    // short of the grow at 819 (inside those, the next array is mapped ahead and counts too).
    for (size_t i = 0; i < 700; ++i) t.add(uid(i), conn(uint32_t(i)));
    ASSERT_FALSE(t.migrating());
    ASSERT_EQ(t.capacity(), 1024u);
    const size_t table = t.capacity() * 9 + 16;  // 8-byte slot, tag; 16 cloned tags
    const size_t keys = 700 * 16;                // "user-N" (6-8 bytes): a 16- or 24-byte record
    EXPECT_GE(t.memory_bytes(), table + keys);
    // + one 64 KiB arena commit, one 4 KiB chunk of the free stack that holds the line gaps the
    // 24-byte records skipped (registry/ref_stack.h), bookkeeping
    EXPECT_LT(t.memory_bytes(), table + 64 * 1024 + 4096 + 4096);
}

// Each uid is stored once: its record (connection, length, bytes; a 16-byte uid takes 32 bytes)
// and 9 bytes per slot, nothing else per uid.
TEST(UidTable, EachUidIsStoredOnce) {
    UidTable t;
    const size_t n = 5000;
    for (size_t i = 0; i < n; ++i) {
        std::string u = "0123456789abcdef";
        std::snprintf(u.data(), u.size() + 1, "uid-%012zu", i);  // exactly 16 bytes
        ASSERT_EQ(t.add(u, conn(uint32_t(i))), Add::NewUid);
    }
    while (t.advance_resize()) {
    }
    const size_t arrays = t.capacity() * 9 + 16;
    EXPECT_GE(t.memory_bytes(), arrays + n * 32);
    EXPECT_LT(t.memory_bytes(), arrays + n * 32 + 64 * 1024 + 4096);  // + the last chunk's room, bookkeeping
}

// A record of up to 32 bytes (uids up to 22 bytes) never straddles a cache line, so a lookup
// that reaches it reads one line; the stored view points 10 bytes into the record.
TEST(UidTable, ShortRecordsNeverStraddleACacheLine) {
    UidTable t;
    std::mt19937 rng(5);
    for (uint32_t i = 0; i < 3000; ++i) {
        const size_t len = rng() % 23;
        std::string u = std::to_string(i) + "/";
        u.resize(std::max(len, u.size()), 'x');
        std::string_view stored;
        ASSERT_EQ(t.add(u, conn(i), &stored), Add::NewUid);
        const uintptr_t record = uintptr_t(stored.data()) - 10;
        const size_t bytes = (10 + u.size() + 7) / 8 * 8;
        if (bytes <= 32) {
            ASSERT_LE(record % 64 + bytes, 64u) << u.size();
        }
        if (i % 3 == 0) {
            ASSERT_EQ(t.remove(u, conn(i)), Remove::UidGone);  // reuse freed records too
        }
    }
}

// Within 32 inserts of a grow the next array is mapped ahead (its first pages faulted in one
// per insert); the grow then uses it. A shrink that comes first must drop it, and every entry
// stays reachable through both paths.
TEST(UidTable, PreparedGrowArrayIsUsedOrDroppedByAShrink) {
    UidTable t;
    size_t n = 0;
    while (t.capacity() < 4096) t.add(uid(n), conn(uint32_t(n))), ++n;  // 2048 -> 4096: mmap'd sizes
    while (t.advance_resize()) {
    }
    const size_t grow_at = 4096 - 4096 / 5 + 1;  // the insert past max load 0.8
    while (n < grow_at - 40) t.add(uid(n), conn(uint32_t(n))), ++n;
    ASSERT_EQ(t.capacity(), 4096u);
    const size_t cur_only = t.memory_bytes();
    while (n < grow_at - 10) t.add(uid(n), conn(uint32_t(n))), ++n;  // into the last 32 inserts
    EXPECT_FALSE(t.migrating());
    EXPECT_GE(t.memory_bytes(), cur_only + 8192 * 9);  // the 8192-slot array is mapped ahead

    // Shrink first: remove down below 0.2 of 4096. The prepared array goes; entries stay.
    size_t lo = 0;
    while (t.uid_count() >= 4096 / 5) {
        ASSERT_EQ(t.remove(uid(lo), conn(uint32_t(lo))), UidTable::RemoveResult::UidGone);
        ++lo;
    }
    while (t.advance_resize()) {
    }
    EXPECT_EQ(t.capacity(), 2048u);
    EXPECT_LT(t.memory_bytes(), cur_only);
    for (size_t j = lo; j < n; ++j) ASSERT_EQ(t.find(uid(j)).size, 1u) << j;

    // Then grow through a prepared array: every entry reachable during and after.
    while (t.capacity() < 8192) {
        t.add(uid(n), conn(uint32_t(n)));
        ++n;
        if (n % 97 == 0) {
            for (size_t j = lo; j < n; j += 13) ASSERT_EQ(t.find(uid(j)).size, 1u) << j;
        }
    }
    while (t.advance_resize()) {
    }
    for (size_t j = lo; j < n; ++j) ASSERT_EQ(t.find(uid(j)).size, 1u) << j;
    EXPECT_EQ(t.uid_count(), n - lo);
    // advance_resize() went on until the emptied 4096-slot array was unmapped too (it is retired
    // and unmapped in slices): only the 8192-slot array, the arena (two 64 KiB commits), its free
    // stacks and bookkeeping remain. The stacks hold a 4-byte ref per free record in 4 KiB
    // chunks, one partly filled and one spare per size class at most (registry/ref_stack.h),
    // bounded here by twice the refs: the lo removed uids' records, and at most one gap per
    // 64-byte line that the bump pointer skipped (see KeyArena).
    EXPECT_FALSE(t.migrating());
    EXPECT_LT(t.memory_bytes(), 8192 * 9 + 16 + 2 * 64 * 1024 + 2 * 4 * (lo + 2 * 64 * 1024 / 64) + 4096);
}

// ---- UidRef: what add() hands a connection to log out with -----------------------------------

TEST(UidTable, UidRefReadsTheUidBackAndRemovesIt) {
    UidTable t;
    UidRef ref;
    ASSERT_EQ(t.add("alice", conn(1), &ref), Add::NewUid);
    ASSERT_FALSE(ref.empty());
    EXPECT_EQ(ref.len, 5u);
    EXPECT_EQ(t.uid(ref), "alice");
    EXPECT_EQ(packed(t.find("alice")), (std::set<uint64_t>{conn(1).pack()}));
    EXPECT_EQ(t.remove(ref, conn(1)), Remove::UidGone);
    EXPECT_TRUE(t.find("alice").empty());
    EXPECT_EQ(t.uid_count(), 0u);
    EXPECT_EQ(t.conn_count(), 0u);
}

TEST(UidTable, UidRefRemovesOnlyItsOwnConnection) {
    UidTable t;
    UidRef a, b;
    ASSERT_EQ(t.add("alice", conn(1), &a), Add::NewUid);
    ASSERT_EQ(t.add("alice", conn(2), &b), Add::AddedToUid);
    EXPECT_EQ(a.rec, b.rec);  // one record per uid
    EXPECT_EQ(t.remove(a, conn(3)), Remove::NotFound);  // alice's entry, not conn 3's
    EXPECT_EQ(t.remove(a, conn(2)), Remove::RemovedFromUid);
    EXPECT_EQ(packed(t.find("alice")), (std::set<uint64_t>{conn(1).pack()}));
    EXPECT_EQ(t.remove(b, conn(2)), Remove::NotFound);  // already gone
    EXPECT_EQ(t.remove(b, conn(1)), Remove::UidGone);
    EXPECT_EQ(t.uid_count(), 0u);
}

// After a logout the record is free and the next login of any uid of that size reuses it: a
// stale ref then names another entry. It must match nothing unless the table really holds
// that record under the ref's hash bits for that very connection.
TEST(UidTable, StaleUidRefMatchesNothing) {
    UidTable t;
    UidRef old_ref, bob_ref, new_ref;
    ASSERT_EQ(t.add("alice", conn(1), &old_ref), Add::NewUid);
    ASSERT_EQ(t.remove(old_ref, conn(1)), Remove::UidGone);
    ASSERT_EQ(t.add("bobby", conn(1), &bob_ref), Add::NewUid);  // same size: reuses the record
    EXPECT_EQ(bob_ref.rec, old_ref.rec);
    EXPECT_EQ(t.remove(old_ref, conn(1)), Remove::NotFound);  // bobby's hash bits differ
    ASSERT_EQ(t.add("alice", conn(2), &new_ref), Add::NewUid);
    EXPECT_EQ(t.remove(old_ref, conn(1)), Remove::NotFound);  // alice again, but for conn 2
    EXPECT_EQ(t.find("bobby").size, 1u);
    EXPECT_EQ(t.find("alice").size, 1u);
    EXPECT_EQ(t.uid_count(), 2u);
}

TEST(UidTable, ForgedUidRefsAreRefusedAndChangeNothing) {
    UidTable t;
    std::vector<UidRef> refs(100);
    for (uint32_t i = 0; i < 100; ++i) ASSERT_EQ(t.add(uid(i), conn(i), &refs[i]), Add::NewUid);
    const UidRef r = refs[42];
    const UidRef forged[] = {
        UidRef{},                                        // empty
        UidRef{0, r.hash_lo, r.len, r.tag},              // record 0
        UidRef{0xffffffffu, r.hash_lo, r.len, r.tag},    // far past the arena's end
        UidRef{r.rec + 1, r.hash_lo, r.len, r.tag},      // inside a record
        UidRef{r.rec, r.hash_lo ^ 1, r.len, r.tag},      // other hash bits
        UidRef{r.rec, r.hash_lo, r.len, uint8_t(r.tag ^ 1)},
        UidRef{refs[7].rec, r.hash_lo, r.len, r.tag},    // another uid's record
    };
    for (const UidRef& f : forged) EXPECT_EQ(t.remove(f, conn(42)), Remove::NotFound);
    EXPECT_EQ(t.uid_count(), 100u);
    for (uint32_t i = 0; i < 100; ++i) ASSERT_EQ(t.find(uid(i)).size, 1u) << i;
    EXPECT_EQ(t.remove(r, conn(42)), Remove::UidGone);
}

// Refs handed out before a grow find their slot in either array while it migrates, and after.
TEST(UidTable, UidRefsRemoveWhileAResizeMigrates) {
    UidTable t;
    std::vector<UidRef> refs;
    uint32_t n = 0;
    while (!t.migrating() || n < 5000) {
        refs.emplace_back();
        ASSERT_NE(t.add(uid(n), conn(n), &refs.back()), Add::TooLong);
        ++n;
    }
    ASSERT_TRUE(t.migrating());
    size_t removed_mid_migration = 0;
    for (uint32_t i = 0; i < n; i += 2) {
        removed_mid_migration += t.migrating();
        ASSERT_EQ(t.remove(refs[i], conn(i)), Remove::UidGone) << i;
        ASSERT_TRUE(t.find(uid(i)).empty()) << i;
    }
    EXPECT_GT(removed_mid_migration, 0u);
    for (uint32_t i = 1; i < n; i += 2) ASSERT_EQ(t.find(uid(i)).size, 1u) << i;
    for (uint32_t i = 1; i < n; i += 2) ASSERT_EQ(t.remove(refs[i], conn(i)), Remove::UidGone) << i;
    EXPECT_EQ(t.uid_count(), 0u);
}

// Every uid has the same hash: refs must still tell their entries apart (by record).
TEST(UidTable, UidRefsTellCollidingUidsApart) {
    UidTable t(256, constant_hash);
    std::vector<UidRef> refs(300);
    for (uint32_t i = 0; i < 300; ++i) ASSERT_EQ(t.add(uid(i), conn(i), &refs[i]), Add::NewUid);
    std::vector<uint32_t> order(300);
    for (uint32_t i = 0; i < 300; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(5));
    for (size_t k = 0; k < 300; ++k) {
        const uint32_t i = order[k];
        EXPECT_EQ(t.remove(refs[i], conn(i == 0 ? 1 : 0)), Remove::NotFound);  // wrong connection
        ASSERT_EQ(t.remove(refs[i], conn(i)), Remove::UidGone) << i;
        if (k % 37 == 0) {
            for (size_t j = k + 1; j < 300; ++j) ASSERT_EQ(t.find(uid(order[j])).size, 1u) << order[j];
        }
    }
    EXPECT_EQ(t.uid_count(), 0u);
}

}  // namespace
}  // namespace wspush::registry
