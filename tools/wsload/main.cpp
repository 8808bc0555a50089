// wsload: a WebSocket load generator for wspush and its peers. See `wsload --help`.
//
// Method: one epoll loop per worker process, connections spread over --procs workers (each
// under the 20000 open-file limit) and over --src-ips source addresses and --port ports.
// Every message carries a sequence number and a CLOCK_MONOTONIC send time; receivers verify
// each (sender, receiver) stream arrives complete, once and in order, and time each delivery
// into a log-linear histogram. Exit code: 0 clean, 1 anything lost/failed/timed out, 2 usage.
#include <CLI/CLI.hpp>

#include "tools/wsload/load_options.h"
#include "tools/wsload/login_tokens.h"
#include "tools/wsload/run_coordinator.h"

namespace wsload {
int parse_command_line(int argc, char** argv, LoadOptions& opts);  // cli_parser.cpp
}

int main(int argc, char** argv) {
    wsload::LoadOptions opts;
    if (int rc = wsload::parse_command_line(argc, argv, opts); rc >= 0) return rc;
    std::string error;
    if (!wsload::mint_login_tokens(opts, &error)) {
        fprintf(stderr, "wsload: %s\n", error.c_str());
        return 2;
    }
    return wsload::run_load(opts);
}
