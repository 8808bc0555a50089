// engine::Server: one edge-triggered epoll loop that owns listeners, connections, timers and
// output batching, and speaks HTTP/1.1 and WebSocket through codec/. The service above it
// (server/PushService) sees whole messages and whole HTTP requests through ServerHandler.
//
// Loop iteration (the order matters):
//   1. epoll_wait, with a timeout set by the earliest timer (no idle wake-ups)
//   2. accept / read every ready socket until EAGAIN into the loop's one read buffer; parse;
//      the handler routes, which only *queues* SharedFrame references and marks sockets dirty
//   3. expire timers (handshake, login, ping, idle, linger) from the list heads
//   4. flush: one writev per dirty socket, whatever number of frames it gathered
//   5. reap: connections closed during this iteration are unregistered and freed only now,
//      so nothing is erased while a fan-out walks the tables
//
// TLS (ListenerSpec::tls): connections of a TLS listener take the same steps through
// TlsTransport (server_tls.cpp): step 2 drives the handshake and reads plaintext into the same
// read buffer, step 4 hands the same gathered frames to TLS records instead of writev. Nothing
// above the engine knows a socket is encrypted.
//
// Threading: one Server per thread or process; nothing here is shared. Several workers share
// a port with SO_REUSEPORT (ListenerSpec::reuse_port).
#pragma once
#include <sys/epoll.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codec/handshake.h"
#include "codec/http_request.h"
#include "codec/opcode.h"
#include "codec/origin_allowlist.h"
#include "engine/connection.h"
#include "engine/engine_stats.h"
#include "engine/peer_counts.h"
#include "engine/shared_frame.h"
#include "engine/timeout_lists.h"
#include "engine/tls_context.h"
#include "engine/tls_transport.h"

