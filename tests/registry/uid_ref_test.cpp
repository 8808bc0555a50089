// UidRef and what it rests on: the arena's inline key copy at every length, KeyArena::holds at
// the used range's edges, remove(ref) for AlreadyPresent adds, re-added uids and a shrinking
// table, and the backward-shift deletion across the array's end (the cloned tags). One
// behaviour per test; the basic UidRef cases are in uid_table_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "registry/key_arena.h"
#include "registry/ref_stack.h"
#include "registry/uid_table.h"

namespace wspush::registry {
namespace {

using Add = UidTable::AddResult;
using Remove = UidTable::RemoveResult;

ConnId conn(uint32_t n) { return ConnId{n, n + 1}; }

// n bytes, none equal to their neighbour's or to the same position of another key: a copy that
// drops, repeats or shifts a chunk shows.
std::string key_of(size_t n, unsigned salt) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((i * 7 + n * 13 + salt * 101 + 1) & 0xff);
    return s;
}

// The same key as a view into a buffer with 0xff bytes on both sides: a copy that reads before
// or past the key (and writes what it read into the record) shows as changed bytes or length.
struct PaddedKey {
    std::string buf;
    explicit PaddedKey(size_t n, unsigned salt) : buf(std::string(64, '\xff') + key_of(n, salt) + std::string(64, '\xff')) {}
    std::string_view view() const { return std::string_view(buf).substr(64, buf.size() - 128); }
};

// Records live in an mmap'd range ASan does not watch, so a copy past a record's end would
// only show as a neighbour's bytes changed: every record is checked after all are written, and
// again after the freed ones are reused (written between live neighbours).
TEST(KeyArena, EveryKeyLengthFrom0To300ReadsBackExactly) {
    constexpr size_t kMax = 300;
    KeyArena a(kMax);
    std::vector<uint32_t> refs(kMax + 1);
    for (size_t n = 0; n <= kMax; ++n) refs[n] = a.alloc(PaddedKey(n, 0).view(), conn(uint32_t(n)));
    for (size_t n = 0; n <= kMax; ++n) {
        ASSERT_EQ(a.view(refs[n]), key_of(n, 0)) << n;
        ASSERT_EQ(a.conn(refs[n]), conn(uint32_t(n))) << n;
    }
    for (size_t n = 0; n <= kMax; n += 2) a.free(refs[n], n);
    for (size_t k = 0; k <= kMax; k += 2) {
        const size_t n = kMax - k;  // reverse order: each freed record of its size is reused
        refs[n] = a.alloc(PaddedKey(n, 1).view(), conn(uint32_t(n + 1000)));
    }
    for (size_t n = 0; n <= kMax; ++n) {
        const unsigned salt = n % 2 == 0 ? 1 : 0;
        ASSERT_EQ(a.view(refs[n]), key_of(n, salt)) << n;
        ASSERT_EQ(a.conn(refs[n]), conn(uint32_t(n % 2 == 0 ? n + 1000 : n))) << n;
    }
}

// The arena's free stacks: exact LIFO order across chunk boundaries, and a stack that hovers at
// a chunk boundary reuses its spare chunk instead of allocating (memory_bytes counts chunks).
TEST(RefStack, LifoAcrossChunksAndASpareAtTheBoundary) {
    constexpr uint32_t k = RefStack::kChunkRefs;
    RefStack s;
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.memory_bytes(), 0u);
    const uint32_t n = 3 * k + 5;
    for (uint32_t i = 1; i <= n; ++i) s.push(i);
    EXPECT_EQ(s.memory_bytes(), 4 * 4096u);
    for (uint32_t i = n; i > 2 * k; --i) ASSERT_EQ(s.pop(), i);
    EXPECT_EQ(s.memory_bytes(), 3 * 4096u);  // two full chunks and one spare
    for (int round = 0; round < 10000; ++round) {
        s.push(7);
        ASSERT_EQ(s.pop(), 7u);
    }
    EXPECT_EQ(s.memory_bytes(), 3 * 4096u);
    for (uint32_t i = 2 * k; i > 0; --i) ASSERT_EQ(s.pop(), i);
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.memory_bytes(), 2 * 4096u);  // the bottom chunk and one spare
    s.push(42);
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.pop(), 42u);
    EXPECT_TRUE(s.empty());
}

