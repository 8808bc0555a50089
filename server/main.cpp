// wspush: start-up. Parse flags, size the connection ceiling from the fd limit, open the
// listeners, run the loop until SIGTERM/SIGINT has finished a graceful shutdown.
#include <signal.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/fd_limit.h"
#include "engine/listen_socket.h"
#include "engine/log.h"
#include "engine/server.h"
#include "engine/tls_context.h"
#include "server/config.h"
#include "api/http_api.h"
#include "server/push_service.h"

using namespace wspush;

namespace {

uint32_t ms(double seconds) { return static_cast<uint32_t>(std::lround(seconds * 1000.0)); }

std::string read_key_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string key = ss.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
    return key;
}

}  // namespace

int main(int argc, char** argv) {
    server::Config cfg;
    if (int code = server::parse_command_line(argc, argv, cfg); code >= 0) return code;
    engine::LogLevel level;
    engine::parse_log_level(cfg.log_level, &level);
    engine::set_log_level(level);
    signal(SIGPIPE, SIG_IGN);

    // One fd per connection: the fd limit is the connection ceiling, less what the API may hold.
    const bool api_wanted = cfg.api_listen != "off" && !cfg.api_listen.empty();
    engine::FdLimit fds = engine::raise_fd_limit();
    const size_t reserved = engine::kFdOverhead + (api_wanted ? cfg.api_max_conns : 0);
    size_t ceiling = fds.soft > reserved ? fds.soft - reserved : 1;
    if (fds.soft_before < fds.soft)
        LOG_INFO("open-file limit raised from %zu to %zu (the hard limit)", fds.soft_before, fds.soft);
    if (cfg.max_conns == 0) {
        cfg.max_conns = ceiling;
    } else if (cfg.max_conns > ceiling) {
        LOG_WARN("--max-conns %zu is above what this host allows: the open-file limit is %zu (hard %zu), so at most "
                 "%zu connections fit; raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower --max-conns; "
                 "connections past the limit are refused at accept",
                 cfg.max_conns, fds.soft, fds.hard, ceiling);
    }

    // Both addresses are checked before anything binds: a typo fails at once, with its flag.
    std::string error;
    engine::ListenAddress ws_addr, api_addr;
    if (!engine::resolve_listen_address(cfg.host, cfg.port, &ws_addr, &error)) {
        LOG_ERROR("--host: %s", error.c_str());
        return 2;
    }
    std::string api_host;
    uint16_t api_port = 0;
    bool api_on = api_wanted;
    if (api_on) {
        if (!engine::split_host_port(cfg.api_listen, &api_host, &api_port, &error) ||
            !engine::resolve_listen_address(api_host, api_port, &api_addr, &error)) {
            LOG_ERROR("--api-listen: %s", error.c_str());
            return 2;
        }
        if (!cfg.api_key_file.empty()) cfg.api_key = read_key_file(cfg.api_key_file);
        if (cfg.api_key.empty() && !engine::is_loopback(api_addr)) {
            LOG_ERROR("refusing to start: the push API on non-loopback %s needs --api-key or --api-key-file",
                      cfg.api_listen.c_str());
            return 2;
        }
    }

    engine::ServerConfig sc;
    sc.max_conns = cfg.max_conns;
    sc.max_message = cfg.max_message;
    sc.max_backlog = cfg.max_backlog;
    sc.max_conns_per_ip = cfg.max_conns_per_ip;
    sc.http_idle_timeout_ms = ms(cfg.http_idle_timeout);
    if (std::string why; !sc.allowed_origins.parse(cfg.allowed_origins, &why)) {
        LOG_ERROR("--allowed-origins: %s", why.c_str());
        return 2;
    }
    sc.handshake_timeout_ms = ms(cfg.handshake_timeout);
    sc.login_timeout_ms = ms(cfg.login_timeout);
    sc.ping_interval_ms = ms(cfg.ping_interval);
    sc.idle_timeout_ms = ms(cfg.idle_timeout);
    sc.shutdown_timeout_ms = ms(cfg.shutdown_timeout);

    // Before any listener: a bad certificate must stop the start, never leave a plaintext port.
    engine::TlsContext tls;
    const bool tls_on = !cfg.tls_cert.empty();
    if (tls_on) {
        std::string why;
        if (!tls.load(cfg.tls_cert, cfg.tls_key, &why)) {
            LOG_ERROR("refusing to start: %s", why.c_str());
            return 2;
        }
        LOG_INFO("TLS certificate: %s", tls.describe().c_str());
    }

    server::PushService service(cfg);
    engine::Server server(sc, service);
    service.attach(server);

    // Both ports are bound before either is announced: a second instance on the same ports
    // fails with one error naming the flag to change, not after a "listening" line.
    // The addresses resolved above, so a name that resolves differently a second time cannot
    // bind elsewhere than the log says.
    engine::ListenerSpec ws;
    ws.host = engine::numeric_host(ws_addr);
    ws.port = cfg.port;
    ws.tls = tls_on ? &tls : nullptr;
    ws.max_body = cfg.http_max_body;
    uint16_t port = server.listen(ws, &error);
    if (port == 0) {
        LOG_ERROR("cannot listen for WebSocket clients: %s; choose another port with --port N (make run PORT=N) "
                  "or another address with --host", error.c_str());
        return 1;
    }
    uint16_t api_bound = 0;
    if (api_on) {
        engine::ListenerSpec api;
        api.host = engine::numeric_host(api_addr);
        api.port = api_port;
        api.websocket = false;
        api.tls = cfg.api_tls ? &tls : nullptr;
        api.max_body = cfg.api_max_body;
        api.max_conns = cfg.api_max_conns;
        api_bound = server.listen(api, &error);
        if (api_bound == 0) {
            LOG_ERROR("cannot listen for the push API: %s; choose another address with --api-listen HOST:PORT "
                      "(make run API=PORT), or turn the API off with --api-listen off", error.c_str());
            return 1;
        }
        service.set_api(1, std::make_unique<api::HttpApi>(service, cfg.api_key));
    }
    engine::set_port(&ws_addr, port);
    LOG_INFO("listening on %s (websocket%s)", engine::format_address(ws_addr).c_str(), tls_on ? ", tls" : "");
    if (api_on) {
        engine::set_port(&api_addr, api_bound);
        LOG_INFO("listening on %s (api%s%s)", engine::format_address(api_addr).c_str(),
                 cfg.api_key.empty() ? ", no key" : ", key required", cfg.api_tls ? ", tls" : "");
    }
    LOG_INFO("demo page: %s://%s/", tls_on ? "https" : "http",
             engine::format_address(engine::reachable_locally(ws_addr)).c_str());
    LOG_INFO("limits: max-conns %zu (fd ceiling %zu), max-conns-per-ip %u, max-message %llu B, max-backlog %llu B, "
             "max-uid-len %zu, origins %s, timeouts: handshake %gs login %gs ping %gs idle %gs http-idle %gs "
             "shutdown %gs",
             cfg.max_conns, ceiling, cfg.max_conns_per_ip, (unsigned long long)cfg.max_message,
             (unsigned long long)cfg.max_backlog, cfg.max_uid_len,
             cfg.allowed_origins.empty() ? "any" : cfg.allowed_origins.c_str(), cfg.handshake_timeout,
             cfg.login_timeout, cfg.ping_interval, cfg.idle_timeout, cfg.http_idle_timeout, cfg.shutdown_timeout);
    server.handle_signals();
    int rc = server.run();
    LOG_INFO("%s", service.stats_line().c_str());
    LOG_INFO("bye");
    return rc;
}
