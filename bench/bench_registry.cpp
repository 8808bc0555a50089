// Registry microbenchmarks: UidTable against std::unordered_map<std::string, ConnId> and
// absl::flat_hash_map<std::string, ConnId>, all mapping a uid to one connection.
//
// Method. Keys are N random 16-byte alphanumeric uids (N = 100k and 1M); a 16-byte std::string
// is one past libstdc++'s 15-byte SSO, so std and absl pay a heap string per key, as a server
// keeping uids in std::string would. Lookups walk a shuffled copy of the keys (hits) or N other
// random uids (misses), one find per iteration. The query strings are allocated in the order
// they are walked, so reading the next query's bytes is a sequential read, as it is in the
// server (the uid being routed sits in the message just parsed, in cache). A query list shuffled
// by swapping strings would put a random cache miss on every query's bytes, the same for every
// table, and measure the harness as much as the tables (it did: back to back, our ratio over
// std at 1M read 2.6x that way and 3.2x this way, the tables unchanged).
// Churn is a logout plus a login per iteration at a steady N entries (FIFO over 2N keys), on a
// table of its own. bytes_per_entry: UidTable::memory_bytes() for ours; the mallinfo2() delta
// (heap in use, including malloc's mmap'd blocks) across building the map for std and absl.
// Ours is measured after advance_resize() has finished any incremental resize still in flight
// (mid-resize both arrays exist; see the Growth counters). Growth inserts 1M keys into an
// empty table and times every insert with
// clock_gettime(CLOCK_MONOTONIC), reporting the slowest (max_insert_us) and the 99.99th
// percentile; it includes page faults and whatever else the machine was doing.
//
// The ratio table at the end comes from this same run: with --benchmark_repetitions, from the
// medians (make bench runs 5 repetitions, randomly interleaved, see bench/run.sh; on this shared
// 2-core VM a single run of a 1M-entry find moves by 10-20%). Run: make -j2 build/bench_registry
// && build/bench_registry --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
// --benchmark_report_aggregates_only=true --benchmark_min_time=0.1
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/group_table.h"
#include "registry/uid_table.h"

using wspush::registry::ConnId;
using wspush::registry::GroupTable;
using wspush::registry::UidTable;