// holds(ref): ref names a record head (10 bytes, 2 units) inside [1, first never-used unit).
TEST(KeyArena, HoldsOnlyRefsWhoseHeadIsInsideTheUsedRange) {
    KeyArena a(64);
    EXPECT_FALSE(a.holds(0));
    EXPECT_FALSE(a.holds(8));  // nothing allocated: no ref is a record
    const uint32_t first = a.alloc("abcdef", conn(1));  // 10 + 6 bytes: 2 units
    EXPECT_EQ(first, 8u);                                // unit 0's line is reserved
    EXPECT_TRUE(a.holds(first));
    EXPECT_FALSE(a.holds(first + 1));  // its head would run past the used range
    EXPECT_FALSE(a.holds(first + 2));
    EXPECT_FALSE(a.holds(0));
    EXPECT_FALSE(a.holds(UINT32_MAX));
    const uint32_t second = a.alloc(std::string(30, 'x'), conn(2));  // 40 bytes: 5 units
    EXPECT_EQ(second, first + 2);
    EXPECT_TRUE(a.holds(second + 3));  // inside the used range: a caller must check further
    EXPECT_FALSE(a.holds(second + 4));
}

// Through the table: a ref from add() reads every length back and removes it.
TEST(UidRef, EveryUidLengthFrom0To300ReadsBackAndRemoves) {
    constexpr size_t kMax = 300;
    UidTable t(kMax);
    std::vector<UidRef> refs(kMax + 1);
    for (size_t n = 0; n <= kMax; ++n) {
        ASSERT_EQ(t.add(PaddedKey(n, 2).view(), conn(uint32_t(n)), &refs[n]), Add::NewUid) << n;
        ASSERT_EQ(refs[n].len, n);
    }
    for (size_t n = 0; n <= kMax; ++n) {
        ASSERT_EQ(t.uid(refs[n]), key_of(n, 2)) << n;
        ASSERT_EQ(t.find(key_of(n, 2)).size, 1u) << n;
    }
    for (size_t n = 0; n <= kMax; ++n) {
        ASSERT_EQ(t.remove(refs[n], conn(uint32_t(n))), Remove::UidGone) << n;
        ASSERT_TRUE(t.find(key_of(n, 2)).empty()) << n;
    }
    EXPECT_EQ(t.uid_count(), 0u);
}

// The uid() view points at the bytes the table keeps (those the view overload hands out).
TEST(UidRef, UidViewIsTheTablesOwnCopy) {
    UidTable t;
    UidRef ref;
    std::string_view stored;
    std::string mine = "alice";
    ASSERT_EQ(t.add(mine, conn(1), &ref), Add::NewUid);
    ASSERT_EQ(t.add(mine, conn(2), &stored), Add::AddedToUid);
    EXPECT_EQ(t.uid(ref).data(), stored.data());
    mine[0] = 'X';  // the caller's buffer is not what the table keeps
    EXPECT_EQ(t.uid(ref), "alice");
}

TEST(UidRef, AlreadyPresentAddHandsBackTheSameRef) {
    UidTable t;
    UidRef first, again;
    ASSERT_EQ(t.add("alice", conn(1), &first), Add::NewUid);
    ASSERT_EQ(t.add("alice", conn(1), &again), Add::AlreadyPresent);
    EXPECT_EQ(again.rec, first.rec);
    EXPECT_EQ(again.hash_lo, first.hash_lo);
    EXPECT_EQ(again.tag, first.tag);
    EXPECT_EQ(again.len, first.len);
    EXPECT_EQ(t.conn_count(), 1u);
    EXPECT_EQ(t.remove(again, conn(1)), Remove::UidGone);
    EXPECT_EQ(t.remove(first, conn(1)), Remove::NotFound);
}

