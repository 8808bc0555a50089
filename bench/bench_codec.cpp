// Codec microbenchmarks: unmasking, UTF-8 validation and whole-frame parsing, each divided by
// a memcpy/memmove reference with the same cache footprint, from the same run (the table at
// the end).
//
// References. A rate depends on the bytes a loop keeps in cache as much as on its code, so
// each benchmark is compared with a copy that touches as many bytes:
//  - BM_Unmask and BM_Utf8* work on one N-byte buffer (unmask in place). Their reference,
//    BM_MemmoveInPlace, moves N bytes 64 bytes down inside one (N + 64)-byte buffer: the
//    same footprint and the same N bytes per call, each read once and written once, as
//    unmask does. (Comparing with a copy between two N-byte buffers, 2N bytes, made Unmask
//    look 1.6x memcpy at N = 65536: a footprint effect, not the code. Copying half of one
//    buffer onto its other half was no fairer: at 65536 the halves are 32 KiB apart, a
//    multiple of 4 KiB, and every load then falsely waits on a store, 4K aliasing.)
//  - BM_ParseFrames works on ~64 KiB of wire bytes whatever the frame size: it copies fresh
//    masked frames into the parse buffer every iteration (the parser unmasks in place, and
//    that copy is inside the timed loop, so its figure is an honest lower bound), then parses
//    them. Its reference for every N is BM_Memcpy at 65536: a copy between two 64 KiB
//    buffers, the copy it includes. So its ratio is below 1 by construction: 1.0 would mean
//    parsing, unmasking and UTF-8 validation were free.
// BM_Memcpy (two N-byte buffers) is also printed in GB/s, for scale.
//
// Method: single thread, data resident in L1/L2 (the largest working set is ~260 KB), bytes
// per second = payload (or wire) bytes handled per wall second.
// make bench runs: build/bench_codec --benchmark_min_time=0.05 --benchmark_repetitions=5
//   --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
// (the table then uses the medians of the interleaved repetitions).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/median_reporter.h"
#include "codec/frame_encoder.h"
#include "codec/frame_parser.h"
#include "codec/unmask.h"
#include "codec/utf8.h"

using namespace wspush::codec;

namespace {

// Realistic chat text: ASCII words, Chinese (3-byte), accented Latin (2-byte), emoji (4-byte).
std::vector<uint8_t> mixed_text(size_t n) {
    static const char* kPieces[] = {"hello ", "world, ", "\xe4\xbd\xa0\xe5\xa5\xbd",
                                    "\xe4\xb8\x96\xe7\x95\x8c", "caf\xc3\xa9 ", "\xf0\x9f\x98\x80",
                                    "ok ", "\xe6\xb6\x88\xe6\x81\xaf "};
    std::mt19937 rng(1);
    std::string s;
    while (s.size() < n) s += kPieces[rng() % 8];
    while (s.size() > n || (s.size() && (uint8_t(s[s.size() - 1]) & 0xC0) == 0xC0)) s.pop_back();
    while (s.size() < n) s += 'x';  // pad after cutting at a character boundary
    return {s.begin(), s.end()};
}

void BM_Memcpy(benchmark::State& state) {
    size_t n = size_t(state.range(0));
    std::vector<uint8_t> src(n, 'a'), dst(n);
    for (auto _ : state) {
        memcpy(dst.data(), src.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n));
}

// N bytes moved 64 bytes down inside one (N + 64)-byte buffer: each byte read once and written
// once, in place, N bytes a call, the footprint of an in-place pass over N bytes.
void BM_MemmoveInPlace(benchmark::State& state) {
    size_t n = size_t(state.range(0));
    std::vector<uint8_t> buf(n + 64, 'a');
    for (auto _ : state) {
        memmove(buf.data(), buf.data() + 64, n);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n));
}

void BM_Unmask(benchmark::State& state) {
    size_t n = size_t(state.range(0));
    std::vector<uint8_t> buf(n, 'a');
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    for (auto _ : state) {
        unmask(buf.data(), n, mask);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n));
}

void BM_Utf8Ascii(benchmark::State& state) {
    size_t n = size_t(state.range(0));
    std::vector<uint8_t> buf(n, 'a');
    for (auto _ : state) benchmark::DoNotOptimize(utf8_valid(buf.data(), n));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n));
}

