// Registry microbenchmarks: UidTable against absl::flat_hash_map and std::unordered_map, all
// mapping a uid to one connection, each baseline in the configuration its best users would pick.
//
// Build: everything here is the release build of `make` (g++ -O2 -DNDEBUG; see the Makefile):
// UidTable, and absl's and libstdc++'s inline code, which is compiled into this file. Without
// -DNDEBUG absl's inline code runs its debug checks (an out-of-line call per insert, an
// assertion per iterator compare); an earlier version of this file measured absl that way.
// -O2 as the project builds; -O3 (CMake's Release default) applies to both sides alike and was
// not measured.
//
// Code: every workload loop is [[gnu::flatten]], so absl's and std's find, insert and erase
// (templates) are inlined into it whole, hash included; g++ alone keeps absl's find and
// XXH3_64bits_withSeed out of line, a call per operation that an earlier version of this file
// charged to absl. Ours' find is inline by design (uid_table.h); its add and remove stay calls
// into libregistry, as the server makes them.
//
// Baselines (same hash for all: XXH3_64bits_withSeed, run through the very inline code ours
// uses, uid_lookup::hash, under a random seed as UidTable's is: each UidTable draws its own,
// the baselines share one drawn at start, kSeed; no seed value is slower than another):
//  absl      absl::flat_hash_map<std::string_view, ConnId, Xxh3, std::equal_to<>>. The key bytes
//            live in one packed buffer that the map's views point into (nothing per key on the
//            heap, no SSO limit); a server would point them at the uid each session keeps.
//            Its bytes per entry are the map's heap plus the key bytes themselves (the packed
//            buffer, length for length: no header, no padding); UidTable holds its own copy, so
//            a connection needs none. Churn inserts a view of bytes already in the buffer:
//            absl is not charged a key copy on login, UidTable is (its arena).
//  absl-inl  (fixed-length uids only: the 16-byte and UUID mixes) absl::flat_hash_map with the
//            uid inline in the slot, std::array<char, L>: no key buffer, no third cache line
//            per lookup, the strongest absl for ids of one known length. Not applicable to
//            uids of varying length up to the server's 256-byte limit.
//  std       std::unordered_map<std::string_view, ConnId, Xxh3> over the same packed buffer.
//  absl-h    (churn only) absl with the uid's hash kept in the session beside the view: see
//            AbslHashed. Ours logs out with a UidRef, which keeps the hash bits the same way;
//            absl-h tells how much of ours' churn lead that explains (against it ours is behind).
// An earlier version used std::string keys with 16-byte uids: one past libstdc++'s 15-byte SSO,
// so every std and absl key was a heap block and a third cache miss; that measured the key type,
// not the table.
//
// Key mixes (uids as users have them): k16, 16 random alphanumerics (a typical token);
// uuid, 36-byte lowercase RFC 4122 v4 UUIDs;
// mix, 4 to 40 alphanumerics, length uniform. N = 100k and 1M uids, no duplicates, and N
// absent uids of the same mix for misses.
//
// Method. Lookups walk a shuffled copy of the inserted uids (hits) or the absent ones (misses),
// one find per iteration, and read the ConnId found (what a router does next). The query bytes
// sit in a buffer of their own in walk order, as the uid being routed sits in the message just
// parsed (a query list in random heap order would add a cache miss to every table alike).
// Churn is a logout plus a login per iteration at a steady N uids (FIFO over 2N; ChurnRandom logs
// out a random online uid instead, as sessions end in no particular order), on a table of
// its own so the finds always see the same N. Each uid has a Session, the same struct for every
// table, as a server's connection object: the view of its bytes (absl's and std's key, and
// their erase argument) and the UidRef ours' add() hands back (ours' remove argument, as
// server/sessions.cpp does). A logout reads the session, a login reads it and ours writes its
// UidRef there. bytes_per_entry: UidTable::memory_bytes() for
// ours (after any resize in flight has finished, as an idle loop leaves it); for the others the
// mallinfo2() delta across building the map (heap in use, including mmap'd blocks) plus, for
// the views, the packed key bytes. Growth inserts N uids into an empty table, timing each
// insert with CLOCK_MONOTONIC (see growth_bench).
//
// The ratio tables at the end come from this same run. With --benchmark_repetitions they use
// the medians, and --benchmark_enable_random_interleaving interleaves the repetitions of all
// benchmarks at random (this shared 2-core VM moves a single 1M-entry run by 10-20%).
// make bench runs: build/bench_registry --benchmark_min_time=0.1 --benchmark_repetitions=5
//   --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
// --benchmark_filter=/uuid/ (or /k16/, /mix/, /1000000, Find, ...) selects a part.
// Even so, a ratio moved by up to 2x from one such run to the next on this host, so make bench
// also runs the paired mode, build/bench_registry --paired=1 (see run_paired below): ours and
// absl in alternating 10 ms bursts of the same work, a ratio per pair, the median of them.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/group_table.h"
#include "registry/seeded_hash.h"
#include "registry/uid_table.h"  // includes xxhash.h with XXH_INLINE_ALL: XXH3_64bits_withSeed inline

