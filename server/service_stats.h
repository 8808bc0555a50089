// Counters of the push service (the engine keeps its own: engine/engine_stats.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "auth/token_verifier.h"

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
    // --auth jwt: tokens refused (in the URL or as the first message), by reason ([Ok] unused).
    uint64_t auth_failures[static_cast<size_t>(auth::TokenError::kCount)] = {};
    uint64_t refused_sends = 0;      // messages --client-send (or a token's "send") did not allow
    uint64_t rate_limited = 0;       // connections closed 1008 "rate limit" (--client-rate)
    uint64_t token_expired = 0;      // connections closed 1008 "token expired" at their token's exp
    PathCounters client, api;        // by path, for /metrics

    uint64_t deliveries() const { return client.deliveries + api.deliveries; }
    uint64_t auth_failures_total() const {
        uint64_t n = 0;
        for (uint64_t v : auth_failures) n += v;
        return n;
    }
    // Every routed message, whichever way it came: `payload` bytes went to n connections.
    void routed(PathCounters& path, size_t payload, size_t n) {
        path.bytes_in += payload;
        path.deliveries += n;
        path.bytes_out += n * payload;
        if (n == 0) ++dropped_offline;
    }
};

}  // namespace wspush::server
