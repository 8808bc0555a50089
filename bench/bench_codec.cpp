// Codec microbenchmarks: unmasking, UTF-8 validation and whole-frame parsing, each against
// memcpy of the same size in the same run (printed as "ratio vs memcpy" at the end).
//
// Method: single thread, data resident in L1/L2 (the largest working set is ~260 KB), bytes
// per second = payload (or wire) bytes handled per wall second. BM_ParseFrames copies fresh
// masked frames into the parse buffer every iteration (the parser unmasks in place) and that
// copy is inside the timed loop, so its figure is an honest lower bound.
// Run: build/bench_codec --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

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
BENCHMARK(BM_Unmask) SIZES;
BENCHMARK(BM_Utf8Ascii) SIZES;
BENCHMARK(BM_Utf8Mixed) SIZES;
BENCHMARK(BM_ParseFrames) SIZES;

// The console output as usual, then each benchmark's bytes/s divided by BM_Memcpy's at the
// same N, from this same run.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
            auto it = run.counters.find("bytes_per_second");
            if (it == run.counters.end()) continue;
            std::string name = run.benchmark_name();
            size_t slash = name.find('/');
            rates_[name.substr(slash + 1)][name.substr(0, slash)] = it->second.value;
        }
        ConsoleReporter::ReportRuns(runs);
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        printf("\nratio vs memcpy (bytes/s of each / BM_Memcpy at the same N), SIMD level %s\n",
               simd_level_name(best_simd_level()));
        printf("%-16s %10s %10s %10s\n", "benchmark", "N=64", "N=1024", "N=65536");
        for (const char* bench : {"BM_Memcpy", "BM_Unmask", "BM_Utf8Ascii", "BM_Utf8Mixed", "BM_ParseFrames"}) {
            printf("%-16s", bench);
            for (const char* n : {"64", "1024", "65536"}) {
                double base = rates_[n]["BM_Memcpy"], v = rates_[n][bench];
                if (base > 0 && v > 0) printf(" %10.2f", v / base);
                else printf(" %10s", "-");
            }
            printf("\n");
        }
        printf("%-16s", "memcpy GB/s");
        for (const char* n : {"64", "1024", "65536"}) printf(" %10.1f", rates_[n]["BM_Memcpy"] / 1e9);
        printf("\n");
    }

private:
    std::map<std::string, std::map<std::string, double>> rates_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
