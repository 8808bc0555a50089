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
#pragma once
#include <memory>
#include <string>

#include "engine/server.h"
#include "server/config.h"
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

    Config cfg_;
    engine::Server* server_ = nullptr;
    Sessions sessions_;
    std::unique_ptr<LocalRouter> router_;
    std::unique_ptr<HttpEndpoint> api_;
    size_t api_listener_ = SIZE_MAX;
    ServiceStats stats_;
    uint32_t next_stats_ms_ = 0;
};

}  // namespace wspush::server