using wspush::registry::ConnId;
using wspush::registry::GroupTable;
using wspush::registry::UidTable;

namespace {

const uint64_t kSeed = wspush::registry::random_seed();

// The baselines' hasher runs the very code ours' find() runs: uid_lookup::hash, which is
// XXH3_64bits_withSeed with its short and mid-size paths forced inline.
struct Xxh3 {
    using is_transparent = void;
    [[gnu::always_inline]] size_t operator()(std::string_view s) const {
        return wspush::registry::uid_lookup::hash(s, kSeed);
    }
    template <size_t L>
    [[gnu::always_inline]] size_t operator()(const std::array<char, L>& a) const {
        return wspush::registry::uid_lookup::hash(std::string_view(a.data(), L), kSeed);
    }
};

// ---- key mixes -------------------------------------------------------------------------------

enum class Mix { k16, uuid, mix };
constexpr Mix kMixes[] = {Mix::k16, Mix::uuid, Mix::mix};
const char* mix_name(Mix m) { return m == Mix::k16 ? "k16" : m == Mix::uuid ? "uuid" : "mix"; }

std::string random_uid(Mix mix, std::mt19937_64& rng) {
    static const char kAlnum[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    if (mix == Mix::uuid) {
        s = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
        for (char& c : s) {
            if (c == 'x') c = kHex[rng() % 16];
            else if (c == 'y') c = kHex[8 + rng() % 4];
        }
    } else {
        s.resize(mix == Mix::k16 ? 16 : 4 + rng() % 37);
        for (char& c : s) c = kAlnum[rng() % 62];
    }
    return s;
}

// Packed uid bytes and views into them.
struct KeyList {
    std::string bytes;
    std::vector<std::string_view> views;
    KeyList(const std::vector<std::string>& uids, const std::vector<size_t>& order) {
        for (size_t i : order) bytes += uids[i];
        size_t at = 0;
        for (size_t i : order) {
            views.emplace_back(bytes.data() + at, uids[i].size());
            at += uids[i].size();
        }
    }
};

struct Keys {
    std::unique_ptr<KeyList> present;  // 2N in insertion order: [0, N) inserted, [N, 2N) churn
    std::unique_ptr<KeyList> hits;     // [0, N) of present, shuffled, packed in walk order
    std::unique_ptr<KeyList> misses;   // N uids of the same mix never inserted
    size_t key_bytes = 0;              // total length of present[0, N)
};

const Keys& keys(Mix mix, size_t n) {
    static std::map<std::pair<Mix, size_t>, std::unique_ptr<Keys>> cache;
    auto& k = cache[{mix, n}];
    if (!k) {
        std::mt19937_64 rng(n * 3 + size_t(mix));
        std::vector<std::string> all;
        absl::flat_hash_set<std::string> seen;
        while (all.size() < 3 * n) {
            std::string s = random_uid(mix, rng);
            if (seen.insert(s).second) all.push_back(std::move(s));
        }
        std::vector<size_t> order(2 * n), shuffled(n), absent(n);
        for (size_t i = 0; i < 2 * n; ++i) order[i] = i;
        for (size_t i = 0; i < n; ++i) shuffled[i] = i, absent[i] = 2 * n + i;
        std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(7));
        k = std::make_unique<Keys>();
        k->present = std::make_unique<KeyList>(all, order);
        k->hits = std::make_unique<KeyList>(all, shuffled);
        k->misses = std::make_unique<KeyList>(all, absent);
        for (size_t i = 0; i < n; ++i) k->key_bytes += all[i].size();
    }
    return *k;
}

// ---- the tables, behind one small interface --------------------------------------------------

// What a server keeps per connection for its uid, one struct for every table: the uid bytes
// (absl and std are given this view, which is also their stored key) and the UidRef that ours'
// add() hands back (server/sessions.cpp keeps it in the connection; the others leave it
// unused). A churn iteration reads the session that logs out and the one that logs in, and
// ours writes the latter's ref: one line each, as a connection object is.
struct Session {
    std::string_view uid;
    union {
        wspush::registry::UidRef ref;  // ours
        uint64_t hash;                 // absl-h: the uid's hash, computed once at login
    };
    Session() : ref() {}
};

struct Ours {
    static constexpr const char* kName = "ours";
    UidTable m;
    void insert(std::string_view k, ConnId c) { m.add(k, c); }
    void insert(Session& s, ConnId c) { m.add(s.uid, c, &s.ref); }
    // Logs out with the UidRef, as the server does: the slot and the record are fetched at once,
    // without reading the uid first.
    void erase(Session& s, ConnId c) { m.remove(s.ref, c); }
    const ConnId* find(std::string_view k) const {
        auto s = m.find(k);
        return s.empty() ? nullptr : s.data;
    }
    static constexpr bool kViews = false;  // keeps its own copy of the uid bytes
};

struct Absl {
    static constexpr const char* kName = "absl";
    absl::flat_hash_map<std::string_view, ConnId, Xxh3, std::equal_to<>> m;
    void insert(std::string_view k, ConnId c) { m.emplace(k, c); }
    void insert(Session& s, ConnId c) { insert(s.uid, c); }
    void erase(Session& s, ConnId) { m.erase(s.uid); }
    const ConnId* find(std::string_view k) const {
        auto it = m.find(k);
        return it == m.end() ? nullptr : &it->second;
    }
    void prefetch(std::string_view k) const { m.prefetch(k); }
    static constexpr bool kViews = true;  // the key bytes are the caller's packed buffer
};

template <size_t L>
struct AbslInline {
    static constexpr const char* kName = "absl-inl";
    absl::flat_hash_map<std::array<char, L>, ConnId, Xxh3> m;
    static std::array<char, L> key(std::string_view k) {
        std::array<char, L> a;
        std::memcpy(a.data(), k.data(), L);  // every uid of the mix is L bytes
        return a;
    }
    void insert(std::string_view k, ConnId c) { m.emplace(key(k), c); }
    void insert(Session& s, ConnId c) { insert(s.uid, c); }
    void erase(Session& s, ConnId) { m.erase(key(s.uid)); }
    const ConnId* find(std::string_view k) const {
        auto it = m.find(key(k));
        return it == m.end() ? nullptr : &it->second;
    }
    void prefetch(std::string_view k) const { m.prefetch(key(k)); }
    static constexpr bool kViews = false;
};

// absl-h (churn only): absl with the hash kept beside the key, what UidRef does for ours. The
// key type carries its XXH3 (computed at login, kept in the session), the hasher returns it,
// and equality compares the views' pointers first (the session's view is the stored key
// itself), so a logout neither rehashes nor reads the uid bytes. Its slot is 32 bytes against
// absl's 24. Not a configuration absl's documentation shows; here to tell how much of ours'
// churn lead the cached hash explains.
struct HashedKey {
    std::string_view s;
    uint64_t h;
};
struct AbslHashed {
    static constexpr const char* kName = "absl-h";
    struct Hash {
        size_t operator()(const HashedKey& k) const { return k.h; }
    };
    struct Eq {
        bool operator()(const HashedKey& a, const HashedKey& b) const {
            return (a.s.data() == b.s.data() && a.s.size() == b.s.size()) || a.s == b.s;
        }
    };
    absl::flat_hash_map<HashedKey, ConnId, Hash, Eq> m;
    static HashedKey key(std::string_view k) { return HashedKey{k, Xxh3()(k)}; }
    void insert(std::string_view k, ConnId c) { m.emplace(key(k), c); }
    void insert(Session& s, ConnId c) {
        const HashedKey k = key(s.uid);
        s.hash = k.h;
        m.emplace(k, c);
    }
    void erase(Session& s, ConnId) { m.erase(HashedKey{s.uid, s.hash}); }
    const ConnId* find(std::string_view k) const {
        auto it = m.find(key(k));
        return it == m.end() ? nullptr : &it->second;
    }
    static constexpr bool kViews = true;
};

struct Std {
    static constexpr const char* kName = "std";
    std::unordered_map<std::string_view, ConnId, Xxh3> m;
    void insert(std::string_view k, ConnId c) { m.emplace(k, c); }
    void insert(Session& s, ConnId c) { insert(s.uid, c); }
    void erase(Session& s, ConnId) { m.erase(s.uid); }
    const ConnId* find(std::string_view k) const {
        auto it = m.find(k);
        return it == m.end() ? nullptr : &it->second;
    }
    static constexpr bool kViews = true;
};

size_t heap_in_use() {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

// One table per (type, mix, N, purpose), built on first use and kept for the whole run.
enum class Purpose { find, churn_fifo, churn_random };
template <class T>
const char* uid_count_error(const T& t, size_t n) {
    if constexpr (std::is_same_v<T, Ours>)
        if (t.m.uid_count() != n) return "churn lost or duplicated a uid";
    (void)t, (void)n;
    return nullptr;
}

template <class T>
struct Built {
    std::unique_ptr<T> t;
    double bytes_per_entry = 0;
    std::vector<Session> sessions;  // churn tables: 2N, by key index ([0, N) logged in first)
};

template <class T>
Built<T>& built(Mix mix, size_t n, Purpose purpose) {
    static std::map<std::tuple<Mix, size_t, Purpose>, Built<T>> cache;
    Built<T>& b = cache[{mix, n, purpose}];
    if (!b.t) {
        const Keys& k = keys(mix, n);
        const size_t before = heap_in_use();
        b.t = std::make_unique<T>();
        if (purpose == Purpose::find) {
            for (size_t i = 0; i < n; ++i) b.t->insert(k.present->views[i], ConnId{uint32_t(i), 1});
        } else {
            b.sessions.resize(2 * n);  // not counted in any table's bytes
            for (size_t i = 0; i < 2 * n; ++i) b.sessions[i].uid = k.present->views[i];
            for (size_t i = 0; i < n; ++i) b.t->insert(b.sessions[i], ConnId{uint32_t(i), 1});
        }
        size_t bytes;
        if constexpr (std::is_same_v<T, Ours>) {
            while (b.t->m.advance_resize()) {  // steady state, as an idle loop leaves it
            }
            bytes = b.t->m.memory_bytes();
        } else {
            bytes = heap_in_use() - before + (T::kViews ? k.key_bytes : 0);
        }
        b.bytes_per_entry = double(bytes) / double(n);
    }
    return b;
}

// The three workloads the ratio goals are about, each as a burst of `ops` operations on state
// kept across bursts (the walk position, the churn window): Google Benchmark runs them in
// batches of kBatch, the paired mode (below) in timed bursts that alternate with absl's.
constexpr size_t kBatch = 64;

// Finds of uids present (hits) or absent (misses), in a shuffled walk; reads the ConnId found.
template <class T>
struct FindWork {
    Built<T>& b;
    const std::vector<std::string_view>& q;
    const bool hits;
    const size_t n;
    size_t i = 0, hit = 0, done = 0;
    uint64_t sum = 0;
    FindWork(Mix mix, size_t n_, bool hits_)
        : b(built<T>(mix, n_, Purpose::find)),
          q(hits_ ? keys(mix, n_).hits->views : keys(mix, n_).misses->views), hits(hits_), n(n_) {}
    // flatten: every table's find is inlined into this loop, whatever g++ would decide for it
    // alone (it keeps absl's raw_hash_set::find out of line), so a table's lookups overlap in
    // the CPU's window as far as its code lets them: each table at its best, none paying a call.
    [[gnu::flatten]] void run(size_t ops) {
        for (size_t k = 0; k < ops; ++k) {
            if (const ConnId* c = b.t->find(q[i])) {
                sum += c->slot;
                ++hit;
            }
            if (++i == n) i = 0;
        }
        done += ops;
        benchmark::DoNotOptimize(sum);
    }
    const char* error() const { return hit != (hits ? done : 0) ? "wrong find result" : nullptr; }
};

// Logout of the oldest uid, login of a new one: the table stays at N entries.
template <class T>
struct ChurnWork {
    Built<T>& b;
    const size_t n;
    size_t j = 0;
    ChurnWork(Mix mix, size_t n_) : b(built<T>(mix, n_, Purpose::churn_fifo)), n(n_) {}
    [[gnu::flatten]] void run(size_t ops) {  // see FindWork::run
        for (size_t k = 0; k < ops; ++k, ++j) {
            const size_t out = j % (2 * n), in = (j + n) % (2 * n);
            b.t->erase(b.sessions[out], ConnId{uint32_t(out), 1});
            b.t->insert(b.sessions[in], ConnId{uint32_t(in), 1});
        }
    }
    const char* error() const { return uid_count_error(*b.t, n); }
};

// Logout of a uniformly random online uid, login of the uid that has been offline longest: the
// table stays at N entries. Sessions end in no particular order, so neither the records of
// UidTable nor the key bytes absl's views point at are read in the order they were written
// (FIFO churn above reads both in write order, which the hardware prefetcher follows; with
// mixed lengths UidTable's recycled records lose that order and absl's packed keys keep it).
// The bookkeeping (a xorshift step, two vector writes) is the same for every table.
// Marsaglia's xorshift64 step: a few instructions and no state beyond x, for choices made
// inside timed loops (which uid logs out, which table's burst goes first).
uint64_t xorshift(uint64_t& x) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
}

template <class T>
struct ChurnRandomWork {
    Built<T>& b;
    const size_t n;
    std::vector<uint32_t> online, offline;  // key indices; offline is a FIFO ring
    size_t next_in = 0;
    uint64_t rng = 0x9e3779b97f4a7c15;
    ChurnRandomWork(Mix mix, size_t n_) : b(built<T>(mix, n_, Purpose::churn_random)), n(n_) {
        for (uint32_t i = 0; i < n; ++i) online.push_back(i), offline.push_back(uint32_t(n + i));
    }
    [[gnu::flatten]] void run(size_t ops) {  // see FindWork::run
        for (size_t k = 0; k < ops; ++k) {
            const size_t i = size_t((unsigned __int128)xorshift(rng) * n >> 64);
            const uint32_t out = online[i], in = offline[next_in];
            b.t->erase(b.sessions[out], ConnId{out, 1});
            b.t->insert(b.sessions[in], ConnId{in, 1});
            online[i] = in;
            offline[next_in] = out;
            if (++next_in == n) next_in = 0;
        }
    }
    const char* error() const { return uid_count_error(*b.t, n); }
};

// One workload object per (workload, table, mix, N) for the whole run: a table's churn window
// carries on from one repetition (or burst) to the next.
template <class W, class... A>
W& work(A... args) {
    static std::map<std::tuple<A...>, std::unique_ptr<W>> all;
    auto& w = all[{args...}];
    if (!w) w = std::make_unique<W>(args...);
    return *w;
}

template <class W>
void gbench(benchmark::State& state, W& w) {
    while (state.KeepRunningBatch(kBatch)) w.run(kBatch);
    if (const char* e = w.error()) state.SkipWithError(e);
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_entry"] = w.b.bytes_per_entry;
}

// Lookups in blocks of 16 uids (a push to a uid list): ours through find_many(), absl with its
// prefetch() on each key of the block before the finds, the same trick.
template <class T>
void find_batch_bench(benchmark::State& state, Mix mix, size_t n) {
    Built<T>& b = built<T>(mix, n, Purpose::find);
    const std::vector<std::string_view>& q = keys(mix, n).hits->views;
    constexpr size_t kBlock = 16;
    wspush::registry::ConnSpan out[kBlock];
    size_t i = 0, hit = 0;
    for (auto _ : state) {
        if (i + kBlock > n) i = 0;
        if constexpr (std::is_same_v<T, Ours>) {
            b.t->m.find_many(&q[i], kBlock, out);
            for (size_t j = 0; j < kBlock; ++j) hit += !out[j].empty();
        } else {
            for (size_t j = 0; j < kBlock; ++j) b.t->prefetch(q[i + j]);
            for (size_t j = 0; j < kBlock; ++j) hit += b.t->find(q[i + j]) != nullptr;
        }
        i += kBlock;
    }
    if (hit != size_t(state.iterations()) * kBlock) state.SkipWithError("wrong find result");
    state.SetItemsProcessed(int64_t(state.iterations() * kBlock));
}

double clock_us(clockid_t clock) {
    timespec ts;
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// Inserts N fresh uids into an empty table, timing each insert with CLOCK_MONOTONIC: what the
// event loop sees, including being descheduled (this is a shared 2-core VM; steal time shows up
// even in thread CPU time). The same keys go in the same order every iteration, so the work of
// insert #i is deterministic; the minimum of insert #i over the iterations strips the random
// preemptions and keeps any spike the table itself causes. Counters: max_insert_us (raw, worst
// of all iterations) and max_min_insert_us (the largest per-insert minimum), p9999 of the raw.
template <class T>
void growth_bench(benchmark::State& state, Mix mix, size_t n) {
    const std::vector<std::string_view>& k = keys(mix, n).present->views;
    std::vector<float> all, best(n, 1e30f);
    for (auto _ : state) {
        auto t = std::make_unique<T>();
        for (size_t i = 0; i < n; ++i) {
            const double t0 = clock_us(CLOCK_MONOTONIC);
            t->insert(k[i], ConnId{uint32_t(i), 1});
            const float dt = float(clock_us(CLOCK_MONOTONIC) - t0);
            all.push_back(dt);
            best[i] = std::min(best[i], dt);
        }
        state.PauseTiming();  // the destructor is not part of growth
        t.reset();
        state.ResumeTiming();
    }
    std::sort(all.begin(), all.end());
    const auto worst = std::max_element(best.begin(), best.end());
    state.counters["max_insert_us"] = all.back();
    state.counters["p9999_insert_us"] = all[size_t(double(all.size()) * 0.9999)];
    state.counters["max_min_insert_us"] = *worst;
    state.counters["max_min_at"] = double(worst - best.begin());
    state.SetItemsProcessed(int64_t(state.iterations() * n));
}

// GroupTable at N connections, each in 3 of 1000 groups: one iteration is a close
// (leave_all) plus the next connection in that slot joining 3 groups.
void BM_GroupCloseRejoin(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    std::vector<std::string> names;
    for (int g = 0; g < 1000; ++g) names.push_back("room-" + std::to_string(g));
    GroupTable groups;
    std::vector<uint32_t> gen(n, 1);
    std::mt19937 rng(3);
    auto join3 = [&](uint32_t slot) {
        for (int j = 0; j < 3; ++j) groups.join(names[rng() % names.size()], ConnId{slot, gen[slot]});
    };
    for (uint32_t slot = 0; slot < n; ++slot) join3(slot);
    uint32_t slot = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(groups.leave_all(ConnId{slot, gen[slot]}));
        ++gen[slot];
        join3(slot);
        if (++slot == n) slot = 0;
    }
    state.SetItemsProcessed(state.iterations());
}

// Fan-out walk: members() of a 1000-group table, summing the span (what sendToGroup does
// before queueing a shared frame per member).
void BM_GroupMembersWalk(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    GroupTable groups;
    for (uint32_t c = 0; c < n; ++c) groups.join("room-" + std::to_string(c % 1000), ConnId{c, 1});
    uint64_t sum = 0;
    int g = 0;
    std::vector<std::string> names;
    for (int i = 0; i < 1000; ++i) names.push_back("room-" + std::to_string(i));
    for (auto _ : state) {
        for (ConnId c : groups.members(names[g])) sum += c.slot;
        if (++g == 1000) g = 0;
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(int64_t(state.iterations() * (n / 1000)));  // members visited
}
BENCHMARK(BM_GroupCloseRejoin)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_GroupMembersWalk)->Arg(100000)->Arg(1000000);

// Registers "<op>/<mix>/<N>/<table>" for every table that applies.
template <class T>
void register_table(Mix mix, size_t n) {
    const std::string suffix = std::string("/") + mix_name(mix) + "/" + std::to_string(n) + "/" + T::kName;
    benchmark::RegisterBenchmark(("Find" + suffix).c_str(), [=](benchmark::State& s) { gbench(s, work<FindWork<T>>(mix, n, true)); });
    benchmark::RegisterBenchmark(("FindMiss" + suffix).c_str(), [=](benchmark::State& s) { gbench(s, work<FindWork<T>>(mix, n, false)); });
    benchmark::RegisterBenchmark(("Churn" + suffix).c_str(), [=](benchmark::State& s) { gbench(s, work<ChurnWork<T>>(mix, n)); });
    benchmark::RegisterBenchmark(("ChurnRandom" + suffix).c_str(), [=](benchmark::State& s) { gbench(s, work<ChurnRandomWork<T>>(mix, n)); });
    if constexpr (!std::is_same_v<T, Std>)  // std has no prefetch
        benchmark::RegisterBenchmark(("FindBatch" + suffix).c_str(), [=](benchmark::State& s) { find_batch_bench<T>(s, mix, n); });
}

template <class T>
void register_churn(Mix mix, size_t n) {
    const std::string suffix = std::string("/") + mix_name(mix) + "/" + std::to_string(n) + "/" + T::kName;
    benchmark::RegisterBenchmark(("Churn" + suffix).c_str(), [=](benchmark::State& s) { gbench(s, work<ChurnWork<T>>(mix, n)); });
    benchmark::RegisterBenchmark(("ChurnRandom" + suffix).c_str(), [=](benchmark::State& s) { gbench(s, work<ChurnRandomWork<T>>(mix, n)); });
}

template <class T>
void register_growth(Mix mix, size_t n) {
    const std::string name = std::string("Growth/") + mix_name(mix) + "/" + std::to_string(n) + "/" + T::kName;
    // Growth keeps its own minimum over 3 iterations; repetitions of it would only cost time.
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { growth_bench<T>(s, mix, n); })
        ->Iterations(3)
        ->Repetitions(1)
        ->Unit(benchmark::kMillisecond);
}

