// MedianReporter: Google Benchmark's console output, plus each benchmark's CPU time per
// iteration kept by name ("BM_X" or "BM_X/args") for a ratio table printed at the end: the
// median when the run repeats (--benchmark_repetitions), else the one run. Subclasses print
// their table in Finalize() after calling MedianReporter::Finalize().
#pragma once
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace wspush::bench {

class MedianReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            if (run.run_type == Run::RT_Iteration || median) {
                std::string name = run.run_name.function_name;
                if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
                if (median || !ns_.count(name)) ns_[name] = run.GetAdjustedCPUTime();
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }
    // CPU ns per iteration of name, 0 if it did not run.
    double ns(const std::string& name) const {
        auto it = ns_.find(name);
        return it == ns_.end() ? 0 : it->second;
    }

private:
    std::map<std::string, double> ns_;
};

// main() of a benchmark binary with reporter R.
template <class R>
int run_with(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    R reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}

}  // namespace wspush::bench
