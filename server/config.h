// Every knob of wspush, with its default and the reason for it. The command line (cli.cpp)
// only fills this struct; nothing else in the program holds a default.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace wspush::server {

struct Config {
    std::string host = "0.0.0.0";   // every interface, as the seed's websocket://0.0.0.0:1234
    uint16_t port = 1234;            // the seed's port, so its clients connect unchanged
    size_t max_conns = 0;            // 0: as many as the fd limit allows (computed at start)
    uint64_t max_message = 1 << 20;  // 1 MiB: a push message, not a file transfer
    uint64_t max_backlog = 4 << 20;  // 4 MiB queued per client: bounds memory per slow reader
    size_t max_uid_len = 256;        // room for a UUID, an email or a JWT subject
    double handshake_timeout = 10;   // s: slowloris protection; real clients need < 1 s
    double login_timeout = 30;       // s: an unauthenticated socket is a cost, not a user
    double ping_interval = 25;       // s: under the 30-60 s idle cut of common NATs and proxies
    double idle_timeout = 60;        // s: two missed pings and some slack: the client is gone
    double shutdown_timeout = 5;     // s: long enough to flush close frames, short for deploys
    std::string log_level = "info";
    double stats_interval = 0;       // s: 0 = off; operators turn it on
    std::string api_listen = "127.0.0.1:1235";  // loopback: backends push, the world can't
    std::string api_key;             // Bearer key; required for a non-loopback api_listen
    std::string api_key_file;        // the key from a file (keeps it out of `ps`)
    uint64_t api_max_body = 1 << 20; // 1 MiB per API request (413 beyond)
    std::string tls_cert;            // PEM certificate (chain); with tls_key the WebSocket port is TLS
    std::string tls_key;             // PEM private key; both empty: plaintext (e.g. behind a proxy)
    bool api_tls = false;            // off: the API is on loopback by default, where TLS buys nothing
};

// Parses argv into cfg. Returns -1 to go on, or an exit code (0 after --help, 2 on error)
// having printed what was wrong.
int parse_command_line(int argc, char** argv, Config& cfg);

}  // namespace wspush::server
