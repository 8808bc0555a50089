// PushService: the seed protocol on top of the engine.
//
//   first text message        -> the uid; reply "login success, your uid is <uid>"
//   "<uid>:<message>"         -> <message> to every connection of <uid> (first ':' splits)
//   "all:<message>"           -> <message> to every logged-in connection, sender included
//   binary frames route the same way and arrive as binary
//
// Fixes of the seed: the message may contain ':' (the seed's explode(':') cut it); a uid may
// hold many connections, and closing one removes only that one (the seed's onClose dropped the
// uid even when a newer connection had taken it).
// Plain HTTP on the WebSocket port: GET / is the demo page, GET /healthz the health check.
//
// With --auth jwt the uid is the "sub" of a signed token (auth/), given in the handshake URL
// (?token=..., a bad one gets HTTP 401) or as the first text message (a bad one gets
// "error: invalid token" / "error: token expired" and close 1008). The connection is closed
// 1008 "token expired" within a second of the token's exp (ExpiryWheel). What a client may
// send (--client-send, narrowed by a "send" claim) and how fast (--client-rate) are checked
// before a message is routed.
#pragma once
#include <memory>
#include <string>

#include "auth/token_verifier.h"
#include "engine/server.h"
#include "server/config.h"
#include "server/expiry_wheel.h"
#include "server/http_endpoint.h"
#include "server/local_router.h"
#include "server/service_stats.h"
#include "server/sessions.h"

namespace wspush::server {

class PushService final : public engine::ServerHandler {
public:
    explicit PushService(const Config& cfg);
    ~PushService() override;

    // Binds the engine (constructed with this service as its handler).
    void attach(engine::Server& server);
    // Requests arriving on this listener index go to the HTTP API.
    void set_api(size_t listener_index, std::unique_ptr<HttpEndpoint> api);
    // --auth jwt: logins are tokens checked by this verifier (set before the loop runs).
    void set_token_verifier(std::unique_ptr<auth::TokenVerifier> verifier);

    int on_upgrade(engine::Connection& c, const codec::Upgrade& up, const char** reason) override;
    uint32_t next_tick_in_ms() override;

    void on_open(engine::Connection& c, const codec::Upgrade& up) override;
    void on_message(engine::Connection& c, codec::Opcode op, uint8_t* data, size_t len) override;
    void on_close(engine::Connection& c) override;
    bool on_http_head(engine::Connection& c, const codec::HttpRequest& req) override;
    void on_http(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) override;
    bool on_tick(uint32_t now_ms) override;

    Router& router() { return *router_; }
    Sessions& sessions() { return sessions_; }
    ServiceStats& stats() { return stats_; }
    engine::Server& server() { return *server_; }
    const Config& config() const { return cfg_; }
    // One line of counters, for --stats-interval and the logs.
    std::string stats_line() const;

private:
    void login(engine::Connection& c, codec::Opcode op, const uint8_t* data, size_t len);
    void route(engine::Connection& c, codec::Opcode op, const uint8_t* data, size_t len);
    void refuse_login(engine::Connection& c, const std::string& why);
    void refuse_token(engine::Connection& c, auth::TokenError e);
    // Logs c in as uid; claims: the token it came with (null under --auth none).
    void start_session(engine::Connection& c, std::string_view uid, const auth::TokenClaims* claims);
    auth::TokenError verify_token(std::string_view token, auth::TokenClaims* claims);
    void refuse_send(engine::Connection& c, std::string_view error);
    bool over_rate(ClientState& st);
    void expire_tokens();

    Config cfg_;
    engine::Server* server_ = nullptr;
    Sessions sessions_;
    std::unique_ptr<LocalRouter> router_;
    std::unique_ptr<HttpEndpoint> api_;
    size_t api_listener_ = SIZE_MAX;
    ServiceStats stats_;
    uint32_t next_stats_ms_ = 0;
    std::string demo_page_;

    std::unique_ptr<auth::TokenVerifier> verifier_;
    // A ?token= login checked in on_upgrade, applied in on_open (called right after it).
    auth::TokenClaims pending_claims_;
    bool pending_login_ = false;
    ExpiryWheel expiry_;
    auth::SendScope client_send_ = auth::SendScope::All;
    // --client-rate as GCRA: one message per interval, up to burst at once (tolerance).
    uint64_t rate_interval_us_ = 0;  // 0: no limit
    uint64_t rate_tolerance_us_ = 0;
    // The loop's millisecond clock, extended to 64 bits (the engine's wraps after 49 days).
    uint64_t clock_ms_ = 0;
    uint32_t clock_last_ = 0;
};

}  // namespace wspush::server
