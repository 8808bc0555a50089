// wspush: start-up. Parse flags, size the connection ceiling from the fd limit, open the
// listeners, run the loop until SIGTERM/SIGINT has finished a graceful shutdown.
#include <signal.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <fstream>
#include <memory>
#include <sstream>

#include "auth/token_minter.h"
#include "auth/token_verifier.h"
#include "cluster/redis_url.h"
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

// The whole file, or false (a file that exists but cannot be read, a directory).
bool read_file(const std::string& path, std::string* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return false;
    *out = ss.str();
    return true;
}

// The verification key from --jwt-secret-file / --jwt-public-key, parsed once. Null after
// logging what is wrong (the caller exits 2).
std::unique_ptr<auth::JwtKey> load_jwt_key(const server::Config& cfg) {
    if (!cfg.jwt_secret_file.empty() && !cfg.jwt_public_key_file.empty()) {
        LOG_ERROR("give --jwt-secret-file (HS256) or --jwt-public-key (RS256/ES256), not both");
        return nullptr;
    }
    const std::string& path = cfg.jwt_secret_file.empty() ? cfg.jwt_public_key_file : cfg.jwt_secret_file;
    if (path.empty()) {
        LOG_ERROR("--auth jwt needs a key: --jwt-secret-file FILE (HS256) or --jwt-public-key FILE (RS256/ES256)");
        return nullptr;
    }
    std::string bytes, error;
    if (!read_file(path, &bytes)) {
        LOG_ERROR("cannot read %s", path.c_str());
        return nullptr;
    }
    std::unique_ptr<auth::JwtKey> key;
    if (!cfg.jwt_secret_file.empty()) {
        // Trailing newlines go, as with --api-key-file: `openssl rand -hex 32 > file` adds one.
        while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.pop_back();
        key = auth::JwtKey::hmac_secret(bytes, &error);
    } else {
        key = auth::JwtKey::public_key_pem(bytes, &error);
    }
    if (!key) LOG_ERROR("%s: %s", path.c_str(), error.c_str());
    return key;
}

// `wspush token --uid U --ttl S --jwt-secret-file F`: one HS256 token on stdout.
int print_token(const server::Config& cfg) {
    std::unique_ptr<auth::JwtKey> key = load_jwt_key(cfg);
    if (!key) return 2;
    if (cfg.token.uid.empty() || cfg.token.uid.size() > cfg.max_uid_len ||
        cfg.token.uid.find(':') != std::string::npos) {
        LOG_ERROR("--uid must be 1..%zu bytes without ':'", cfg.max_uid_len);
        return 2;
    }
    auth::MintClaims m;
    m.sub = cfg.token.uid;
    m.iat = time(nullptr);
    m.exp = m.iat + static_cast<int64_t>(std::ceil(cfg.token.ttl));
    m.send = cfg.token.send;
    m.audience = cfg.jwt_audience;
    m.issuer = cfg.jwt_issuer;
    std::string token = auth::mint_hs256(*key, m);
    if (token.empty()) return 1;
    printf("%s\n", token.c_str());
    return 0;
}

// <hostname>-<pid>-<4 random hex digits>: unique per start, readable in logs and /v1/stats.
std::string default_node_id() {
    char host[256] = "node";
    gethostname(host, sizeof host - 1);
    std::string id;
    for (const char* p = host; *p && id.size() < 40; ++p)
        id += (isalnum(static_cast<unsigned char>(*p)) || *p == '-' || *p == '.') ? *p : '_';
    char tail[32];
    snprintf(tail, sizeof tail, "-%d-%04x", static_cast<int>(getpid()), static_cast<unsigned>(std::random_device{}() & 0xffff));
    return id + tail;
}

}  // namespace