void register_all() {
    for (Mix mix : kMixes) {
        for (size_t n : {size_t(100000), size_t(1000000)}) {
            register_table<Ours>(mix, n);
            register_table<Absl>(mix, n);
            register_churn<AbslHashed>(mix, n);
            if (mix == Mix::k16) register_table<AbslInline<16>>(mix, n);
            if (mix == Mix::uuid) register_table<AbslInline<36>>(mix, n);
            register_table<Std>(mix, n);
        }
        register_growth<Ours>(mix, 1000000);
        register_growth<Absl>(mix, 1000000);
    }
}

// Collects each run's counters (the median's, with repetitions) for the ratio tables.
class TableReporter : public benchmark::ConsoleReporter {
public:
    // Colour only on a terminal (a custom reporter does not see --benchmark_color).
    TableReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}
    std::map<std::string, std::map<std::string, double>> results;
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        // With --benchmark_repetitions the median of the repetitions stands for the benchmark
        // (it is reported after the repetitions, so it overwrites them); other aggregates are
        // ignored. Without repetitions, the one run.
        for (const Run& r : runs) {
            if (r.error_occurred) continue;
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            std::string name = r.run_name.str();
            name = name.substr(0, name.find("/iterations:"));
            auto& row = results[name];
            for (const auto& [cname, c] : r.counters) row[cname] = c.value;
        }
    }
};