TEST(UidRef, TooLongAddLeavesTheRefUntouched) {
    UidTable t(4);
    UidRef ref;
    EXPECT_EQ(t.add("alice", conn(1), &ref), Add::TooLong);
    EXPECT_TRUE(ref.empty());
    EXPECT_EQ(t.remove(ref, conn(1)), Remove::NotFound);
}

// Three connections under one uid, removed by their refs in every order: each removes only
// its own connection, the set collapses back to one connection and then to nothing.
TEST(UidRef, MultiConnectionUidRemovesByRefInEveryOrder) {
    std::vector<uint32_t> order{1, 2, 3};
    do {
        UidTable t;
        UidRef refs[4];
        for (uint32_t c = 1; c <= 3; ++c) ASSERT_NE(t.add("room", conn(c), &refs[c]), Add::TooLong);
        for (size_t k = 0; k < 3; ++k) {
            const uint32_t c = order[k];
            for (size_t j = 0; j < k; ++j) ASSERT_EQ(t.remove(refs[c], conn(order[j])), Remove::NotFound);
            ASSERT_EQ(t.remove(refs[c], conn(c)), k == 2 ? Remove::UidGone : Remove::RemovedFromUid);
            ASSERT_EQ(t.find("room").size, 2 - k);
            ASSERT_EQ(t.conn_count(), 2 - k);
        }
    } while (std::next_permutation(order.begin(), order.end()));
}

// A uid removed and added again (the next login) hands out a ref that removes the new entry.
TEST(UidRef, ReAddedUidGetsAWorkingRef) {
    UidTable t;
    UidRef a, b;
    for (int round = 0; round < 3; ++round) {
        ASSERT_EQ(t.add("alice", conn(1), &a), Add::NewUid);
        ASSERT_EQ(t.add("alice", conn(2), &b), Add::AddedToUid);
        ASSERT_EQ(t.remove(a, conn(1)), Remove::RemovedFromUid);
        ASSERT_EQ(t.remove(b, conn(2)), Remove::UidGone);
        ASSERT_TRUE(t.find("alice").empty());
    }
    EXPECT_EQ(t.uid_count(), 0u);
}

// Refs handed out at 8192 slots remove their entries while the table shrinks (entries in the
// old array, in the new one, and homes on both sides of the migration cursor).
TEST(UidRef, RefsRemoveWhileAShrinkMigrates) {
    UidTable t;
    constexpr uint32_t kN = 6000;
    std::vector<UidRef> refs(kN);
    for (uint32_t i = 0; i < kN; ++i) ASSERT_EQ(t.add("u" + std::to_string(i), conn(i), &refs[i]), Add::NewUid);
    while (t.advance_resize()) {
    }
    const size_t big = t.capacity();
    size_t removed_mid_migration = 0;
    for (uint32_t i = 0; i < kN; ++i) {
        removed_mid_migration += t.migrating() && t.capacity() < big;
        ASSERT_EQ(t.remove(refs[i], conn(i)), Remove::UidGone) << i;
        if (i % 61 == 0) {
            for (uint32_t j = i + 1; j < kN; j += 7) ASSERT_EQ(t.find("u" + std::to_string(j)).size, 1u) << j;
        }
    }
    EXPECT_GT(removed_mid_migration, 0u);
    EXPECT_LT(t.capacity(), big);
    EXPECT_EQ(t.uid_count(), 0u);
}

// Homes in the array's last 4 slots, whatever its size: a cluster that wraps around to slot 0.
// The 7 tag bits vary, so tag matches differ. Uids are "w<k>".
uint64_t wrapping_hash(const void* p, size_t n) {
    const uint64_t k = std::stoull(std::string(static_cast<const char*>(p) + 1, n - 1));
    return ((k % 5) << 59) | (0xffffffffull - k % 4);
}

