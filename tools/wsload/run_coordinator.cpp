#include "tools/wsload/run_coordinator.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "tools/wsload/run_result.h"
#include "tools/wsload/shared_run_state.h"
#include "tools/wsload/worker_loop.h"

namespace wsload {
namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

struct Worker {
    pid_t pid = -1;
    int report_fd = -1;
    bool exited = false;
};

[[noreturn]] void worker_main(const LoadOptions& o, SharedRunState& s, uint32_t index,
                              int report_fd, pid_t parent) {
    signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the whole group: the parent decides
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(3);
    auto report = std::make_unique<WorkerReport>();
    WorkerLoop loop(o, s, index);
    loop.run(*report);
    // Report first, then let _exit close the sockets: closing ~10k connections (and the server
    // answering each) takes seconds on a loaded machine, and the coordinator is waiting.
    const char* p = reinterpret_cast<const char*>(report.get());
    size_t left = sizeof(WorkerReport);
    while (left) {
        ssize_t n = write(report_fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(4);
        p += n;
        left -= static_cast<size_t>(n);
    }
    _exit(0);
}

class Coordinator {
public:
    Coordinator(const LoadOptions& o, SharedRunState& s) : o_(o), s_(s) {}

    int run() {
        r_.server_idle_before = sample_process_tree(o_.server_pid);
        start_ns_ = monotonic_ns();
        deadline_ns_ = start_ns_ + uint64_t(o_.timeout_s * 1e9);
        if (!fork_workers()) return 2;
        connect_phase();
        if (o_.scenario != Scenario::Connect && r_.abort_reason.empty()) traffic_phase();
        stop_and_collect();
        return print_run_summary(o_, r_);
    }

private:
    bool fork_workers() {
        pid_t self = getpid();
        for (uint32_t i = 0; i < o_.procs; i++) {
            int fds[2];
            if (pipe2(fds, O_CLOEXEC) != 0) return perror("wsload: pipe"), false;
            pid_t pid = fork();
            if (pid < 0) return perror("wsload: fork"), false;
            if (pid == 0) {
                close(fds[0]);
                for (Worker& w : workers_) close(w.report_fd);
                worker_main(o_, s_, i, fds[1], self);
            }
            close(fds[1]);
            workers_.push_back({pid, fds[0], false});
        }
        return true;
    }

    void connect_phase() {
        wait_until([&] { return s_.logged_in.load() + s_.failed.load() >= o_.connections; },
                   deadline_ns_, false);
        r_.connect_seconds = double(monotonic_ns() - start_ns_) / 1e9;
        if (!r_.abort_reason.empty()) return;
        sleep_ns(uint64_t(o_.settle_s * 1e9));  // let the server go idle before sampling
        r_.server_idle_after = sample_process_tree(o_.server_pid);
        if (s_.failed.load() > 0 && o_.scenario != Scenario::Connect)
            r_.abort_reason = "some connections failed to log in";
    }

    void traffic_phase() {
        r_.ran_traffic = true;
        s_.phase.store(Phase::Connected);
        r_.server_run_start = sample_process_tree(o_.server_pid);
        uint64_t run_start = monotonic_ns();
        s_.run_start_ns.store(run_start);
        s_.phase.store(Phase::Run, std::memory_order_release);
        wait_until([&] { return s_.workers_done_sending.load() >= o_.procs; }, deadline_ns_,
                   true);
        s_.phase.store(Phase::Drain);
        uint64_t drain_end = std::min(deadline_ns_, monotonic_ns() + uint64_t(o_.drain_s * 1e9));
        if (r_.abort_reason.empty())
            wait_until([&] { return s_.delivered.load() >= expected(); }, drain_end, true);
        uint64_t end = monotonic_ns();
        r_.server_run_end = sample_process_tree(o_.server_pid);
        r_.sent = s_.sent.load();
        r_.expected_deliveries = expected();
        r_.delivered = s_.delivered.load();
        r_.broadcasts_completed = s_.broadcasts_completed.load();
        if (o_.scenario == Scenario::Broadcast) {
            uint64_t last = run_start;
            for (uint64_t i = 0; i < r_.sent && i < s_.max_broadcasts; i++) {
                BroadcastSlot& slot = s_.slots[i];
                if (slot.delivered.load() < o_.connections) continue;
                uint64_t done = slot.done_ns.load(), sent = slot.send_ns.load();
                r_.broadcast_completion.record(done > sent ? done - sent : 0);
                last = std::max(last, done);
            }
            if (r_.lost() == 0) end = last;  // exact, not the polling moment
        }
        r_.run_seconds = double(end - run_start) / 1e9;
        if (r_.abort_reason.empty() && r_.delivered < r_.expected_deliveries)
            r_.abort_reason = "deliveries still missing after the drain time";
    }

    uint64_t expected() const {
        uint64_t sent = s_.sent.load();
        return o_.scenario == Scenario::Broadcast ? sent * o_.connections : sent;
    }

    // Polls `done` every 2 ms; stops early (setting abort_reason) on timeout, interrupt, a
    // dead server, a dead worker or, when `traffic` is set, a connection the server dropped.
    void wait_until(const std::function<bool()>& done, uint64_t until_ns, bool traffic) {
        for (;;) {
            if (done()) return;
            uint64_t now = monotonic_ns();
            progress(now);
            if (g_interrupted) {
                r_.interrupted = true;
                r_.abort_reason = "interrupted";
                return;
            }
            if (now >= until_ns) {
                if (until_ns == deadline_ns_) {
                    r_.timed_out = true;
                    r_.abort_reason = "timed out (--timeout)";
                }
                return;
            }
            if (o_.server_pid > 0 && !process_alive(o_.server_pid)) {
                r_.server_died = true;
                r_.abort_reason = "server process exited";
                return;
            }
            if (traffic && s_.lost_connections.load() > 0) {
                r_.abort_reason = "server closed or reset logged-in connections";
                r_.server_died = s_.lost_connections.load() * 2 >= o_.connections;
                return;
            }
            if (any_worker_exited()) {
                r_.abort_reason = "a worker process died";
                return;
            }
            sleep_ns(2000000);
        }
    }

    bool any_worker_exited() {
        for (Worker& w : workers_) {
            int status;
            if (!w.exited && waitpid(w.pid, &status, WNOHANG) == w.pid) w.exited = true;
            if (w.exited) return true;
        }
        return false;
    }

    void progress(uint64_t now) {
        if (!o_.progress || now - last_progress_ns_ < 1000000000ull ||
            now - start_ns_ < 1000000000ull)
            return;
        last_progress_ns_ = now;
        fprintf(stderr, "[wsload] %5.1fs  connections %u/%u (failed %u)  sent %llu  delivered %llu\n",
                double(now - start_ns_) / 1e9, s_.logged_in.load(), o_.connections,
                s_.failed.load(), (unsigned long long)s_.sent.load(),
                (unsigned long long)s_.delivered.load());
    }

    void stop_and_collect() {
        r_.logged_in = s_.logged_in.load();
        r_.failed = s_.failed.load();
        r_.lost_connections = s_.lost_connections.load();
        s_.phase.store(Phase::Stop, std::memory_order_release);
        // A worker notices Stop at its next loop turn (after at most one batch of events) and
        // reports at once; on a loaded machine a turn over ~10k connections can take seconds,
        // so the budget grows with the connections a worker holds: 5 s + 1 ms per connection.
        uint64_t per_worker = (o_.connections + o_.procs - 1) / o_.procs;
        uint64_t give_up = monotonic_ns() + 5000000000ull + per_worker * 1000000ull;
        for (Worker& w : workers_) {
            auto rep = std::make_unique<WorkerReport>();
            if (read_report(w.report_fd, *rep, give_up)) {
                r_.merged.connect_errors += rep->connect_errors;
                r_.merged.handshake_errors += rep->handshake_errors;
                r_.merged.rejected_503 += rep->rejected_503;
                r_.merged.login_errors += rep->login_errors;
                r_.merged.resets += rep->resets;
                r_.merged.close_frames += rep->close_frames;
                r_.merged.protocol_errors += rep->protocol_errors;
                r_.merged.unexpected_messages += rep->unexpected_messages;
                r_.merged.deliveries_ok += rep->deliveries_ok;
                r_.merged.gaps += rep->gaps;
                r_.merged.out_of_order += rep->out_of_order;
                r_.merged.pings_answered += rep->pings_answered;
                r_.merged.send_stalls += rep->send_stalls;
                r_.merged.cpu_total_s += rep->cpu_total_s;
                r_.merged.cpu_run_s += rep->cpu_run_s;
                r_.merged.connect_latency.merge(rep->connect_latency);
                r_.merged.delivery_latency.merge(rep->delivery_latency);
                r_.workers_reported++;
            } else {
                kill(w.pid, SIGKILL);  // our own child, by pid
            }
            close(w.report_fd);
            if (!w.exited) waitpid(w.pid, nullptr, 0);
        }
        if (r_.workers_reported < o_.procs && r_.abort_reason.empty())
            r_.abort_reason = "a worker did not report";
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        r_.coordinator_cpu_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                               double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }

    static bool read_report(int fd, WorkerReport& out, uint64_t give_up_ns) {
        char* p = reinterpret_cast<char*>(&out);
        size_t got = 0;
        while (got < sizeof out) {
            uint64_t now = monotonic_ns();
            if (now >= give_up_ns) return false;
            pollfd pfd{fd, POLLIN, 0};
            int ready = poll(&pfd, 1, static_cast<int>((give_up_ns - now) / 1000000 + 1));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return false;
            ssize_t n = read(fd, p + got, sizeof out - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            got += static_cast<size_t>(n);
        }
        return true;
    }

    static void sleep_ns(uint64_t ns) {
        timespec ts{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_interrupted) {
        }
    }

    const LoadOptions& o_;
    SharedRunState& s_;
    RunResult r_;
    std::vector<Worker> workers_;
    uint64_t start_ns_ = 0, deadline_ns_ = 0, last_progress_ns_ = 0;
};

}  // namespace

int run_load(const LoadOptions& o) {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    uint32_t senders = o.scenario == Scenario::P2p ? o.senders : 0;
    uint64_t slots = o.scenario == Scenario::Broadcast ? o.max_broadcasts : 0;
    SharedRunState* s = SharedRunState::create(slots, senders);
    auto coordinator = std::make_unique<Coordinator>(o, *s);
    return coordinator->run();
}

}  // namespace wsload
