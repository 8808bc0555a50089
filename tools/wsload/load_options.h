// Everything a wsload run is told, with the default and the reason for it in one place.
// The CLI (cli_parser.cpp) only fills this struct; nothing else reads argv.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wsload {

enum class Scenario { Connect, Broadcast, P2p };

struct LoadOptions {
    Scenario scenario = Scenario::Connect;
    std::string host = "127.0.0.1";
    std::vector<uint16_t> ports{1234};     // connection i goes to ports[i % size]
    uint32_t connections = 1000;
    uint32_t procs = 1;                    // worker processes; each holds connections i % procs
    uint32_t src_ips = 0;                  // 0: kernel picks the source; K: 127.0.0.2 .. 127.0.0.(K+1)
    // Handshakes in flight at once (all workers together). Far beyond the listen backlog the
    // kernel drops SYNs and the client retries after 1 s: we would measure TCP, not the server.
    uint32_t connect_concurrency = 512;
    double timeout_s = 120;                // the whole run, connect included; then it fails
    pid_t server_pid = 0;                  // 0: no RSS / CPU figures
    uint32_t payload_bytes = 64;           // message as the server delivers it (text after "uid:")
    bool binary = false;                   // send binary frames instead of text
    uint64_t messages = 0;                 // broadcasts or p2p messages; 0: run for duration_s
    double duration_s = 5;
    uint32_t inflight = 1;                 // broadcast: broadcasts sent but not yet at every receiver
    uint32_t senders = 0;                  // p2p: connections 0..S-1 send; 0: connections / 10
    double rate = 0;                       // p2p: messages/s over all senders; 0: window-bound
    uint32_t window = 32;                  // p2p unbounded: messages in flight per sender
    double drain_s = 10;                   // after sending stops: wait this long for stragglers
    double settle_s = 0.5;                 // connect: idle time before sampling server RSS
    bool progress = true;                  // one stderr line per second during long runs
    bool tls = false;                      // wss://: TLS to the server (full handshake per connection)
    std::string tls_ca;                    // --tls: trust this CA file (else the system's roots)
    bool tls_insecure = false;             // --tls: verify nothing (a throwaway certificate)
    bool tls_resume = false;               // --tls: resume one ticket per worker (cheap reconnects)
    // A server with --auth jwt: log in with a token (sub u<index>) instead of the uid, minted
    // before the run with an HS256 secret or an RS256/ES256 private key; in the first
    // message, or with token_in_url in the handshake URL (?token=).
    std::string token_secret_file;
    std::string token_key_file;
    bool token_in_url = false;
    std::vector<std::string> tokens;       // filled by mint_login_tokens(), index = connection

    // Broadcast completion is tracked per sequence number in shared memory (24 B each, touched
    // lazily); a duration-bound run stops sending when it reaches this many.
    uint64_t max_broadcasts = 1u << 20;
    // Per-sequence accounting rings (per process) must be larger than inflight.
    static constexpr uint32_t kMaxInflight = 1024;
};

const char* scenario_name(Scenario s);

}  // namespace wsload