// Backward-shift deletion where the cluster wraps: entries move from slot 0.. back to the end,
// and the 15 cloned tags past the end must follow (a 16-tag load that starts near the end
// reads them). After every removal every remaining uid is found, by bytes and by ref.
void remove_wrapping_cluster(uint32_t n, unsigned seed) {
    UidTable t(16, wrapping_hash);
    std::vector<UidRef> refs(n);
    for (uint32_t k = 0; k < n; ++k) ASSERT_EQ(t.add("w" + std::to_string(k), conn(k), &refs[k]), Add::NewUid);
    while (t.advance_resize()) {
    }
    std::vector<uint32_t> order(n);
    for (uint32_t k = 0; k < n; ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    const size_t cap = t.capacity();
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t k = order[i];
        ASSERT_EQ(t.remove(refs[k], conn(k)), Remove::UidGone) << k;
        ASSERT_TRUE(t.find("w" + std::to_string(k)).empty()) << k;
        if (t.capacity() != cap) break;  // shrank: the layout under test is gone
        for (uint32_t j = i + 1; j < n; ++j)
            ASSERT_EQ(t.find("w" + std::to_string(order[j])).size, 1u) << "seed " << seed << " after " << i;
    }
}

TEST(UidRef, BackwardShiftAcrossTheArrayEndKeepsEveryUidFindable) {
    for (unsigned seed = 0; seed < 200; ++seed) {
        remove_wrapping_cluster(12, seed);  // 16 slots: slots 12..15 then 0..7
        if (HasFatalFailure()) return;
    }
    for (unsigned seed = 0; seed < 20; ++seed) {
        remove_wrapping_cluster(40, seed);  // 64 slots: the cluster reaches slot 35
        if (HasFatalFailure()) return;
    }
}


// Even when every uid has the same hash (so a stale ref's 39 hash bits match whatever reuses
// its record), the record must hold the connection: a stale ref never removes another
// connection's entry.
uint64_t one_hash(const void*, size_t) { return 0x1234567800000005ull; }

TEST(UidRef, StaleRefNeverRemovesAnotherConnectionsEntry) {
    UidTable t(256, one_hash);
    UidRef stale, bob, alice_again;
    ASSERT_EQ(t.add("alice", conn(1), &stale), Add::NewUid);
    ASSERT_EQ(t.remove(stale, conn(1)), Remove::UidGone);
    ASSERT_EQ(t.add("bobby", conn(2), &bob), Add::NewUid);  // same size: reuses alice's record
    ASSERT_EQ(bob.rec, stale.rec);
    ASSERT_EQ(bob.hash_lo, stale.hash_lo);
    EXPECT_EQ(t.remove(stale, conn(1)), Remove::NotFound);
    ASSERT_EQ(t.add("bobby", conn(3)), Add::AddedToUid);  // now a set: conn 1 is not in it
    EXPECT_EQ(t.remove(stale, conn(1)), Remove::NotFound);
    EXPECT_EQ(t.find("bobby").size, 2u);
    EXPECT_EQ(t.conn_count(), 2u);
}

// remove(ref) frees the record under ref.len's size class (it does not read the size back from
// the record), so a ref whose length is not its record's must be refused: freed under another
// size, the record would later be handed out for a longer uid and overrun its neighbour.
TEST(UidRef, RefWithAnotherLengthIsNotFoundAndChangesNothing) {
    UidTable t;
    UidRef r;
    ASSERT_EQ(t.add("alice", conn(1), &r), Add::NewUid);
    for (uint16_t len : {0, 4, 6, 40, 65535}) {
        UidRef wrong = r;
        wrong.len = len;
        EXPECT_EQ(t.remove(wrong, conn(1)), Remove::NotFound) << len;
        EXPECT_EQ(t.find("alice").size, 1u) << len;
        EXPECT_EQ(t.uid_count(), 1u) << len;
    }
    EXPECT_EQ(t.remove(r, conn(1)), Remove::UidGone);
    EXPECT_EQ(t.uid_count(), 0u);
}


