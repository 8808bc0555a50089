// What one worker process found, shipped to the coordinator over a pipe as raw bytes (the
// same binary on both ends of the fork, so the layout matches). Histograms merge by adding.
#pragma once
#include <cstdint>

#include "tools/wsload/latency_histogram.h"

namespace wsload {

struct WorkerReport {
    uint64_t connect_errors = 0;       // socket/bind/connect failed (refused, no ports, EMFILE)
    uint64_t handshake_errors = 0;     // not 101, or a wrong Sec-WebSocket-Accept
    uint64_t rejected_503 = 0;         // the server was at --max-conns
    uint64_t login_errors = 0;         // login reply missing or not the expected text
    uint64_t resets = 0;               // logged-in connection reset or closed without a frame
    uint64_t close_frames = 0;         // the server sent Close before we were done
    uint64_t protocol_errors = 0;      // the server sent a frame our parser rejects
    uint64_t unexpected_messages = 0;  // a message that is not one we sent (e.g. "error: ...")
    uint64_t deliveries_ok = 0;        // messages that arrived, in order or after a gap
    uint64_t gaps = 0;                 // sequence numbers skipped inside a stream (lost)
    uint64_t out_of_order = 0;         // a sequence number below the expected one (dup/reorder)
    uint64_t pings_answered = 0;
    uint64_t send_stalls = 0;          // a send waited because the output ring was full
    double cpu_total_s = 0;            // this worker's utime+stime for the whole run
    double cpu_run_s = 0;              // ... during the measured phase
    LatencyHistogram connect_latency;  // connect() start to login reply
    LatencyHistogram delivery_latency; // send timestamp to arrival, per delivery
};

}  // namespace wsload