void print_ratios(TableReporter& rep) {
    auto get = [&](const std::string& bench, const char* counter) {
        auto it = rep.results.find(bench);
        if (it == rep.results.end()) return 0.0;
        auto c = it->second.find(counter);
        return c == it->second.end() ? 0.0 : c->second;
    };
    auto ratio = [](double a, double b, char* out, size_t len) {
        if (a > 0 && b > 0) std::snprintf(out, len, "%.2fx", a / b);
        else std::snprintf(out, len, "-");
    };
    std::printf("\nRatios from this run: ours' rate / each baseline's (>1: ours faster); bytes per uid\n");
    std::printf("%-11s %-5s %8s %9s %8s %9s %8s %8s | %6s %6s %8s %6s\n", "op", "keys", "N", "ours Mop/s", "/absl",
                "/absl-inl", "/std", "/absl-h", "B ours", "absl", "absl-inl", "std");
    for (const char* op : {"Find", "FindMiss", "Churn", "ChurnRandom", "FindBatch"}) {
        for (Mix mix : kMixes) {
            for (const char* n : {"100000", "1000000"}) {
                const std::string base = std::string(op) + "/" + mix_name(mix) + "/" + n + "/";
                const double ours = get(base + "ours", "items_per_second");
                if (ours == 0) continue;
                char a[16], ai[16], s[16], ah[16];
                ratio(ours, get(base + "absl-h", "items_per_second"), ah, sizeof ah);
                ratio(ours, get(base + "absl", "items_per_second"), a, sizeof a);
                ratio(ours, get(base + "absl-inl", "items_per_second"), ai, sizeof ai);
                ratio(ours, get(base + "std", "items_per_second"), s, sizeof s);
                const std::string bytes = std::string("Find/") + mix_name(mix) + "/" + n + "/";
                std::printf("%-11s %-5s %8s %10.2f %8s %9s %8s %8s | %6.1f %6.1f %8.1f %6.1f\n", op, mix_name(mix), n,
                            ours / 1e6, a, ai, s, ah, get(bytes + "ours", "bytes_per_entry"),
                            get(bytes + "absl", "bytes_per_entry"), get(bytes + "absl-inl", "bytes_per_entry"),
                            get(bytes + "std", "bytes_per_entry"));
            }
        }
    }
    bool header = false;
    for (Mix mix : kMixes) {
        for (const char* who : {"ours", "absl"}) {
            const std::string b = std::string("Growth/") + mix_name(mix) + "/1000000/" + who;
            if (get(b, "max_insert_us") == 0) continue;
            if (!header) {
                std::printf("\nSlowest single insert while growing to 1M (raw worst / worst per-insert minimum of 3 runs):\n");
                header = true;
            }
            std::printf("  %-5s %-5s %10.1f us / %10.1f us (insert #%.0f); p99.99 %.1f us\n", mix_name(mix), who,
                        get(b, "max_insert_us"), get(b, "max_min_insert_us"), get(b, "max_min_at"),
                        get(b, "p9999_insert_us"));
        }
    }
}

