// The parent process: maps the shared state, forks --procs workers, steps them through the
// phases (connect, run, drain, stop), samples the server from /proc at each boundary, prints
// one progress line a second, collects each worker's report from its pipe and merges them.
// A run never hangs: --timeout, a dead server, a dead worker or SIGINT/SIGTERM stops it, and
// workers are killed if they do not report within a few seconds of Stop.
//
// Returns the process exit code (see print_run_summary).
#pragma once
#include "tools/wsload/load_options.h"

namespace wsload {

int run_load(const LoadOptions& opts);

}  // namespace wsload