void BM_Utf8Mixed(benchmark::State& state) {
    size_t n = size_t(state.range(0));
    std::vector<uint8_t> buf = mixed_text(n);
    if (!utf8_valid(buf.data(), n)) state.SkipWithError("test text is not UTF-8");
    for (auto _ : state) benchmark::DoNotOptimize(utf8_valid(buf.data(), n));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n));
}

struct CountingSink : FrameSink {
    size_t bytes = 0;
    bool on_message(Opcode, uint8_t*, size_t len, bool) override { bytes += len; return true; }
    bool on_control(Opcode, uint8_t*, size_t) override { return true; }
};

// Masked text frames of N payload bytes (mixed text), ~64 KiB of payload per buffer.
void BM_ParseFrames(benchmark::State& state) {
    size_t n = size_t(state.range(0));
    size_t frames = std::max<size_t>(2, 65536 / n);
    std::vector<uint8_t> payload = mixed_text(n), wire;
    for (size_t i = 0; i < frames; ++i) {
        size_t at = wire.size();
        wire.resize(at + frame_size(n, true));
        encode_client_frame(wire.data() + at, Opcode::Text, payload.data(), n, 0x9e3779b9u + uint32_t(i));
    }
    std::vector<uint8_t> work(wire.size());
    FrameParser parser;
    CountingSink sink;
    FrameLimits limits;
    for (auto _ : state) {
        memcpy(work.data(), wire.data(), wire.size());  // fresh masked bytes: timed, on purpose
        FeedResult r = parser.feed(work.data(), work.size(), limits, sink);
        if (r.close_code) state.SkipWithError("parse failed");
    }
    if (sink.bytes != frames * n * state.iterations()) state.SkipWithError("lost messages");
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(wire.size()));
}

#define SIZES ->Arg(64)->Arg(1024)->Arg(65536)
BENCHMARK(BM_Memcpy) SIZES;
BENCHMARK(BM_MemmoveInPlace) SIZES;
BENCHMARK(BM_Unmask) SIZES;
BENCHMARK(BM_Utf8Ascii) SIZES;
BENCHMARK(BM_Utf8Mixed) SIZES;
BENCHMARK(BM_ParseFrames) SIZES;

// The console output as usual, then each benchmark's bytes/s divided by its reference's (see
// the top of this file), from this same run.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            // With --benchmark_repetitions the median (reported after the repetitions, so it
            // overwrites them) stands for the benchmark; without, the one run.
            if (run.error_occurred) continue;
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
            auto it = run.counters.find("bytes_per_second");
            if (it == run.counters.end()) continue;
            std::string name = run.run_name.str();
            size_t slash = name.find('/');
            rates_[name.substr(slash + 1)][name.substr(0, slash)] = it->second.value;
        }
        ConsoleReporter::ReportRuns(runs);
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        printf("\nratio vs a copy with the same footprint (bytes/s of each / its reference's), SIMD level %s\n",
               simd_level_name(best_simd_level()));
        printf("%-16s %-28s %10s %10s %10s\n", "benchmark", "reference", "N=64", "N=1024", "N=65536");
        struct Row {
            const char* bench;
            const char* ref;
            bool ref_at_64k;  // the reference at N = 65536 for every N
        };
        for (const Row& row : {Row{"BM_Unmask", "BM_MemmoveInPlace", false},
                               Row{"BM_Utf8Ascii", "BM_MemmoveInPlace", false},
                               Row{"BM_Utf8Mixed", "BM_MemmoveInPlace", false},
                               Row{"BM_ParseFrames", "BM_Memcpy/65536 (2 x 64 KiB)", true}}) {
            printf("%-16s %-28s", row.bench, row.ref);
            const std::string ref = std::string(row.ref).substr(0, std::string(row.ref).find('/'));
            for (const char* n : {"64", "1024", "65536"}) {
                double base = rates_[row.ref_at_64k ? "65536" : n][ref], v = rates_[n][row.bench];
                if (base > 0 && v > 0) printf(" %10.2f", v / base);
                else printf(" %10s", "-");
            }
            printf("\n");
        }
        for (const char* ref : {"BM_Memcpy", "BM_MemmoveInPlace"}) {
            printf("%-16s %-28s", "GB/s", ref);
            for (const char* n : {"64", "1024", "65536"}) printf(" %10.1f", rates_[n][ref] / 1e9);
            printf("\n");
        }
    }

private:
    std::map<std::string, std::map<std::string, double>> rates_;
};

}  // namespace

int main(int argc, char** argv) { return wspush::bench::run_with<RatioReporter>(argc, argv); }
