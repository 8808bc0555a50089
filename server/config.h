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
    // Connections on the WebSocket port, plain HTTP ones (page, /healthz) included: each holds
    // an fd. 0: as many as the fd limit allows (computed at start). At the limit the oldest
    // idle keep-alive HTTP connection is closed to make room; with none, 503 and close.
    size_t max_conns = 0;
    // Per client address (IPv6: per /64), on the WebSocket port; 0 = no limit. One host must
    // not take every slot; 4096 is far above what a NAT shares among real users of one app
    // (carrier NAT gives a subscriber a block of ports, an office has thousands of people)
    // and far below max-conns on a real server. Behind a reverse proxy every client has the
    // proxy's address: set 0 there and limit at the proxy. Beyond it: 429 and close.
    uint32_t max_conns_per_ip = 4096;
    // Browser origins allowed to open a WebSocket (comma list: exact origins and
    // https://*.example.com wildcards); others get 403. Empty: every origin, as the seed.
    std::string allowed_origins;
    // s: a keep-alive HTTP connection with no request is closed: long enough for a backend's
    // connection pool to reuse it between pushes, short enough that idle sockets do not pile up.
    double http_idle_timeout = 15;
    // Request body on the WebSocket port, chunked trailers included (413 beyond). It serves GET
    // pages only: a small body is still read so that a client gets the real answer (404, 405),
    // and one request can make us hold at most ~24 KiB (head + 2 x body + trailers).
    uint64_t http_max_body = 4096;
    // Connections to the push API port (503 beyond): backends use pools of tens; the fds for
    // them are kept out of max-conns' automatic share of the fd limit.
    size_t api_max_conns = 256;
    uint64_t max_message = 1 << 20;  // 1 MiB: a push message, not a file transfer
    // 16 KiB per message until the client has logged in (1009 beyond): a login is a uid (at most
    // max_uid_len) or a token (at most 4 KiB); max_message is for clients that have logged in.
    uint64_t max_login_message = 16 << 10;
    // 256 MiB of partial client messages held at once, all clients together (1013 "try again
    // later" to the client whose read passes it): max_message bounds one client, this their
    // sum, which would otherwise be 19 GiB for 19k clients each trickling in 1 MiB. Clients not
    // logged in may fill only half of it (1013 to them beyond), so they cannot starve the others.
    uint64_t max_inbound_buffered = 256 << 20;
    // 4 MiB a client may owe beyond what its socket buffer took (1008 beyond): bounds the
    // memory one slow reader pins, while a burst to a reader that keeps up is written first.
    uint64_t max_backlog = 4 << 20;
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
    uint64_t api_max_body = 1 << 20; // 1 MiB per API request body, trailers included (413 beyond)
    std::string tls_cert;            // PEM certificate (chain); with tls_key the WebSocket port is TLS
    std::string tls_key;             // PEM private key; both empty: plaintext (e.g. behind a proxy)
    bool api_tls = false;            // off: the API is on loopback by default, where TLS buys nothing
    // TLS 1.3 records after the handshake: "wspush" seals them itself over OpenSSL's AEAD and
    // frees the SSL object (~300 B instead of ~15 KB per idle connection, one send per 4 records);
    // "openssl" keeps OpenSSL's record layer (a fallback; TLS 1.2 always uses it).
    std::string tls_records = "wspush";
    // s: session-ticket keys seal for this long and open for at most as long again (a key read
    // from memory opens at most 2x this of tickets); also the ticket lifetime clients are told.
    // An hour, as Cloudflare: a reconnecting client within the hour skips the key exchange's
    // signature, and leaked keys expose two hours of tickets (TLS 1.2: sessions up to three
    // hours old), not all since start.
    uint32_t tls_ticket_rotate = 3600;

    // Client authentication and permissions (README "Security").
    std::string auth = "none";       // none: the seed protocol (first message = uid); jwt: a signed token
    std::string jwt_secret_file;     // HS256 shared secret (>= 32 bytes; trailing newline stripped)
    std::string jwt_public_key_file; // RS256/ES256: PEM public key; the key type pins the algorithm
    std::string jwt_audience;        // "aud" a token must carry (empty: tokens must carry none)
    std::string jwt_issuer;          // "iss" a token must carry (empty: not checked)
    int64_t jwt_nbf_leeway = 5;      // s: a backend clock a little ahead must not refuse a fresh token
    std::string client_send = "all"; // all (the seed), uid (no "all:"), none (receive-only)
    bool mark_sender = false;        // off: the seed delivers bare messages; on: "<sender uid>:<message>"
    double client_rate = 0;          // messages/s per connection, then close 1008; 0 = no limit (the seed)
    uint32_t client_burst = 100;     // messages a client may send at once above client_rate

    // `wspush token ...`: print an HS256 token and exit (tests, operations).
    struct TokenCommand {
        bool wanted = false;
        std::string uid;
        double ttl = 3600;           // s: an hour, a typical session-token lifetime
        std::string send;            // optional "send" claim
    } token;

    // Cluster (docs/cluster.md). Off unless --redis is given: one process, as before.
    std::string redis;               // redis://... or unix://..., comma list = shards
    std::string node_id;             // empty: <hostname>-<pid>-<random>, unique per start
    std::string redis_prefix = "wspush:";  // channel names: several clusters can share a Redis
    bool reuse_port = false;         // SO_REUSEPORT: N nodes on one host share the port (one per core)
    double cluster_heartbeat = 1;    // s: a node's heartbeat and liveness probe period
    double cluster_node_timeout = 5; // s: 5 missed heartbeats: its uids go offline (the spec: < 15 s)
    uint64_t redis_max_pending = 16 << 20;  // B: output toward a slow Redis before we refuse (503)
};

// Parses argv into cfg. Returns -1 to go on, or an exit code (0 after --help, 2 on error)
// having printed what was wrong.
int parse_command_line(int argc, char** argv, Config& cfg);

}  // namespace wspush::server