// Random logins and logouts where a logout uses a live pair's ref, any ref ever handed out
// (mostly stale) or a forged one, for any connection, while the table grows and shrinks. With
// XXH3 no two of these uids share 39 hash bits, so a ref may only remove its own uid's pair for
// that connection, and only while the uid still has the record the ref names; anything else
// is NotFound and changes nothing.
TEST(UidRef, StaleAndForgedRefsRemoveOnlyTheirOwnLivePair) {
    std::mt19937_64 rng(7);
    std::vector<std::string> uids;
    for (size_t i = 0; i < 3000; ++i) uids.push_back(key_of(i % 81, unsigned(i)) + std::to_string(i));
    constexpr uint32_t kConns = 40;
    UidTable t(128);
    struct Issued {
        UidRef ref;
        size_t uid;
        uint32_t conn;
    };
    std::vector<Issued> issued;                          // every ref handed out
    std::vector<Issued> live;                            // one per registered pair
    std::map<std::pair<size_t, uint32_t>, size_t> at;    // registered pair -> index in live
    std::map<size_t, uint32_t> record;                   // uid -> its record while it has one
    std::map<size_t, size_t> conns_of;
    bool saw_migration = false, saw_shrink = false;
    size_t max_cap = 0;
    for (int step = 0; step < 200000; ++step) {
        const bool grow_phase = (step / 25000) % 2 == 0;
        if (rng() % 100 < (grow_phase ? 55u : 15u)) {
            const size_t u = rng() % uids.size();
            const uint32_t c = uint32_t(rng() % kConns);
            UidRef r;
            const Add got = t.add(uids[u], conn(c), &r);
            const bool was = at.count({u, c}) != 0;
            ASSERT_EQ(got, was ? Add::AlreadyPresent : conns_of[u] ? Add::AddedToUid : Add::NewUid);
            if (got == Add::NewUid) record[u] = r.rec;
            ASSERT_EQ(r.rec, record[u]);
            ASSERT_EQ(t.uid(r), uids[u]);
            issued.push_back({r, u, c});
            if (!was) {
                ++conns_of[u];
                at[{u, c}] = live.size();
                live.push_back({r, u, c});
            }
        } else if (!issued.empty()) {
            const unsigned kind = unsigned(rng() % 10);
            Issued pick = kind < 6 && !live.empty() ? live[rng() % live.size()] : issued[rng() % issued.size()];
            if (kind >= 6 && rng() % 2) pick.conn = uint32_t(rng() % kConns);  // maybe another connection
            if (kind == 9) {  // forged: random fields, or a real ref nudged
                pick.uid = SIZE_MAX;
                pick.ref = rng() % 2 ? UidRef{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint8_t(rng())}
                                     : UidRef{pick.ref.rec + uint32_t(rng() % 5) - 2,
                                              pick.ref.hash_lo ^ uint32_t(1u << (rng() % 32)), pick.ref.len, pick.ref.tag};
            }
            const Remove got = t.remove(pick.ref, conn(pick.conn));
            const size_t u = pick.uid;
            const auto it = at.find({u, pick.conn});
            const bool owns = u != SIZE_MAX && it != at.end() && record.at(u) == pick.ref.rec;
            if (!owns) {
                ASSERT_EQ(got, Remove::NotFound) << step;
            } else {
                const size_t i = it->second;
                at.erase(it);
                if (i + 1 != live.size()) {
                    live[i] = live.back();
                    at[{live[i].uid, live[i].conn}] = i;
                }
                live.pop_back();
                if (--conns_of[u] == 0) {
                    ASSERT_EQ(got, Remove::UidGone) << step;
                    record.erase(u);
                } else {
                    ASSERT_EQ(got, Remove::RemovedFromUid) << step;
                }
            }
        }
        saw_migration |= t.migrating();
        saw_shrink |= t.capacity() < max_cap;
        max_cap = std::max(max_cap, t.capacity());
    }
    EXPECT_TRUE(saw_migration);
    EXPECT_TRUE(saw_shrink);
    for (const Issued& p : live) {
        bool found = false;
        for (ConnId x : t.find(uids[p.uid])) found |= x == conn(p.conn);
        ASSERT_TRUE(found);
    }
    EXPECT_EQ(t.conn_count(), live.size());
    EXPECT_EQ(t.uid_count(), record.size());
}

}  // namespace
}  // namespace wspush::registry
