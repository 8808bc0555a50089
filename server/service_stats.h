// Counters of the push service (the engine keeps its own: engine/engine_stats.h).
#pragma once
#include <cstddef>
#include <cstdint>

namespace wspush::server {

// What routing did with the messages that came one way: from WebSocket clients, or through
// the HTTP API (each batch item counts). Bytes are payload bytes; out = x recipients.
struct PathCounters {
    uint64_t bytes_in = 0;
    uint64_t deliveries = 0;  // frames queued to recipients
    uint64_t bytes_out = 0;
};

struct ServiceStats {
    uint64_t logins = 0;
    uint64_t login_failures = 0;     // bad uid (empty, ':' inside, too long), binary login
    uint64_t to_uid = 0;             // client messages routed to a uid
    uint64_t to_all = 0;             // client broadcasts
    uint64_t dropped_offline = 0;    // addressed to a uid (or group) with no connection here
    uint64_t bad_format = 0;         // no ':' in a routed message, or nothing before it
    uint64_t api_messages = 0;       // API pushes (client messages: the engine's messages_in)
    PathCounters client, api;        // by path, for /metrics

    uint64_t deliveries() const { return client.deliveries + api.deliveries; }
    // Every routed message, whichever way it came: `payload` bytes went to n connections.
    void routed(PathCounters& path, size_t payload, size_t n) {
        path.bytes_in += payload;
        path.deliveries += n;
        path.bytes_out += n * payload;
        if (n == 0) ++dropped_offline;
    }
};

}  // namespace wspush::server
