// The arena's free stacks under attack: KeyArena::free() takes the key length from its caller
// (UidTable's remove by uid or by UidRef) and files the record under that length's size class,
// so a wrong length would free a record under another class, and a later alloc would hand it
// out for a longer key (overrunning a live neighbour) or never reuse it (a leak). These tests
// model every live record and check that no two overlap, that every one reads back, that a
// UidRef removes exactly what its contract says (stale, forged and wrong-length refs included,
// under forced hash collisions), and that steady churn never grows the table. RefStack, the
// stacks themselves, against a vector model; TagGroup against a byte-by-byte reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "registry/key_arena.h"
#include "registry/ref_stack.h"
#include "registry/tag_group.h"
#include "registry/uid_table.h"

namespace wspush::registry {

// tests/registry/tag_group_scalar.cpp: tag_group.h's fallback, compiled without SSE2.
uint32_t scalar_tag_match(const uint8_t* group, uint8_t tag);
uint32_t scalar_tag_empty(const uint8_t* group);

namespace {

using Add = UidTable::AddResult;
using Remove = UidTable::RemoveResult;

ConnId conn(uint32_t n) { return ConnId{n, n + 1}; }
uint32_t units_of(size_t len) { return uint32_t((KeyArena::kHead + len + 7) / 8); }

// Live records: ref -> units. A new record must not overlap any live one.
struct Occupancy {
    std::map<uint32_t, uint32_t> live;
    ::testing::AssertionResult take(uint32_t ref, uint32_t units) {
        if (ref == 0) return ::testing::AssertionFailure() << "ref 0 handed out";
        auto next = live.lower_bound(ref);
        if (next != live.end() && next->first < ref + units)
            return ::testing::AssertionFailure() << "record " << ref << "+" << units << " overlaps live " << next->first;
        if (next != live.begin()) {
            auto prev = std::prev(next);
            if (prev->first + prev->second > ref)
                return ::testing::AssertionFailure()
                       << "record " << ref << " overlaps live " << prev->first << "+" << prev->second;
        }
        live[ref] = units;
        return ::testing::AssertionSuccess();
    }
    void drop(uint32_t ref) { live.erase(ref); }
};

// Random allocs and frees of keys of every length 0..300: no record is handed out while
// another live one covers any of its units, every live record reads back its key and
// connection, live_bytes() is the sum of the live records, and once the mix has been seen
// the arena stops growing (each freed record is reused by the next key of its size class).
TEST(KeyArena, RandomChurnOfEveryLengthNeverOverlapsAndStopsGrowing) {
    constexpr size_t kMax = 300;
    KeyArena a(kMax);
    std::mt19937_64 rng(11);
    struct Live {
        uint32_t ref;
        std::string key;
        ConnId c;
    };
    std::vector<Live> live;
    Occupancy occ;
    size_t live_bytes = 0;
    size_t memory_after_warmup = 0;
    const int steps = 120000;
    for (int step = 0; step < steps; ++step) {
        // up to ~600 live keys; lengths clustered within a size class so that keys of the same
        // class but different lengths reuse each other's records
        const bool grow = live.size() < 300 || (live.size() < 600 && rng() % 2);
        if (grow) {
            const size_t len = rng() % (kMax + 1);
            std::string key(len, '\0');
            for (char& ch : key) ch = char(rng());
            const ConnId c = conn(uint32_t(step));
            const uint32_t ref = a.alloc(key, c);
            ASSERT_TRUE(occ.take(ref, units_of(len))) << "step " << step << " len " << len;
            live.push_back({ref, std::move(key), c});
            live_bytes += units_of(len) * 8;
        } else {
            const size_t i = rng() % live.size();
            a.free(live[i].ref, live[i].key.size());
            occ.drop(live[i].ref);
            live_bytes -= units_of(live[i].key.size()) * 8;
            live[i] = std::move(live.back());
            live.pop_back();
        }
        ASSERT_EQ(a.live_bytes(), live_bytes);
        if (step % 997 == 0) {
            for (const Live& l : live) {
                ASSERT_EQ(a.view(l.ref), l.key) << "step " << step;
                ASSERT_EQ(a.conn(l.ref), l.c) << "step " << step;
            }
        }
        if (step == steps / 2) memory_after_warmup = a.memory_bytes();
    }
    for (const Live& l : live) ASSERT_EQ(a.view(l.ref), l.key);
    // The second half allocated ~30000 more keys from the same mix: with every freed record
    // reused under its own class the arena holds the peak of each class, not the total.
    EXPECT_LE(a.memory_bytes(), memory_after_warmup + 64 * 1024);
}

// Collisions everywhere: every uid hashes to one of two values (the same 39 bits as half of
// the others), so any stale ref matches whatever uid next takes its record.
uint64_t two_values_hash(const void* p, size_t n) {
    const unsigned char first = n ? *static_cast<const unsigned char*>(p) : 0;
    return (first & 1) ? 0xf00d000000000003ull : 0x1234567800000005ull;
}

// A stale ref whose record was taken by another uid of the same size class but a different
// length, held by the same connection and with the same hash: remove(ref) reads the record's
// length and refuses (it would otherwise remove a uid the ref never named). The uid's own
// ref then removes it, and the record is reused again: nothing leaked.
TEST(UidRef, StaleRefToARecordReusedByAnotherLengthOfItsClassIsNotFound) {
    UidTable t(256, two_values_hash);
    UidRef stale;
    ASSERT_EQ(t.add("bob", conn(1), &stale), Add::NewUid);  // 3 bytes: a 2-unit record
    ASSERT_EQ(t.remove(stale, conn(1)), Remove::UidGone);
    for (const char* other : {"", "b", "bo", "bobb", "bobby", "bobbyx"}) {  // 0..6 bytes: 2 units too
        UidRef now;
        ASSERT_EQ(t.add(other, conn(1), &now), Add::NewUid) << other;
        ASSERT_EQ(now.rec, stale.rec) << other;  // the same record, reused
        if (now.hash_lo != stale.hash_lo || now.tag != stale.tag) {  // "" hashes to the other value
            ASSERT_EQ(t.remove(now, conn(1)), Remove::UidGone) << other;
            continue;
        }
        EXPECT_EQ(t.remove(stale, conn(1)), Remove::NotFound) << other;
        EXPECT_EQ(t.find(other).size, 1u) << other;
        EXPECT_EQ(t.uid(now), other);
        ASSERT_EQ(t.remove(now, conn(1)), Remove::UidGone) << other;
        EXPECT_TRUE(t.find(other).empty()) << other;
    }
    EXPECT_EQ(t.uid_count(), 0u);
    EXPECT_EQ(t.conn_count(), 0u);
}

// A model of every live pair and record, and of the UidRef contract: remove(ref, c) removes c
// iff a live uid has ref's record under ref's 39 hash bits and holds c; when c is its only
// connection, also iff ref's length is the uid's (the record is then freed by that length).
// Refs are genuine, stale (mostly pointing at records reused by other uids, since all uids
// collide on two hashes), or forged (any field changed: length within or across its size
// class, record, hash bits, tag, or all random). Uids of every length 0..300 against
// max_uid_len 200. A record handed out while a live one overlaps it, a uid that no longer reads
// back, or an answer other than the model's fails the test.
TEST(UidRef, ForgedStaleAndWrongLengthRefsUnderCollisionsFreeOnlyWhatTheyShould) {
    std::mt19937_64 rng(5);
    constexpr size_t kMaxLen = 200;
    std::vector<std::string> uids;
    std::set<std::string> seen;
    for (size_t attempt = 0; uids.size() < 500; ++attempt) {
        const size_t len = attempt < 60 ? attempt % 12 : rng() % 301;  // short ones first, 0 included
        std::string s(len, '\0');
        for (char& ch : s) ch = char('a' + rng() % 4);
        if (seen.insert(s).second) uids.push_back(s);
    }
    constexpr uint32_t kConns = 6;
    UidTable t(kMaxLen, two_values_hash);
    std::vector<std::set<uint32_t>> conns_of(uids.size());
    std::vector<uint32_t> record(uids.size(), 0);  // 0: no record
    std::map<uint32_t, size_t> owner;              // record -> uid
    Occupancy occ;
    std::vector<std::pair<UidRef, uint32_t>> issued;  // every ref handed out, with its conn
    auto bits_of = [&](size_t u) {
        const uint64_t h = two_values_hash(uids[u].data(), uids[u].size());
        return std::pair<uint32_t, uint8_t>{uint32_t(h), tag_of(h)};
    };
    int removed_by_ref = 0, refused_by_len = 0;
    const int steps = 60000;
    for (int step = 0; step < steps; ++step) {
        const bool login = rng() % 100 < ((step / 5000) % 2 == 0 ? 60u : 35u);
        const size_t u = rng() % uids.size();
        const uint32_t c = uint32_t(rng() % kConns);
        if (login) {
            UidRef r;
            const Add got = t.add(uids[u], conn(c), &r);
            if (uids[u].size() > kMaxLen) {
                ASSERT_EQ(got, Add::TooLong);
                continue;
            }
            const bool had_c = conns_of[u].count(c) != 0;
            ASSERT_EQ(got, had_c ? Add::AlreadyPresent : conns_of[u].empty() ? Add::NewUid : Add::AddedToUid) << step;
            if (got == Add::NewUid) {
                ASSERT_TRUE(occ.take(r.rec, units_of(uids[u].size()))) << "step " << step;
                record[u] = r.rec;
                owner[r.rec] = u;
            }
            ASSERT_EQ(r.rec, record[u]);
            ASSERT_EQ(r.len, uids[u].size());
            ASSERT_EQ(t.uid(r), uids[u]);
            conns_of[u].insert(c);
            issued.push_back({r, c});
            continue;
        }
        const unsigned kind = unsigned(rng() % 8);
        if (kind == 0) {  // by uid
            const Remove got = t.remove(uids[u], conn(c));
            if (!conns_of[u].count(c)) {
                ASSERT_EQ(got, Remove::NotFound) << step;
                continue;
            }
            conns_of[u].erase(c);
            if (conns_of[u].empty()) {
                ASSERT_EQ(got, Remove::UidGone) << step;
                occ.drop(record[u]);
                owner.erase(record[u]);
                record[u] = 0;
            } else {
                ASSERT_EQ(got, Remove::RemovedFromUid) << step;
            }
            continue;
        }
        if (issued.empty()) continue;
        auto [r, rc] = issued[rng() % issued.size()];
        if (kind >= 4) rc = uint32_t(rng() % kConns);
        switch (kind) {
            case 5:  // another length in the same size class (or not, near a class edge)
                r.len = uint16_t(std::max<int>(0, int(r.len) + int(rng() % 15) - 7));
                break;
            case 6:  // any length
                r.len = uint16_t(rng() % 302);
                break;
            case 7:  // a nudged record or hash, or everything random
                if (rng() % 3 == 0) r.rec += uint32_t(rng() % 9) - 4;
                else if (rng() % 2) r.tag ^= uint8_t(1u << (rng() % 8));
                else r = UidRef{uint32_t(rng() % 20000), uint32_t(rng()), uint16_t(rng()), uint8_t(rng())};
                break;
        }
        const Remove got = t.remove(r, conn(rc));
        // What the contract says.
        Remove want = Remove::NotFound;
        const auto it = owner.find(r.rec);
        if (it != owner.end() && bits_of(it->second) == std::pair<uint32_t, uint8_t>{r.hash_lo, r.tag}) {
            const size_t v = it->second;
            if (conns_of[v].count(rc)) {
                if (conns_of[v].size() > 1) {
                    want = Remove::RemovedFromUid;
                } else if (r.len == uids[v].size()) {
                    want = Remove::UidGone;
                } else {
                    ++refused_by_len;
                }
            }
        }
        ASSERT_EQ(got, want) << "step " << step << " kind " << kind << " rec " << r.rec << " len " << r.len;
        if (want != Remove::NotFound) {
            ++removed_by_ref;
            const size_t v = it->second;
            conns_of[v].erase(rc);
            if (want == Remove::UidGone) {
                occ.drop(record[v]);
                owner.erase(it);
                record[v] = 0;
            }
        }
        if (step % 500 == 0) {
            for (size_t v = 0; v < uids.size(); ++v) {
                const ConnSpan span = t.find(uids[v]);
                ASSERT_EQ(span.size, conns_of[v].size()) << "step " << step << " uid " << v;
                for (ConnId x : span) ASSERT_TRUE(conns_of[v].count(x.slot)) << step;
            }
        }
    }
    EXPECT_GT(removed_by_ref, 1000);
    EXPECT_GT(refused_by_len, 100);  // the length check was exercised
    size_t pairs = 0, with_record = 0;
    for (size_t v = 0; v < uids.size(); ++v) {
        pairs += conns_of[v].size();
        with_record += record[v] != 0;
        if (record[v]) {
            ASSERT_EQ(t.uid(UidRef{record[v], 0, uint16_t(uids[v].size()), 0}), uids[v]);
        }
    }
    EXPECT_EQ(t.conn_count(), pairs);
    EXPECT_EQ(t.uid_count(), with_record);
}

// Steady churn: 2000 uids of lengths 3..300 stay logged in while, round after round, 200 log
// out (half by uid, half by ref) and 200 new ones log in with other lengths of the same size
// classes. After the first round has given every class its free stack, nothing grows.
TEST(UidTable, SteadyChurnAcrossLengthsOfEachSizeClassNeverGrowsMemory) {
    std::mt19937_64 rng(3);
    UidTable t(300);
    struct Entry {
        std::string uid;
        UidRef ref;
        uint32_t c;
    };
    std::vector<Entry> live;
    uint32_t next_id = 0;
    auto login = [&](size_t len) -> ::testing::AssertionResult {
        const uint32_t id = next_id++;
        std::string uid(len, 'x');
        std::memcpy(uid.data(), &id, 3);  // unique among 2^24 ids
        Entry e{uid, {}, id};
        const Add got = t.add(e.uid, conn(e.c), &e.ref);
        if (got != Add::NewUid) return ::testing::AssertionFailure() << "add " << int(got);
        live.push_back(std::move(e));
        return ::testing::AssertionSuccess();
    };
    for (size_t i = 0; i < 2000; ++i) ASSERT_TRUE(login(3 + i % 298));
    // One logout and login per size class first, so that every class's free stack has its
    // chunk (a stack keeps its bottom chunk when emptied): from then on nothing may grow.
    for (size_t len = 3; len <= 300; len += 8) {
        const auto it = std::find_if(live.begin(), live.end(), [&](const Entry& e) { return e.uid.size() == len; });
        ASSERT_NE(it, live.end());
        ASSERT_EQ(t.remove(it->uid, conn(it->c)), Remove::UidGone);
        live.erase(it);
        ASSERT_TRUE(login(len));
    }
    while (t.advance_resize()) {
    }
    size_t after_first = 0;
    for (int round = 0; round < 40; ++round) {
        std::vector<size_t> lens;
        for (int k = 0; k < 200; ++k) {
            const size_t i = rng() % live.size();
            lens.push_back(live[i].uid.size());
            const Remove got = k % 2 ? t.remove(live[i].ref, conn(live[i].c)) : t.remove(live[i].uid, conn(live[i].c));
            ASSERT_EQ(got, Remove::UidGone);
            live[i] = std::move(live.back());
            live.pop_back();
        }
        for (size_t len : lens) {
            // another length of the same class: a class of u units holds lengths 8u-17..8u-10
            const size_t u = units_of(len);
            const size_t lo = std::max<long>(3, long(8 * u) - 17), hi = std::min<size_t>(300, 8 * u - 10);
            const size_t other = lo + rng() % (hi - lo + 1);
            ASSERT_EQ(units_of(other), u);
            ASSERT_TRUE(login(other));
        }
        while (t.advance_resize()) {
        }
        ASSERT_EQ(t.uid_count(), 2000u);
        if (round == 0) after_first = t.memory_bytes();
        ASSERT_EQ(t.memory_bytes(), after_first) << "round " << round;
    }
    for (const Entry& e : live) ASSERT_EQ(t.uid(e.ref), e.uid);
}

// ---- RefStack -----------------------------------------------------------------------------

// Random pushes and pops that cross chunk boundaries many times, against a vector: the same
// refs in LIFO order, and memory_bytes() is the chunks that hold the refs plus at most one
// spare (and a bottom chunk kept when empty).
TEST(RefStack, MatchesAVectorAndKeepsAtMostOneSpareChunk) {
    constexpr size_t k = RefStack::kChunkRefs;
    std::mt19937_64 rng(9);
    RefStack s;
    std::vector<uint32_t> model;
    for (int phase = 0; phase < 40; ++phase) {
        const size_t target = rng() % (5 * k);
        const size_t steps = 4 * k + rng() % (4 * k);
        for (size_t i = 0; i < steps; ++i) {
            const bool push = model.size() < target ? rng() % 4 != 0 : rng() % 4 == 0;
            if (push || model.empty()) {
                const uint32_t ref = uint32_t(rng());
                s.push(ref);
                model.push_back(ref);
            } else {
                ASSERT_EQ(s.pop(), model.back()) << phase << " " << i;
                model.pop_back();
            }
            ASSERT_EQ(s.empty(), model.empty());
            const size_t holding = std::max<size_t>(1, (model.size() + k - 1) / k);
            ASSERT_GE(s.memory_bytes(), holding * 4096) << model.size();
            ASSERT_LE(s.memory_bytes(), (holding + 1) * 4096) << model.size();
        }
    }
    while (!model.empty()) {
        ASSERT_EQ(s.pop(), model.back());
        model.pop_back();
    }
    EXPECT_TRUE(s.empty());
    EXPECT_LE(s.memory_bytes(), 2 * 4096u);
}

// A stack moved from (as std::vector<RefStack> does when it grows) is empty and owns nothing;
// the one moved to has every ref and chunk. ASan's leak check covers the destructors.
TEST(RefStack, MoveTakesEveryChunkAndLeavesAnEmptyStack) {
    constexpr uint32_t k = RefStack::kChunkRefs;
    std::vector<RefStack> stacks(1);
    for (uint32_t i = 0; i < 2 * k + 3; ++i) stacks[0].push(i);
    for (uint32_t i = 0; i < 5; ++i) ASSERT_EQ(stacks[0].pop(), 2 * k + 2 - i);  // leaves a spare
    const size_t bytes = stacks[0].memory_bytes();
    EXPECT_EQ(bytes, 3 * 4096u);
    stacks.resize(100);  // reallocates: stacks[0] is moved
    EXPECT_EQ(stacks[0].memory_bytes(), bytes);
    RefStack moved(std::move(stacks[0]));
    EXPECT_TRUE(stacks[0].empty());
    EXPECT_EQ(stacks[0].memory_bytes(), 0u);
    stacks[0].push(99);  // the moved-from stack still works
    EXPECT_EQ(stacks[0].pop(), 99u);
    EXPECT_EQ(moved.memory_bytes(), bytes);
    for (uint32_t i = 2 * k - 2; i-- > 0;) ASSERT_EQ(moved.pop(), i);
    EXPECT_TRUE(moved.empty());
}

// ---- TagGroup -----------------------------------------------------------------------------

// match() and empty() against a byte-by-byte reference and against the scalar fallback, for
// every tag value (0..255, not only the 0x80 | 7 bits a table uses) over random groups and
// groups made of the tag and its neighbours (one bit apart in any byte of the splat).
TEST(TagGroup, MatchAndEmptyAgreeWithAByteByByteReferenceForEveryTag) {
    std::mt19937_64 rng(1);
    uint8_t bytes[kGroupWidth];
    auto check = [&](uint8_t tag) -> ::testing::AssertionResult {
        uint32_t want_match = 0, want_empty = 0;
        for (unsigned i = 0; i < kGroupWidth; ++i) {
            want_match |= uint32_t(bytes[i] == tag) << i;
            want_empty |= uint32_t(bytes[i] < 0x80) << i;  // SSE2's empty(): high bit clear
        }
        const TagGroup g(bytes);
        if (g.match(tag) != want_match)
            return ::testing::AssertionFailure() << "match(" << int(tag) << ") " << g.match(tag) << " != " << want_match;
#if defined(__SSE2__)
        if (g.empty() != want_empty) return ::testing::AssertionFailure() << "empty " << g.empty();
#endif
        if (scalar_tag_match(bytes, tag) != want_match)
            return ::testing::AssertionFailure() << "scalar match(" << int(tag) << ") " << scalar_tag_match(bytes, tag);
        // The scalar empty() tests tag == 0 (the only value a table writes to an empty slot).
        uint32_t zero = 0;
        for (unsigned i = 0; i < kGroupWidth; ++i) zero |= uint32_t(bytes[i] == kTagEmpty) << i;
        if (scalar_tag_empty(bytes) != zero) return ::testing::AssertionFailure() << "scalar empty";
        return ::testing::AssertionSuccess();
    };
    for (unsigned tag = 0; tag < 256; ++tag) {
        for (int round = 0; round < 200; ++round) {
            for (uint8_t& b : bytes) {
                const unsigned pick = unsigned(rng() % 4);
                b = pick == 0 ? uint8_t(tag) : pick == 1 ? uint8_t(tag ^ (1u << (rng() % 8))) : pick == 2 ? uint8_t(0) : uint8_t(rng());
            }
            ASSERT_TRUE(check(uint8_t(tag)));
            // the table's own layout: empty slots (0) and full ones (0x80 | 7 bits)
            for (uint8_t& b : bytes) b = rng() % 3 == 0 ? 0 : uint8_t(0x80 | rng());
            ASSERT_TRUE(check(uint8_t(tag)));
        }
        std::memset(bytes, int(tag), sizeof bytes);
        ASSERT_TRUE(check(uint8_t(tag)));
        ASSERT_EQ(TagGroup(bytes).match(uint8_t(tag)), 0xffffu);
    }
}

}  // namespace
}  // namespace wspush::registry
