// Counters the engine keeps; the service adds its own and prints both (--stats-interval,
// /metrics). Plain integers: one event loop owns them.
#pragma once
#include <cstdint>

namespace wspush::engine {

// Why a connection ended. Each has a counter and a name for logs and metrics.
enum class CloseReason : uint8_t {
    ClientClose,      // the client sent a close frame
    PeerGone,         // EOF or reset without a close frame (1006)
    ProtocolError,    // 1002
    InvalidPayload,   // 1007
    MessageTooBig,    // 1009
    Policy,           // 1008 from the service (bad login, ...)
    SlowConsumer,     // 1008: output backlog over --max-backlog
    HandshakeTimeout, // no complete request within --handshake-timeout
    LoginTimeout,     // upgraded but not logged in within --login-timeout
    IdleTimeout,      // silent past --idle-timeout, pings unanswered
    Shutdown,         // 1001 on SIGTERM/SIGINT
    Kicked,           // the API disconnected it
    HttpDone,         // an HTTP exchange ended (Connection: close, bad request, 503, ...)
    InboundBudget,    // 1013: its partial message would pass --max-inbound-buffered
    kCount,
};

const char* close_reason_name(CloseReason r);

struct EngineStats {
    uint64_t accepted = 0;
    uint64_t accept_refused_fd = 0;   // EMFILE/ENFILE: accepted and closed at once via the reserve fd
    uint64_t handshakes = 0;          // 101 sent
    uint64_t handshake_rejected = 0;  // 400/405/426/431 to an upgrade attempt
    uint64_t over_max_conns = 0;      // 503: --max-conns (or --api-max-conns) reached
    uint64_t over_max_conns_per_ip = 0;  // 429: --max-conns-per-ip reached
    uint64_t origin_refused = 0;      // 403: a handshake Origin not in --allowed-origins
    uint64_t http_idle_evicted = 0;   // idle keep-alive HTTP closed to make room under --max-conns
    uint64_t bad_requests = 0;        // 400/411/413/431/501/505: malformed, ambiguous or too large
    uint64_t http_requests = 0;       // plain HTTP requests answered (page, health, API)
    uint64_t messages_in = 0;         // WebSocket data messages received
    uint64_t bytes_in = 0;            // socket bytes read
    uint64_t frames_out = 0;          // frames queued to clients (a broadcast counts once per client)
    uint64_t bytes_out = 0;           // socket bytes written
    uint64_t writev_calls = 0;
    uint64_t pings_sent = 0;
    uint64_t closes[static_cast<int>(CloseReason::kCount)] = {};
};

}  // namespace wspush::engine
