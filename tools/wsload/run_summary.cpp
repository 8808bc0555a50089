#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/wsload/run_result.h"

namespace wsload {
namespace {

using nlohmann::json;

double us(uint64_t ns) { return double(ns) / 1000.0; }

json percentiles_us(const LatencyHistogram& h) {
    return {{"count", h.count()},          {"mean", us(uint64_t(h.mean()))},
            {"p50", us(h.percentile(50))}, {"p90", us(h.percentile(90))},
            {"p99", us(h.percentile(99))}, {"p99_9", us(h.percentile(99.9))},
            {"max", us(h.max())}};
}

double per_second(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

}  // namespace

bool RunResult::ok() const {
    const WorkerReport& m = merged;
    return abort_reason.empty() && failed == 0 && lost_connections == 0 && lost() == 0 &&
           m.gaps == 0 && m.out_of_order == 0 && m.unexpected_messages == 0 &&
           m.protocol_errors == 0 && logged_in > 0;
}

int print_run_summary(const LoadOptions& o, const RunResult& r) {
    const WorkerReport& m = r.merged;
    json j;
    j["scenario"] = scenario_name(o.scenario);
    j["ok"] = r.ok();
    if (!r.abort_reason.empty()) j["error"] = r.abort_reason;
    j["config"] = {{"connections", o.connections}, {"procs", o.procs},
                   {"ports", o.ports},             {"src_ips", o.src_ips},
                   {"payload_bytes", o.payload_bytes}, {"binary", o.binary},
                   {"inflight", o.inflight},       {"senders", o.senders},
                   {"rate", o.rate},               {"window", o.window},
                   {"messages", o.messages},       {"duration_s", o.duration_s},
                   {"tls", o.tls},                 {"tls_resume", o.tls_resume}};
    j["connect"] = {{"logged_in", r.logged_in},
                    {"failed", r.failed},
                    {"seconds", r.connect_seconds},
                    {"logins_per_second", per_second(r.logged_in, r.connect_seconds)},
                    {"latency_us", percentiles_us(m.connect_latency)},
                    {"errors",
                     {{"connect", m.connect_errors}, {"handshake", m.handshake_errors},
                      {"rejected_503", m.rejected_503}, {"login", m.login_errors}}}};
    if (o.server_pid > 0) {
        double conns = r.logged_in ? double(r.logged_in) : 1;
        double rss_delta = double(r.server_idle_after.rss_bytes) -
                           double(r.server_idle_before.rss_bytes);
        json server = {{"pid", o.server_pid},
                       {"processes", r.server_idle_before.processes},
                       {"rss_before_bytes", r.server_idle_before.rss_bytes},
                       {"rss_after_bytes", r.server_idle_after.rss_bytes},
                       {"rss_per_connection_bytes", rss_delta / conns},
                       {"anon_before_bytes", r.server_idle_before.anon_bytes},
                       {"anon_after_bytes", r.server_idle_after.anon_bytes},
                       {"anon_per_connection_bytes",
                        (double(r.server_idle_after.anon_bytes) - double(r.server_idle_before.anon_bytes)) / conns},
                       // The connect phase's CPU (TCP, TLS and WebSocket handshakes, login) per login.
                       {"cpu_us_per_login",
                        (r.server_idle_after.cpu_seconds - r.server_idle_before.cpu_seconds) * 1e6 / conns}};
        if (r.ran_traffic) {
            double cpu = r.server_run_end.cpu_seconds - r.server_run_start.cpu_seconds;
            server["cpu_seconds"] = cpu;
            server["cpu_us_per_delivery"] = m.deliveries_ok ? cpu * 1e6 / double(m.deliveries_ok) : 0;
        }
        j["server"] = server;
    }
    if (r.ran_traffic) {
        json run = {{"seconds", r.run_seconds},
                    {"sent", r.sent},
                    {"messages_per_second", per_second(double(r.sent), r.run_seconds)},
                    {"expected_deliveries", r.expected_deliveries},
                    {"delivered", r.delivered},
                    {"deliveries_per_second", per_second(double(r.delivered), r.run_seconds)},
                    {"latency_us", percentiles_us(m.delivery_latency)}};
        if (o.scenario == Scenario::Broadcast)
            run["broadcast_completion_us"] = percentiles_us(r.broadcast_completion);
        j["run"] = run;
    }
    j["verification"] = {{"lost", r.lost()},
                         {"gaps", m.gaps},
                         {"duplicated_or_reordered", m.out_of_order},
                         {"unexpected_messages", m.unexpected_messages},
                         {"lost_connections", r.lost_connections},
                         {"server_close_frames", m.close_frames},
                         {"resets", m.resets},
                         {"protocol_errors", m.protocol_errors},
                         {"pings_answered", m.pings_answered}};
    j["status"] = {{"timed_out", r.timed_out},
                   {"server_died", r.server_died},
                   {"interrupted", r.interrupted},
                   {"workers_reported", r.workers_reported}};
    j["wsload"] = {{"cpu_seconds", m.cpu_total_s + r.coordinator_cpu_s},
                   {"cpu_seconds_measured_phase", m.cpu_run_s},
                   {"send_stalls", m.send_stalls}};
    std::cout << j.dump() << std::endl;

    fprintf(stderr, "wsload %s: %s%s%s\n", scenario_name(o.scenario), r.ok() ? "OK" : "FAILED",
            r.abort_reason.empty() ? "" : ": ", r.abort_reason.c_str());
    fprintf(stderr, "  connections  %u logged in, %u failed, %.2f s, %.0f logins/s\n",
            r.logged_in, r.failed, r.connect_seconds, per_second(r.logged_in, r.connect_seconds));
    if (o.server_pid > 0)
        fprintf(stderr, "  server RSS   %.1f MiB -> %.1f MiB idle, %.0f B per connection (private: %.0f B)\n",
                double(r.server_idle_before.rss_bytes) / 1048576.0,
                double(r.server_idle_after.rss_bytes) / 1048576.0,
                j["server"]["rss_per_connection_bytes"].get<double>(),
                j["server"]["anon_per_connection_bytes"].get<double>());
    if (r.ran_traffic) {
        const LatencyHistogram& h = m.delivery_latency;
        fprintf(stderr, "  traffic      %llu sent, %llu/%llu delivered in %.2f s, %.0f deliveries/s\n",
                (unsigned long long)r.sent, (unsigned long long)r.delivered,
                (unsigned long long)r.expected_deliveries, r.run_seconds,
                per_second(double(r.delivered), r.run_seconds));
        fprintf(stderr, "  latency us   p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
                us(h.percentile(50)), us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()));
        if (o.scenario == Scenario::Broadcast) {
            const LatencyHistogram& b = r.broadcast_completion;
            fprintf(stderr, "  to last rcv  p50 %.0f  p99 %.0f  max %.0f us\n",
                    us(b.percentile(50)), us(b.percentile(99)), us(b.max()));
        }
        if (o.server_pid > 0)
            fprintf(stderr, "  server CPU   %.3f us per delivery\n",
                    j["server"]["cpu_us_per_delivery"].get<double>());
    }
    fprintf(stderr, "  verified     lost %llu, gaps %llu, dup/reordered %llu, unexpected %llu\n",
            (unsigned long long)r.lost(), (unsigned long long)m.gaps,
            (unsigned long long)m.out_of_order, (unsigned long long)m.unexpected_messages);
    return r.ok() ? 0 : 1;
}

}  // namespace wsload
