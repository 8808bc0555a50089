// Fills LoadOptions from argv with CLI11. Returns -1 to run, or an exit code (help, errors).
#include <CLI/CLI.hpp>
#include <map>

#include "tools/wsload/load_options.h"

namespace wsload {

int parse_command_line(int argc, char** argv, LoadOptions& o) {
    CLI::App app{
        "wsload: WebSocket load generator for the wspush seed protocol (login with a uid, "
        "'<uid>:<msg>', 'all:<msg>'). Prints one JSON object on stdout and a table on stderr; "
        "exit 0 when every message arrived exactly once and in order, 1 otherwise."};
    app.get_formatter()->column_width(34);
    std::map<std::string, Scenario> names{{"connect", Scenario::Connect},
                                          {"broadcast", Scenario::Broadcast},
                                          {"p2p", Scenario::P2p}};
    std::string ports = "1234";
    app.add_option("scenario", o.scenario,
                   "connect: open, handshake, log in, report logins/s and server RSS per "
                   "connection; broadcast: connection 0 sends all:<seq>, every connection must "
                   "get each; p2p: senders message random uids")
        ->required()
        ->transform(CLI::CheckedTransformer(names, CLI::ignore_case).description("connect|broadcast|p2p"));
    app.add_option("--host", o.host, "server IPv4 address")->capture_default_str();
    app.add_option("--port", ports, "server port, or a comma list: connections go round-robin")
        ->capture_default_str();
    app.add_option("-n,--connections", o.connections, "connections (all log in, uid u<index>)")
        ->capture_default_str()->check(CLI::Range(1u, 10000000u));
    app.add_option("--procs", o.procs, "worker processes (each holds every procs-th connection)")
        ->capture_default_str()->check(CLI::Range(1u, 64u));
    app.add_option("--src-ips", o.src_ips,
                   "spread connections over source addresses 127.0.0.2 .. 127.0.0.(K+1); 0 = "
                   "kernel's choice")
        ->capture_default_str()->check(CLI::Range(0u, 250u));
    app.add_option("--connect-concurrency", o.connect_concurrency,
                   "handshakes in flight at once, over all workers")
        ->capture_default_str()->check(CLI::Range(1u, 100000u));
    app.add_option("--timeout", o.timeout_s, "seconds for the whole run; then it fails")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--server-pid", o.server_pid,
                   "server pid: report its (and its descendants') RSS per connection and CPU "
                   "per delivery from /proc, and notice if it dies");
    app.add_option("--payload", o.payload_bytes, "bytes of each delivered message")
        ->capture_default_str()->check(CLI::Range(16u, 4000u));
    app.add_flag("--binary", o.binary, "send binary frames instead of text");
    app.add_option("--messages", o.messages,
                   "broadcasts (broadcast) or messages (p2p) to send; 0 = run for --duration")
        ->capture_default_str();
    app.add_option("--duration", o.duration_s, "seconds of sending when --messages is 0")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--inflight", o.inflight,
                   "broadcast: broadcasts sent but not yet at every connection")
        ->capture_default_str()->check(CLI::Range(1u, LoadOptions::kMaxInflight));
    app.add_option("--senders", o.senders, "p2p: connections 0..S-1 send; 0 = connections/10")
        ->capture_default_str();
    app.add_option("--rate", o.rate,
                   "p2p: messages/s over all senders, stamped with their due time; 0 = as fast "
                   "as --window allows")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--window", o.window, "p2p without --rate: undelivered messages per sender")
        ->capture_default_str()->check(CLI::Range(1u, 100000u));
    app.add_option("--drain", o.drain_s, "seconds to wait for stragglers after sending stops")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--settle", o.settle_s, "idle seconds after the last login before sampling RSS")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--max-broadcasts", o.max_broadcasts,
                   "broadcast with --duration: stop after this many (24 B of shared memory each)")
        ->capture_default_str()->check(CLI::Range(uint64_t(1), uint64_t(1) << 26));
    app.add_flag("--tls", o.tls, "connect with TLS (wss://); the server's certificate is verified");
    app.add_option("--tls-ca", o.tls_ca, "--tls: PEM file of the CA(s) to trust instead of the system's")
        ->check(CLI::ExistingFile);
    app.add_flag("--tls-insecure", o.tls_insecure, "--tls: do not verify the server's certificate");
    app.add_flag("--tls-resume", o.tls_resume,
                 "--tls: connections opened after the first login resume its session (ticket)");
    app.add_option("--token-secret-file", o.token_secret_file,
                   "log in with HS256 tokens (sub u<index>) signed with this secret (server --auth jwt)")
        ->check(CLI::ExistingFile);
    app.add_option("--token-key-file", o.token_key_file,
                   "log in with RS256/ES256 tokens signed with this PEM private key")
        ->check(CLI::ExistingFile)->excludes("--token-secret-file");
    app.add_flag("--token-in-url", o.token_in_url, "send the token as ?token= in the handshake, not as a message");
    bool quiet = false;
    app.add_flag("-q,--quiet", quiet, "no progress line");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    o.progress = !quiet;
    if ((!o.tls_ca.empty() || o.tls_insecure || o.tls_resume) && !o.tls) {
        fprintf(stderr, "wsload: --tls-ca, --tls-insecure and --tls-resume need --tls\n");
        return 2;
    }
    o.ports.clear();
    try {
        for (const std::string& p : CLI::detail::split(ports, ',')) {
            unsigned long v = std::stoul(p);
            if (v == 0 || v > 65535) throw std::out_of_range("port");
            o.ports.push_back(static_cast<uint16_t>(v));
        }
    } catch (const std::exception&) {
        fprintf(stderr, "wsload: --port wants numbers 1-65535, comma-separated\n");
        return 2;
    }
    if (o.scenario == Scenario::P2p) {
        if (o.connections < 2) {
            fprintf(stderr, "wsload: p2p needs at least 2 connections\n");
            return 2;
        }
        if (o.senders == 0) o.senders = std::max(1u, o.connections / 10);
        if (o.senders > o.connections) o.senders = o.connections;
    } else {
        o.senders = o.scenario == Scenario::Broadcast ? 1 : 0;
    }
    if (o.procs > o.connections) o.procs = o.connections;
    if (o.messages && o.scenario == Scenario::Broadcast && o.messages > o.max_broadcasts)
        o.max_broadcasts = o.messages;
    return -1;
}

}  // namespace wsload