int main(int argc, char** argv) {
    server::Config cfg;
    if (int code = server::parse_command_line(argc, argv, cfg); code >= 0) return code;
    engine::LogLevel level;
    engine::parse_log_level(cfg.log_level, &level);
    engine::set_log_level(level);
    if (cfg.token.wanted) return print_token(cfg);
    signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<auth::TokenVerifier> verifier;
    if (cfg.auth == "jwt") {
        std::unique_ptr<auth::JwtKey> key = load_jwt_key(cfg);
        if (!key) return 2;
        auth::VerifyOptions vo;
        vo.audience = cfg.jwt_audience;
        vo.issuer = cfg.jwt_issuer;
        vo.max_sub_len = cfg.max_uid_len;
        vo.nbf_leeway_s = cfg.jwt_nbf_leeway;
        LOG_INFO("auth: jwt, %.*s%s%s%s%s", static_cast<int>(auth::jwt_alg_name(key->alg()).size()),
                 auth::jwt_alg_name(key->alg()).data(), cfg.jwt_audience.empty() ? "" : ", audience ",
                 cfg.jwt_audience.c_str(), cfg.jwt_issuer.empty() ? "" : ", issuer ", cfg.jwt_issuer.c_str());
        verifier = std::make_unique<auth::TokenVerifier>(std::move(key), vo);
    } else if (!cfg.jwt_secret_file.empty() || !cfg.jwt_public_key_file.empty() || !cfg.jwt_audience.empty() ||
               !cfg.jwt_issuer.empty()) {
        LOG_ERROR("--jwt-* options need --auth jwt (without it clients log in with any uid)");
        return 2;
    }

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
    if (cfg.auth == "none" && !engine::is_loopback(ws_addr))
        LOG_WARN("--auth none on %s: anyone who can reach this port can log in as any uid and read its messages; "
                 "use --auth jwt (README \"Security\")", cfg.host.c_str());
    // A login a client may honestly send that the login limit refuses: say so now, not by 1009s.
    const bool jwt = cfg.auth == "jwt";
    const uint64_t longest_login = jwt ? auth::kMaxTokenBytes : cfg.max_uid_len;
    const uint64_t login_limit = std::min(cfg.max_login_message, cfg.max_message);
    if (login_limit < longest_login)
        LOG_WARN("--max-login-message %llu is below the longest login (%s %llu): a longer login message is closed "
                 "1009 'login message too big'",
                 (unsigned long long)login_limit, jwt ? "a token of" : "--max-uid-len", (unsigned long long)longest_login);
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

    std::vector<cluster::RedisEndpoint> shards;
    if (!cfg.redis.empty()) {
        std::string err;
        if (!cluster::parse_redis_urls(cfg.redis, &shards, &err)) {
            LOG_ERROR("%s", err.c_str());
            return 2;
        }
        for (auto& ep : shards) {
            if (!cluster::resolve_endpoint(ep, &err)) {  // once, here: hiredis 0.14 would block on it
                LOG_ERROR("--redis: %s", err.c_str());
                return 2;
            }
        }
        if (cfg.node_id.empty()) cfg.node_id = default_node_id();
    }

    engine::ServerConfig sc;
    sc.max_conns = cfg.max_conns;
    sc.max_message = cfg.max_message;
    sc.max_login_message = cfg.max_login_message;
    sc.max_inbound_buffered = cfg.max_inbound_buffered;
    sc.max_backlog = cfg.max_backlog;
    sc.max_conns_per_ip = cfg.max_conns_per_ip;
    sc.http_idle_timeout_ms = ms(cfg.http_idle_timeout);
    if (std::string why; !sc.allowed_origins.parse(cfg.allowed_origins, &why)) {
        LOG_ERROR("--allowed-origins: %s", why.c_str());
        return 2;
    }
    sc.handshake_timeout_ms = ms(cfg.handshake_timeout);
    sc.tls_own_records = cfg.tls_records == "wspush";
    sc.login_timeout_ms = ms(cfg.login_timeout);
    sc.ping_interval_ms = ms(cfg.ping_interval);
    sc.idle_timeout_ms = ms(cfg.idle_timeout);
    sc.shutdown_timeout_ms = ms(cfg.shutdown_timeout);

    // Before any listener: a bad certificate must stop the start, never leave a plaintext port.
    engine::TlsContext tls(uint64_t(cfg.tls_ticket_rotate) * 1000);
    const bool tls_on = !cfg.tls_cert.empty();
    if (tls_on) {
        std::string why;
        if (!tls.load(cfg.tls_cert, cfg.tls_key, &why)) {
            LOG_ERROR("refusing to start: %s", why.c_str());
            return 2;
        }
        LOG_INFO("TLS certificate: %s; session-ticket keys rotate every %u s", tls.describe().c_str(),
                 cfg.tls_ticket_rotate);
    }

    server::PushService service(cfg);
    engine::Server server(sc, service);
    service.attach(server);
    if (verifier) service.set_token_verifier(std::move(verifier));

    // Both ports are bound before either is announced: a second instance on the same ports
    // fails with one error naming the flag to change, not after a "listening" line.
    // The addresses resolved above, so a name that resolves differently a second time cannot
    // bind elsewhere than the log says.
    engine::ListenerSpec ws;
    ws.host = engine::numeric_host(ws_addr);
    ws.port = cfg.port;
    ws.reuse_port = cfg.reuse_port;
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
        api.reuse_port = cfg.reuse_port;  // nodes on one host share the API port too: any answers for all
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
    LOG_INFO("limits: max-conns %zu (fd ceiling %zu), max-conns-per-ip %u, max-message %llu B (before login %llu B, "
             "all partial %llu B), max-backlog %llu B, "
             "max-uid-len %zu, origins %s, timeouts: handshake %gs login %gs ping %gs idle %gs http-idle %gs "
             "shutdown %gs",
             cfg.max_conns, ceiling, cfg.max_conns_per_ip, (unsigned long long)cfg.max_message,
             (unsigned long long)cfg.max_login_message, (unsigned long long)cfg.max_inbound_buffered,
             (unsigned long long)cfg.max_backlog, cfg.max_uid_len,
             cfg.allowed_origins.empty() ? "any" : cfg.allowed_origins.c_str(), cfg.handshake_timeout,
             cfg.login_timeout, cfg.ping_interval, cfg.idle_timeout, cfg.http_idle_timeout, cfg.shutdown_timeout);
    if (!shards.empty()) {
        std::string list;
        for (const auto& ep : shards) list += (list.empty() ? "" : ", ") + ep.display;
        service.enable_cluster(std::move(shards), cfg.node_id);
        LOG_INFO("cluster: node %s over %s (connecting; while Redis is unreachable this node serves its own "
                 "clients and answers cross-node sends 'cluster unavailable')", cfg.node_id.c_str(), list.c_str());
    }
    server.handle_signals();
    int rc = server.run();
    service.leave_cluster();
    LOG_INFO("%s", service.stats_line().c_str());
    LOG_INFO("bye");
    return rc;
}
