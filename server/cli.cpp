#include <CLI/CLI.hpp>

#include "server/config.h"

namespace wspush::server {

int parse_command_line(int argc, char** argv, Config& cfg) {
    CLI::App app{
        "wspush: a WebSocket push server. Clients log in with their first text message (the uid),\n"
        "then send '<uid>:<message>' to reach every connection of that uid, or 'all:<message>'\n"
        "to reach everyone. Backends push over the HTTP API (--api-listen)."};
    app.get_formatter()->column_width(34);
    app.add_option("--host", cfg.host, "WebSocket listen address")->capture_default_str();
    app.add_option("--port", cfg.port, "WebSocket port (0: an ephemeral port, logged at start)")->capture_default_str();
    app.add_option("--max-conns", cfg.max_conns,
                   "open WebSocket connections (beyond: HTTP 503); 0 = what the fd limit allows")
        ->capture_default_str();
    app.add_option("--max-message", cfg.max_message, "largest client message in bytes (beyond: close 1009)")
        ->capture_default_str()->check(CLI::Range(uint64_t(1), uint64_t(1) << 31));
    app.add_option("--max-backlog", cfg.max_backlog,
                   "bytes queued to one client before it is closed as a slow consumer (1008)")
        ->capture_default_str()->check(CLI::Range(uint64_t(1024), uint64_t(1) << 40));
    app.add_option("--max-uid-len", cfg.max_uid_len, "longest uid in bytes")->capture_default_str()
        ->check(CLI::Range(1, 65535));
    auto secs = CLI::Range(0.001, 86400.0 * 365);
    app.add_option("--handshake-timeout", cfg.handshake_timeout, "seconds to complete the HTTP upgrade")
        ->capture_default_str()->check(secs);
    app.add_option("--login-timeout", cfg.login_timeout, "seconds from upgrade to the login message (then 1008)")
        ->capture_default_str()->check(secs);
    app.add_option("--ping-interval", cfg.ping_interval, "seconds of client silence before the server pings")
        ->capture_default_str()->check(secs);
    app.add_option("--idle-timeout", cfg.idle_timeout,
                   "seconds of client silence (pings unanswered) before close 1001")
        ->capture_default_str()->check(secs);
    app.add_option("--shutdown-timeout", cfg.shutdown_timeout,
                   "seconds to flush close frames after SIGTERM/SIGINT before exiting")
        ->capture_default_str()->check(secs);
    app.add_option("--log-level", cfg.log_level, "debug, info, warn or error")->capture_default_str()
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    app.add_option("--stats-interval", cfg.stats_interval, "seconds between stats lines on stderr (0: off)")
        ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
    app.add_option("--api-listen", cfg.api_listen, "HTTP push API address host:port, or 'off'")
        ->capture_default_str();
    app.add_option("--api-key", cfg.api_key, "API key, checked as 'Authorization: Bearer <key>'");
    app.add_option("--api-key-file", cfg.api_key_file, "read the API key from this file")
        ->check(CLI::ExistingFile);
    app.add_option("--api-max-body", cfg.api_max_body, "largest API request body in bytes (beyond: 413)")
        ->capture_default_str()->check(CLI::Range(uint64_t(1), uint64_t(1) << 31));
    app.add_option("--tls-cert", cfg.tls_cert,
                   "PEM certificate (chain: leaf first) to serve wss:// and https:// on --port; SIGHUP reloads it");
    app.add_option("--tls-key", cfg.tls_key, "PEM private key of --tls-cert; SIGHUP reloads it");
    app.add_flag("--api-tls", cfg.api_tls, "serve the push API over TLS too, with the same certificate");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    if (cfg.idle_timeout <= cfg.ping_interval) {
        fprintf(stderr, "--idle-timeout (%g s) must be longer than --ping-interval (%g s)\n", cfg.idle_timeout,
                cfg.ping_interval);
        return 2;
    }
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
        fprintf(stderr, "--tls-cert and --tls-key go together\n");
        return 2;
    }
    if (cfg.api_tls && cfg.tls_cert.empty()) {
        fprintf(stderr, "--api-tls needs --tls-cert and --tls-key\n");
        return 2;
    }
    return -1;
}

}  // namespace wspush::server