// ---- paired mode: ours and absl in alternating bursts --------------------------------------
//
// --paired=S: for each workload, mix and N, ours and absl run in alternating timed bursts of
// the same number of operations (about 10 ms of ours' time each, kBurst; which goes first is
// random per pair), S seconds per case. Each pair gives a ratio (absl's burst time / ours':
// above 1, ours is faster), and the median over all pairs is reported with its quartiles. The
// two bursts of a pair run back to back, so what other tenants of this shared host do to
// memory and caches mostly cancels out of each ratio; repetitions of 0.1 s each (Google
// Benchmark's interleaving) moved a ratio by up to 2x from one run to the next.
constexpr double kBurst = 10e-3;  // seconds of ours' work per burst

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

template <class W>
double timed(W& w, size_t ops) {
    const double t0 = now_s();
    w.run(ops);
    return now_s() - t0;
}

std::regex paired_filter(".*");  // --paired_filter=REGEX: cases whose "op/keys/N/baseline" it finds

bool paired_case(const char* op, Mix mix, size_t n, const char* baseline, auto& ours, auto& absl, double seconds) {
    const std::string name = std::string(op) + "/" + mix_name(mix) + "/" + std::to_string(n) + "/" + baseline;
    if (!std::regex_search(name, paired_filter)) return true;
    ours.run(kBatch), absl.run(kBatch);  // builds both tables first
    size_t ops = kBatch;
    double t;
    while ((t = timed(ours, ops)) < 2e-4) ops *= 2;
    ops = std::max<size_t>(kBatch, size_t(double(ops) * kBurst / t));
    std::vector<double> ratio, rate;
    uint64_t coin = 0x2545F4914F6CDD1D;
    for (const double end = now_s() + seconds; now_s() < end;) {
        double to, ta;
        if (xorshift(coin) & 1) to = timed(ours, ops), ta = timed(absl, ops);
        else ta = timed(absl, ops), to = timed(ours, ops);
        ratio.push_back(ta / to);
        rate.push_back(double(ops) / to);
    }
    const char* err = ours.error() ? ours.error() : absl.error();
    std::sort(ratio.begin(), ratio.end());
    std::sort(rate.begin(), rate.end());
    const size_t k = ratio.size();
    std::printf("%-11s %-5s %8zu %-8s %10.2f %8.2fx  %5.2f-%-5.2f %6zu %s\n", op, mix_name(mix), n, baseline,
                rate[k / 2] / 1e6, ratio[k / 2], ratio[k / 4], ratio[3 * k / 4], k, err ? err : "");
    return err == nullptr;
}

