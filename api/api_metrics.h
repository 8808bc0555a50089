// ApiMetrics: what the push API counts about itself (requests by route and status, the time
// spent handling pushes), and render_prometheus(), the /metrics page: these plus the engine's
// and the service's counters, in the Prometheus text exposition format 0.0.4.
//
// Counting is two array increments per request; the histogram is a linear scan of 14 bounds.
// Requests the engine answers itself (400 malformed head, 408, 411, 413, 431) never reach the
// API and are not counted here; they show as closes{reason="http_done"}.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/api_routes.h"

namespace wspush::server { class PushService; }

namespace wspush::api {

using server::PushService;

// Statuses the API answers with; anything else is counted as "other".
constexpr int kApiStatuses[] = {200, 400, 401, 403, 404, 405, 500};
constexpr size_t kApiStatusSlots = sizeof kApiStatuses / sizeof kApiStatuses[0] + 1;

// Push handling time, seconds. Local pushes take microseconds; the tail buckets catch a big
// batch or a broadcast to many connections.
constexpr double kPushLatencyBounds[] = {0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                         0.001,    0.0025,  0.005,    0.01,    0.025,  0.1,     0.5};
constexpr size_t kPushLatencyBuckets = sizeof kPushLatencyBounds / sizeof kPushLatencyBounds[0];

struct ApiMetrics {
    uint64_t requests[static_cast<size_t>(ApiRoute::kCount)][kApiStatusSlots] = {};
    uint64_t push_latency[kPushLatencyBuckets + 1] = {};  // last: +Inf (non-cumulative here)
    double push_latency_sum = 0;
    uint64_t push_latency_count = 0;

    void count(ApiRoute route, int status);
    void observe_push(double seconds);
};

// Appends the whole /metrics page to out.
void render_prometheus(PushService& service, const ApiMetrics& api, std::string& out);

}  // namespace wspush::api
