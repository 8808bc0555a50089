// Counters of the push service (the engine keeps its own: engine/engine_stats.h).
#pragma once
#include <cstdint>

namespace wspush::server {

struct ServiceStats {
    uint64_t logins = 0;
    uint64_t login_failures = 0;     // bad uid (empty, ':' inside, too long), binary login
    uint64_t to_uid = 0;             // client messages routed to a uid
    uint64_t to_all = 0;             // client broadcasts
    uint64_t deliveries = 0;         // frames queued to recipients by routing (client and API)
    uint64_t dropped_offline = 0;    // addressed to a uid (or group) with no connection here
    uint64_t bad_format = 0;         // no ':' in a routed message
    // By path, for /metrics: "client" = messages routed from WebSocket clients, "api" = pushes
    // through the HTTP API (each batch item counts). Bytes are payload bytes; out = x recipients.
    uint64_t client_bytes_in = 0;
    uint64_t client_bytes_out = 0;
    uint64_t api_messages = 0;
    uint64_t api_bytes_in = 0;
    uint64_t api_deliveries = 0;     // part of `deliveries`
    uint64_t api_bytes_out = 0;
};

}  // namespace wspush::server
