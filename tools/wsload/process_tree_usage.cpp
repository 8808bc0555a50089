#include "tools/wsload/process_tree_usage.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wsload {
namespace {

struct ProcStat {
    pid_t pid = 0, ppid = 0;
    uint64_t ticks = 0;       // utime + stime
    uint64_t rss_pages = 0;
};

// /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and ')' so parse from
// the last ')'. After it: field 3 state, 4 ppid, 14 utime, 15 stime, 24 rss (pages).
bool read_stat(pid_t pid, ProcStat& out) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = fopen(path, "re");
    if (!f) return false;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char* p = strrchr(buf, ')');
    if (!p) return false;
    p += 2;  // skip ") "
    uint64_t field[32] = {};
    int idx = 3;
    while (*p && idx < 32) {
        if (idx == 3) {  // state is a letter
            while (*p && *p != ' ') p++;
        } else {
            field[idx] = strtoull(p, &p, 10);
        }
        while (*p == ' ') p++;
        idx++;
    }
    out.pid = pid;
    out.ppid = static_cast<pid_t>(field[4]);
    out.ticks = field[14] + field[15];
    out.rss_pages = field[24];
    return true;
}

// RssAnon from /proc/<pid>/status, in bytes (0 when unreadable).
uint64_t read_rss_anon(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE* f = fopen(path, "re");
    if (!f) return 0;
    char line[256];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "RssAnon:", 8) == 0) kib = strtoull(line + 8, nullptr, 10);
    fclose(f);
    return kib * 1024;
}

}  // namespace

bool process_alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

ProcessTreeUsage sample_process_tree(pid_t root) {
    ProcessTreeUsage u;
    if (root <= 0) return u;
    std::vector<ProcStat> all;
    DIR* d = opendir("/proc");
    if (!d) return u;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        ProcStat s;
        if (read_stat(static_cast<pid_t>(atoi(e->d_name)), s)) all.push_back(s);
    }
    closedir(d);
    // Descendants by repeated sweeps: O(depth * processes), depth is 1 or 2 for servers.
    std::vector<pid_t> tree{root};
    bool grew = true;
    while (grew) {
        grew = false;
        for (const ProcStat& s : all) {
            bool parent_in = false, self_in = false;
            for (pid_t t : tree) {
                parent_in |= (t == s.ppid);
                self_in |= (t == s.pid);
            }
            if (parent_in && !self_in) {
                tree.push_back(s.pid);
                grew = true;
            }
        }
    }
    static const long tick = sysconf(_SC_CLK_TCK);
    static const long page = sysconf(_SC_PAGESIZE);
    for (const ProcStat& s : all) {
        for (pid_t t : tree) {
            if (t != s.pid) continue;
            if (s.pid == root) u.found = true;
            u.processes++;
            u.rss_bytes += s.rss_pages * static_cast<uint64_t>(page);
            u.anon_bytes += read_rss_anon(s.pid);
            u.cpu_seconds += double(s.ticks) / double(tick);
        }
    }
    return u;
}

}  // namespace wsload
