// Resident memory and CPU time of a process and all its descendants, read from /proc.
// sample() returns found=false when the root pid no longer exists (the server died).
// Cost: one scan of /proc (a few ms with a few hundred processes); call it at phase
// boundaries, never per message.
#pragma once
#include <sys/types.h>

#include <cstdint>

namespace wsload {

struct ProcessTreeUsage {
    bool found = false;
    uint32_t processes = 0;
    uint64_t rss_bytes = 0;     // sum of resident set sizes (shared pages counted per process)
    uint64_t anon_bytes = 0;    // sum of RssAnon: private memory, without code and library
                                // pages that a first connection faults in (per-conn cost)
    double cpu_seconds = 0;     // utime + stime, summed
};

ProcessTreeUsage sample_process_tree(pid_t root);
bool process_alive(pid_t pid);

}  // namespace wsload