bool run_paired(double seconds) {
    std::printf("Paired bursts, ours against absl (string_view keys, same XXH3) and, for churn, absl-h (the\n"
                "hash kept in the session): median of per-pair ratios (>1: ours faster) and quartiles\n");
    std::printf("%-11s %-5s %8s %-8s %10s %9s  %-11s %6s\n", "op", "keys", "N", "vs", "ours Mop/s", "ratio", "q1-q3",
                "pairs");
    bool ok = true;
    for (Mix mix : kMixes) {
        for (size_t n : {size_t(100000), size_t(1000000)}) {
            ok &= paired_case("Find", mix, n, "absl", work<FindWork<Ours>>(mix, n, true), work<FindWork<Absl>>(mix, n, true),
                              seconds);
            ok &= paired_case("FindMiss", mix, n, "absl", work<FindWork<Ours>>(mix, n, false),
                              work<FindWork<Absl>>(mix, n, false), seconds);
            ok &= paired_case("Churn", mix, n, "absl", work<ChurnWork<Ours>>(mix, n), work<ChurnWork<Absl>>(mix, n), seconds);
            ok &= paired_case("Churn", mix, n, "absl-h", work<ChurnWork<Ours>>(mix, n), work<ChurnWork<AbslHashed>>(mix, n),
                              seconds);
            ok &= paired_case("ChurnRandom", mix, n, "absl", work<ChurnRandomWork<Ours>>(mix, n),
                              work<ChurnRandomWork<Absl>>(mix, n), seconds);
            ok &= paired_case("ChurnRandom", mix, n, "absl-h", work<ChurnRandomWork<Ours>>(mix, n),
                              work<ChurnRandomWork<AbslHashed>>(mix, n), seconds);
            std::fflush(stdout);
        }
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    // --paired=S and --paired_filter=REGEX (this file's own flags, taken out before Google
    // Benchmark sees the rest).
    double paired_s = 0;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--paired=", 9) == 0) paired_s = std::atof(argv[i] + 9);
        else if (std::strncmp(argv[i], "--paired_filter=", 16) == 0) paired_filter = std::regex(argv[i] + 16);
        else argv[kept++] = argv[i];
    }
    argc = kept;
    if (paired_s > 0) return run_paired(paired_s) ? 0 : 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    TableReporter rep;
    benchmark::RunSpecifiedBenchmarks(&rep);
    print_ratios(rep);
    benchmark::Shutdown();
    return 0;
}