namespace {

using StdMap = std::unordered_map<std::string, ConnId>;
using AbslMap = absl::flat_hash_map<std::string, ConnId>;

std::vector<std::string> random_uids(size_t n, uint64_t seed) {
    static const char kAlnum[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::mt19937_64 rng(seed);
    std::vector<std::string> out(n, std::string(16, ' '));
    for (std::string& s : out)
        for (char& c : s) c = kAlnum[rng() % 62];
    return out;
}

struct Keys {
    std::vector<std::string> present;  // 2N: [0, N) are inserted; [N, 2N) feed churn
    std::vector<std::string> shuffled;  // [0, N) of present, in random order
    std::vector<std::string> absent;    // N uids never inserted
};

const Keys& keys(size_t n) {
    static std::map<size_t, std::unique_ptr<Keys>> cache;
    auto& k = cache[n];
    if (!k) {
        k = std::make_unique<Keys>();
        k->present = random_uids(2 * n, n);
        std::vector<size_t> order(n);
        for (size_t i = 0; i < n; ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
        k->shuffled.reserve(n);  // fresh strings, allocated in walk order (see Method)
        for (size_t i : order) k->shuffled.emplace_back(k->present[i]);
        k->absent = random_uids(n, n + 1);
    }
    return *k;
}

size_t heap_in_use() {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

// One table per (type, N), built on first use and kept for the whole run, with its size.
template <class Map>
struct Built {
    std::unique_ptr<Map> map;
    double bytes_per_entry = 0;
};

template <class Map>
void insert(Map& m, const std::string& k, ConnId c) {
    if constexpr (std::is_same_v<Map, UidTable>)
        m.add(k, c);
    else
        m.emplace(k, c);
}

template <class Map>
void erase(Map& m, const std::string& k, [[maybe_unused]] ConnId c) {
    if constexpr (std::is_same_v<Map, UidTable>)
        m.remove(k, c);
    else
        m.erase(k);
}

template <class Map>
size_t memory_of(const Map& m, size_t heap_before) {
    if constexpr (std::is_same_v<Map, UidTable>)
        return m.memory_bytes();
    else
        return heap_in_use() - heap_before;
}

// Churn changes its table, so it gets one of its own (for_churn): the finds, run before or
// after it (or between its repetitions, with --benchmark_enable_random_interleaving), always
// see keys [0, N).
template <class Map>
Built<Map>& built(size_t n, bool for_churn = false) {
    static std::map<std::pair<size_t, bool>, Built<Map>> cache;
    Built<Map>& b = cache[{n, for_churn}];
    if (!b.map) {
        const Keys& k = keys(n);
        const size_t before = heap_in_use();
        b.map = std::make_unique<Map>();
        for (size_t i = 0; i < n; ++i) insert(*b.map, k.present[i], ConnId{uint32_t(i), 1});
        if constexpr (std::is_same_v<Map, UidTable>)
            while (b.map->advance_resize()) {  // steady state, as an idle loop would leave it
            }
        b.bytes_per_entry = double(memory_of(*b.map, before)) / double(n);
    }
    return b;
}

template <class Map>
bool found(const Map& m, const std::string& k) {
    if constexpr (std::is_same_v<Map, UidTable>) {
        auto span = m.find(k);
        benchmark::DoNotOptimize(span.data);
        return !span.empty();
    } else {
        auto it = m.find(k);
        benchmark::DoNotOptimize(it);
        return it != m.end();
    }
}

template <class Map>
void find_bench(benchmark::State& state, bool hits) {
    const size_t n = size_t(state.range(0));
    Built<Map>& b = built<Map>(n);
    const std::vector<std::string>& q = hits ? keys(n).shuffled : keys(n).absent;
    size_t i = 0, hit = 0;
    for (auto _ : state) {
        hit += found(*b.map, q[i]);
        if (++i == n) i = 0;
    }
    if (hit != (hits ? size_t(state.iterations()) : 0)) state.SkipWithError("wrong find result");
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_entry"] = b.bytes_per_entry;
}

// Lookups in blocks of 16 uids (a push to a uid list): ours through find_many(), absl with its
// prefetch() on each key of the block before the finds, the same trick.
template <class Map>
void find_batch_bench(benchmark::State& state) {
    const size_t n = size_t(state.range(0));
    Built<Map>& b = built<Map>(n);
    const std::vector<std::string>& q = keys(n).shuffled;
    constexpr size_t kBlock = 16;
    std::vector<std::string_view> views(q.begin(), q.end());
    wspush::registry::ConnSpan out[kBlock];
    size_t i = 0, hit = 0;
    for (auto _ : state) {
        if (i + kBlock > n) i = 0;
        if constexpr (std::is_same_v<Map, UidTable>) {
            b.map->find_many(&views[i], kBlock, out);
            for (size_t j = 0; j < kBlock; ++j) hit += !out[j].empty();
        } else {
            for (size_t j = 0; j < kBlock; ++j) b.map->prefetch(q[i + j]);
            for (size_t j = 0; j < kBlock; ++j) hit += found(*b.map, q[i + j]);
        }
        i += kBlock;
    }
    if (hit != size_t(state.iterations()) * kBlock) state.SkipWithError("wrong find result");
    state.SetItemsProcessed(int64_t(state.iterations() * kBlock));
    state.counters["bytes_per_entry"] = b.bytes_per_entry;
}

// Logout of the oldest uid, login of a new one: the table stays at N entries.
template <class Map>
void churn_bench(benchmark::State& state) {
    const size_t n = size_t(state.range(0));
    const std::vector<std::string>& k = keys(n).present;
    Built<Map>& b = built<Map>(n, true);
    static std::map<size_t, size_t> next_of;  // keeps the window position across runs
    size_t& j = next_of[n];
    for (auto _ : state) {
        const size_t out = j % (2 * n), in = (j + n) % (2 * n);
        erase(*b.map, k[out], ConnId{uint32_t(out), 1});
        insert(*b.map, k[in], ConnId{uint32_t(in), 1});
        ++j;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_entry"] = b.bytes_per_entry;
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
template <class Map>
void growth_bench(benchmark::State& state) {
    const size_t n = size_t(state.range(0));
    const std::vector<std::string>& k = keys(n).present;
    std::vector<float> all, best(n, 1e30f);
    for (auto _ : state) {
        auto m = std::make_unique<Map>();
        for (size_t i = 0; i < n; ++i) {
            const double t0 = clock_us(CLOCK_MONOTONIC);
            insert(*m, k[i], ConnId{uint32_t(i), 1});
            const float dt = float(clock_us(CLOCK_MONOTONIC) - t0);
            all.push_back(dt);
            best[i] = std::min(best[i], dt);
        }
        state.PauseTiming();  // the destructor is not part of growth
        m.reset();
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

void BM_RegistryFind(benchmark::State& s) { find_bench<UidTable>(s, true); }
void BM_AbslFind(benchmark::State& s) { find_bench<AbslMap>(s, true); }
void BM_StdFind(benchmark::State& s) { find_bench<StdMap>(s, true); }
void BM_RegistryFindMiss(benchmark::State& s) { find_bench<UidTable>(s, false); }
void BM_AbslFindMiss(benchmark::State& s) { find_bench<AbslMap>(s, false); }
void BM_StdFindMiss(benchmark::State& s) { find_bench<StdMap>(s, false); }
void BM_RegistryFindBatch(benchmark::State& s) { find_batch_bench<UidTable>(s); }
void BM_AbslFindBatch(benchmark::State& s) { find_batch_bench<AbslMap>(s); }
void BM_RegistryChurn(benchmark::State& s) { churn_bench<UidTable>(s); }
void BM_AbslChurn(benchmark::State& s) { churn_bench<AbslMap>(s); }
void BM_StdChurn(benchmark::State& s) { churn_bench<StdMap>(s); }
void BM_RegistryGrowth(benchmark::State& s) { growth_bench<UidTable>(s); }
void BM_AbslGrowth(benchmark::State& s) { growth_bench<AbslMap>(s); }

#define SIZES Arg(100000)->Arg(1000000)
BENCHMARK(BM_RegistryFind)->SIZES;
BENCHMARK(BM_AbslFind)->SIZES;
BENCHMARK(BM_StdFind)->SIZES;
BENCHMARK(BM_RegistryFindMiss)->SIZES;
BENCHMARK(BM_AbslFindMiss)->SIZES;
BENCHMARK(BM_StdFindMiss)->SIZES;
BENCHMARK(BM_RegistryFindBatch)->SIZES;
BENCHMARK(BM_AbslFindBatch)->SIZES;
BENCHMARK(BM_RegistryChurn)->SIZES;
BENCHMARK(BM_AbslChurn)->SIZES;
BENCHMARK(BM_StdChurn)->SIZES;
BENCHMARK(BM_GroupCloseRejoin)->SIZES;
BENCHMARK(BM_GroupMembersWalk)->SIZES;
// Growth keeps its own minimum over 3 iterations; repetitions of it would only cost time.
BENCHMARK(BM_RegistryGrowth)->Arg(1000000)->Iterations(3)->Repetitions(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AbslGrowth)->Arg(1000000)->Iterations(3)->Repetitions(1)->Unit(benchmark::kMillisecond);

// Collects each run's rate and counters for the ratio table.
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
            auto& row = results[r.run_name.str()];
            for (const auto& [name, c] : r.counters) row[name] = c.value;
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
    std::printf("\nRatios from this run (registry rate / baseline rate; bytes: registry / baseline)\n");
    std::printf("%-10s %8s %14s %14s %14s %10s %10s\n", "op", "N", "registry Mop/s", "vs absl", "vs std",
                "B/entry", "absl B/e");
    for (const char* op : {"Find", "FindMiss", "Churn", "FindBatch"}) {
        for (const char* n : {"100000", "1000000"}) {
            const std::string suffix = std::string(op) + "/" + n;
            const double ours = get("BM_Registry" + suffix, "items_per_second");
            const double absl = get("BM_Absl" + suffix, "items_per_second");
            const double stdr = get("BM_Std" + suffix, "items_per_second");
            const double bytes = get("BM_Registry" + suffix, "bytes_per_entry");
            const double absl_bytes = get("BM_Absl" + suffix, "bytes_per_entry");
            if (ours == 0) continue;
            char vs_std[32] = "n/a";  // std has no prefetch, so no batch variant
            if (stdr) std::snprintf(vs_std, sizeof vs_std, "%.2fx", ours / stdr);
            std::printf("%-10s %8s %14.2f %13.2fx %14s %10.1f %10.1f\n", op, n, ours / 1e6, absl ? ours / absl : 0.0,
                        vs_std, bytes, absl_bytes);
        }
    }
    bool header = false;
    for (const char* who : {"Registry", "Absl"}) {
        const std::string b = std::string("BM_") + who + "Growth/1000000/iterations:3/repeats:1";
        if (get(b, "max_insert_us") == 0) continue;
        if (!header) {
            std::printf("\nSlowest single insert while growing to 1M (raw worst / worst per-insert minimum of 3 runs):\n");
            header = true;
        }
        std::printf("  %-8s %10.1f us / %10.1f us (insert #%.0f); p99.99 %.1f us\n", who, get(b, "max_insert_us"),
                    get(b, "max_min_insert_us"), get(b, "max_min_at"), get(b, "p9999_insert_us"));
    }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    TableReporter rep;
    benchmark::RunSpecifiedBenchmarks(&rep);
    print_ratios(rep);
    benchmark::Shutdown();
    return 0;
}
