// libFuzzer target for the command line's own parsers: engine/listen_socket's split_host_port
// and parse_port (--api-listen HOST:PORT) and server/flag_suggestion's closest_flag (a mistyped
// flag). Operator input, but a parser all the same. Name resolution is never called (no DNS).
// Invariants (abort on violation):
//   split    accepted: the host is non-empty, has no brackets left, and host and port written
//            back ("[v6]:port" when the host has a ':') split to the same host and port;
//            refused: the error says why (non-empty);
//   port     parse_port accepts exactly 1-5 ASCII digits of value <= 65535, and gives that value;
//   suggest  closest_flag returns "" or one of the names it was given, never the input itself
//            unless that input is a known name.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/listen_socket.h"
#include "server/flag_suggestion.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

using namespace wspush;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s(reinterpret_cast<const char*>(data), size);

    std::string host, error;
    uint16_t port = 0;
    if (engine::split_host_port(s, &host, &port, &error)) {
        CHECK(!host.empty());
        CHECK(host.find('[') == std::string::npos || host.find(':') == std::string::npos);
        std::string again = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
        std::string host2, error2;
        uint16_t port2 = 0;
        CHECK(engine::split_host_port(again, &host2, &port2, &error2));
        CHECK(host2 == host && port2 == port);
    } else {
        CHECK(!error.empty());
    }

    uint16_t p = 0;
    bool digits = !s.empty() && s.size() <= 5;
    unsigned long value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') digits = false;
        else if (digits) value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    bool want = digits && value <= 65535;
    CHECK(engine::parse_port(s, &p) == want);
    if (want) CHECK(p == value);

    static const std::vector<std::string> kKnown = {"host", "port", "max-conns", "max-message", "api-listen",
                                                    "api-key", "api-key-file", "log-level", "h", "help", "version"};
    if (size <= 256) {  // O(len x name) per name: the command line is short
        std::string guess = server::closest_flag(s, kKnown);
        bool known = false;
        for (const auto& k : kKnown) known |= (k == guess);
        CHECK(guess.empty() || known);
    }
    return 0;
}