namespace wspush::engine {

// Limits and timeouts; the service fills this from its Config (defaults and reasons live there).
struct ServerConfig {
    // Connections on the WebSocket listeners, plain HTTP ones included (an idle keep-alive
    // socket holds an fd like a WebSocket): beyond it the oldest idle keep-alive connection
    // is closed to make room, or, with none, the new connection gets 503 and is closed.
    size_t max_conns = 10000;
    uint32_t max_conns_per_ip = 0;      // the same, per client address (429 beyond); 0 = no limit
    uint64_t max_message = 1 << 20;     // bytes per WebSocket message (1009 beyond)
    // Bytes per message before the handler calls authenticate() (1009 beyond): a login is a uid
    // or a token, and a client nobody has vouched for must not make us hold max_message.
    uint64_t max_login_message = 16 << 10;
    // Bytes of partial client messages held across all connections: the connection whose read
    // would pass it is closed with 1013 (try again later). max_message bounds one client; this
    // bounds them together (20k clients x 1 MiB would otherwise be 20 GiB). A read by a client
    // not logged in is refused past half of it: the other half stays for logged-in clients.
    uint64_t max_inbound_buffered = 256 << 20;
    // Bytes a connection may owe once the kernel has taken what its socket buffer holds: a
    // frame that would pass it is first offered to the socket, and only what is left counts
    // (1008 "slow consumer" beyond). Bounds the memory one reader can pin.
    uint64_t max_backlog = 4 << 20;
    size_t max_head = 8192;             // HTTP request head (431 beyond)
    codec::OriginAllowlist allowed_origins;  // WebSocket handshakes from other Origins get 403
    uint32_t handshake_timeout_ms = 10000;
    uint32_t login_timeout_ms = 30000;
    uint32_t ping_interval_ms = 25000;
    uint32_t idle_timeout_ms = 60000;
    uint32_t http_idle_timeout_ms = 15000;  // keep-alive HTTP connection with no request
    uint32_t close_linger_ms = 2000;        // after our FIN, wait this long for the peer's
    uint32_t shutdown_timeout_ms = 5000;
    size_t read_buffer_bytes = 256 * 1024;  // one per loop, shared by every connection
    bool tls_own_records = true;            // TLS 1.3 records by our layer after the handshake (TlsTransport)
};

struct ListenerSpec {
    std::string host = "0.0.0.0";
    uint16_t port = 0;
    bool websocket = true;    // false: HTTP only (the push API); upgrades are plain requests
    bool reuse_port = false;
    int backlog = 4096;
    TlsContext* tls = nullptr;  // serve TLS with this context (it must outlive the Server)
    // Largest request body (413 beyond); chunk framing and trailers count too. Every request
    // holds at most max_head + 2 x max_body + 8 KiB (trailers) bytes before it is refused.
    uint64_t max_body = 1 << 20;
    // HTTP-only listeners: their own connection limit (503 beyond); 0 = none. WebSocket
    // listeners share ServerConfig::max_conns instead.
    size_t max_conns = 0;
};

class Server;

// Another layer's file descriptor the loop watches beside its own sockets (the cluster's Redis
// connections). on_fd_event gets epoll's event bits; it may call watch_fd/unwatch_fd.
class FdWatcher {
public:
    virtual ~FdWatcher() = default;
    virtual void on_fd_event(uint32_t events) = 0;
};

class ServerHandler {
public:
    virtual ~ServerHandler() = default;
    // A valid upgrade request, before the 101: return 0 to accept it, or an HTTP status (401,
    // 403, ...) to refuse it with *reason as the error text. On accept, on_open follows at once
    // (nothing else runs between them, so a handler may carry state from one to the other).
    virtual int on_upgrade(Connection& c, const codec::Upgrade& up, const char** reason) {
        (void)c, (void)up, (void)reason;
        return 0;
    }
    // A WebSocket connection is open (101 sent). It is on the login timer until the handler
    // calls Server::authenticate().
    virtual void on_open(Connection& c, const codec::Upgrade& up) = 0;
    // A whole data message, unmasked (Text is valid UTF-8). `data` lives in the loop's read
    // buffer or the parser's spill buffer: valid during the call only, writable.
    virtual void on_message(Connection& c, codec::Opcode op, uint8_t* data, size_t len) = 0;
    // A WebSocket connection that on_open saw is gone; called once, just before its slot is
    // freed. Its ConnId is dead after this returns.
    virtual void on_close(Connection& c) = 0;
    // A plain HTTP request's head is complete, and nothing of its body has been read or asked
    // for (no "100 Continue" yet): the place for checks that must not cost us the body, such
    // as a key. Return false after answering it with Server::respond(): the body is not read
    // and the connection is closed after the answer. Called once per request.
    virtual bool on_http_head(Connection& c, const codec::HttpRequest& req) { (void)c; (void)req; return true; }
    // A plain HTTP request (not an upgrade; any request on an HTTP-only listener). The handler
    // must answer it now with Server::respond().
    virtual void on_http(Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) = 0;
    // Once per loop iteration after timers, with the loop clock (ms). For periodic and
    // background work; return true when more background work is pending, and the loop polls
    // again at once instead of sleeping until the next event or timer.
    virtual bool on_tick(uint32_t now_ms) { (void)now_ms; return false; }
    // At most how long (ms) the loop may sleep before the next on_tick (the loop wakes at
    // least once a second anyway): for handler deadlines that are not connection timers.
    virtual uint32_t next_tick_in_ms() { return UINT32_MAX; }
};

class Server {
public:
    Server(const ServerConfig& cfg, ServerHandler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Opens a listener; returns the bound port, or 0 with *error set.
    uint16_t listen(const ListenerSpec& spec, std::string* error);

    // Runs until stop() has finished a graceful shutdown. Returns 0.
    int run();
    // Graceful shutdown: stop accepting, close every WebSocket with 1001, flush for at most
    // shutdown_timeout_ms, then return from run(). Safe to call from a handler.
    void stop();
    // SIGTERM and SIGINT call stop() (through a signalfd in the loop); with a TLS listener,
    // SIGHUP reloads its certificate and key.
    void handle_signals();

    // --- for the handler and the router ---
    Connection* get(ConnId id) { return slots_.get(id); }
    // Queues a shared frame (takes its own reference). False when the connection is closing
    // or the frame would put it past max_backlog (it is then closed as a slow consumer).
    bool send(Connection& c, SharedFrame* f);
    // Encodes and queues one message for one connection (one allocation).
    bool send_message(Connection& c, codec::Opcode op, const void* data, size_t len);
    // Closes a WebSocket with a close frame (code, reason), or ends an HTTP connection after
    // its queued response. Idempotent; takes effect after queued output is flushed.
    void close(Connection& c, uint16_t code, std::string_view reason, CloseReason why);
    // The connection logged in: from the login timer to the ping/idle timer.
    void authenticate(Connection& c);
    // Answers the HTTP request being handled (see ServerHandler::on_http).
    void respond(Connection& c, int status, std::string_view content_type, std::string_view body,
                 std::string_view extra_headers = {});

    uint32_t now_ms() const { return now_ms_; }
    size_t open_websockets() const { return open_ws_; }
    // Bytes of partial client messages held now (the parsers' spill buffers), all connections.
    size_t inbound_buffered() const { return inbound_buffered_; }
    size_t connections() const { return slots_.size(); }
    // Distinct client addresses (IPv6: /64s) with a counted connection open now.
    size_t peer_addresses() const { return peers_.addresses(); }
    const EngineStats& stats() const { return stats_; }
    // Null without a TLS listener. The ticket counters are summed from the contexts' TicketKeys.
    const TlsStats* tls_stats() const;
    const ServerConfig& config() const { return cfg_; }
    bool stopping() const { return stopping_; }

    // --- for a layer that brings its own sockets (cluster/) ---
    // Watches fd for `events` (EPOLLIN, EPOLLOUT; level-triggered), replacing what was
    // watched before; w is called from the loop. False if epoll refused the fd.
    bool watch_fd(int fd, uint32_t events, FdWatcher* w);
    // Stops watching fd (before it is closed). No event reaches w after this returns.
    void unwatch_fd(int fd);
    // The loop sleeps at most ms before its next on_tick (a watcher's own timers).
    void wake_within(uint32_t ms) { wake_within_ms_ = std::min(wake_within_ms_, ms); }

    // Encodes a frame into a new SharedFrame with one reference (for fan-out by the router).
    static SharedFrame* encode(codec::Opcode op, const void* data, size_t len);

private:
    friend class ConnectionFrameSink;
    struct Listener {
        int fd;
        ListenerSpec spec;
        size_t live = 0;  // HTTP-only listeners: connections not closing, against spec.max_conns
    };

    void on_accept(size_t listener_index);
    // Counts a new connection against its limits, or answers 503/429 and closes it.
    void admit(Connection& c, const sockaddr_storage& peer);
    size_t& live_count(const Connection& c);
    size_t live_limit(const Connection& c) const;
    bool evict_idle_http(const Connection& newcomer);
    // The connection stops counting against --max-conns (its close began, or it is gone).
    void release_live(Connection& c);
    void on_signals();
    void on_readable(Connection& c, bool hangup);
    void on_peer_eof(Connection& c);
    void on_writable(Connection& c);
    // TLS connections (server_tls.cpp): the same paths through TlsTransport.
    bool is_tls(const Connection& c) const { return listeners_[c.listener].spec.tls != nullptr; }
    void on_readable_tls(Connection& c, bool hangup);
    void on_writable_tls(Connection& c);
    void drain_raw(Connection& c);
    void refuse_plain_http(Connection& c);
    void reload_tls();
    void rotate_ticket_keys();
    // f(ctx) once for each distinct TlsContext of the listeners (WebSocket and API may share one).
    template <typename F>
    void for_each_tls_context(F f) const {
        for (size_t i = 0; i < listeners_.size(); ++i) {
            TlsContext* ctx = listeners_[i].spec.tls;
            bool seen = false;
            for (size_t j = 0; j < i && ctx; ++j) seen |= listeners_[j].spec.tls == ctx;
            if (ctx && !seen) f(*ctx);
        }
    }
    // writev(2) for a plaintext connection, TLS records for a TLS one; same return contract.
    ssize_t write_out(Connection& c, const struct iovec* iov, int n);
    void handle_bytes(Connection& c, uint8_t* data, size_t len);
    void handle_ws_bytes(Connection& c, uint8_t* data, size_t len);
    uint64_t message_limit(const Connection& c) const;  // max_login_message until authenticate()
    void drop_partial_message(Connection& c);           // frees its parser's spill, off inbound_buffered_
    void handle_http_bytes(Connection& c, uint8_t* data, size_t len);
    size_t process_http(Connection& c, uint8_t* buf, size_t len, HttpProgress& progress);
    bool upgrade(Connection& c, const codec::Upgrade& up);
    void send_continue(Connection& c, const codec::HttpRequest& req);
    // Queues an HTTP response; closes after it unless keep-alive, counting the close as `why`.
    void queue_response(Connection& c, int status, std::string_view content_type, std::string_view body,
                        std::string_view extra_headers, CloseReason why);
    void respond_error(Connection& c, int status, std::string_view message,
                       std::string_view extra_headers = {}, CloseReason why = CloseReason::HttpDone);
    // Queues f (taking over the caller's reference) and marks c for the flush.
    void queue_owned(Connection& c, SharedFrame* f);
    // Queues a copy of raw bytes (an interim response, the rest of a 101).
    void queue_copy(Connection& c, const void* data, size_t len);
    uint32_t timeout_ms(TimerList list) const;
    // Appends to the pending request; false (and a 413 answered) when it would pass the
    // per-request bound.
    bool keep_http_input(Connection& c, const uint8_t* data, size_t len);
    uint64_t request_bound(const Connection& c) const;
    bool refuse_origin(Connection& c, const codec::HttpRequest& req);
    void drop_http_input(Connection& c);
    void on_control_frame(Connection& c, codec::Opcode op, uint8_t* data, size_t len);
    void mark_dirty(Connection& c);
    void flush(Connection& c);
    void flush_dirty();
    void set_want_write(Connection& c, bool on);
    void finish_close(Connection& c);
    void reap(Connection& c);
    void reap_pending();
    void run_timers();
    int next_timeout_ms();
    void update_clock();
    void begin_shutdown();
    void touch(Connection& c);

    ServerConfig cfg_;
    ServerHandler& handler_;
    int epoll_fd_ = -1;
    int signal_fd_ = -1;
    int reserve_fd_ = -1;  // spare fd, given up to accept-and-close when out of fds
    std::vector<Listener> listeners_;
    ConnSlots slots_;
    TimeoutLists timers_{slots_};
    std::vector<ConnId> dirty_;
    std::vector<ConnId> reap_;
    std::unique_ptr<uint8_t[]> read_buf_;
    SharedFrame* ping_frame_ = nullptr;  // one empty ping, shared by every connection
    EngineStats stats_;
    PeerCounts peers_;
    size_t open_ws_ = 0;
    size_t inbound_buffered_ = 0;  // the parsers' spill bytes, all connections (max_inbound_buffered)
    // The connection whose bytes the parser is taking, and its limits: authenticate() during
    // that feed lifts the login limit for the messages after the login in the same read.
    Connection* feeding_ = nullptr;
    codec::FrameLimits* feeding_limits_ = nullptr;
    size_t public_live_ = 0;  // connections on WebSocket listeners not closing, against max_conns
    uint64_t clock_origin_ns_ = 0;
    uint32_t now_ms_ = 0;
    uint32_t shutdown_deadline_ = 0;
    bool stopping_ = false;
    bool done_ = false;
    bool handler_busy_ = false;  // on_tick() has background work pending
    // Watched foreign fds: epoll user data kWatchTag + index (generation 0, like listeners).
    struct Watch {
        int fd = -1;
        FdWatcher* watcher = nullptr;
    };
    std::vector<Watch> watches_;
    uint32_t wake_within_ms_ = UINT32_MAX;
    mutable TlsStats tls_stats_;  // mutable: tls_stats() refreshes the ticket counters
    uint32_t ticket_check_ms_ = 0;  // the loop clock when the ticket keys were last checked
    std::unique_ptr<TlsTransport> tls_;  // only with a TLS listener
};

}  // namespace wspush::engine
