// Everything the coordinator measured in one run, merged over workers; run_summary.cpp turns
// it into the JSON object (stdout) and the human table (stderr).
#pragma once
#include <cstdint>
#include <string>

#include "tools/wsload/latency_histogram.h"
#include "tools/wsload/load_options.h"
#include "tools/wsload/process_tree_usage.h"
#include "tools/wsload/worker_report.h"

namespace wsload {

struct RunResult {
    WorkerReport merged;                   // counters and histograms of all workers
    uint32_t workers_reported = 0;
    uint32_t logged_in = 0, failed = 0, lost_connections = 0;
    double connect_seconds = 0;            // fork to the last login (or failure)
    ProcessTreeUsage server_idle_before;   // before any connection
    ProcessTreeUsage server_idle_after;    // all logged in, idle for settle_s
    ProcessTreeUsage server_run_start, server_run_end;
    double run_seconds = 0;                // run start to the last delivery
    uint64_t sent = 0;                     // messages (a broadcast counts once)
    uint64_t expected_deliveries = 0;
    uint64_t delivered = 0;
    uint64_t broadcasts_completed = 0;
    LatencyHistogram broadcast_completion; // send to arrival at the last connection
    double coordinator_cpu_s = 0;
    bool ran_traffic = false;
    bool timed_out = false, server_died = false, interrupted = false;
    std::string abort_reason;

    uint64_t lost() const {
        return expected_deliveries > delivered ? expected_deliveries - delivered : 0;
    }
    bool ok() const;
};

// Prints the JSON object on stdout and a table on stderr. Returns the exit code: 0 when the
// run was clean, 1 when anything was lost, duplicated, reordered, failed or timed out.
int print_run_summary(const LoadOptions& opts, const RunResult& r);

}  // namespace wsload
