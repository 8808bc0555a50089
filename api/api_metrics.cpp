#include "api/api_metrics.h"

#include <cstdio>

#include "engine/engine_stats.h"
#include "server/push_service.h"

namespace wspush::api {

using namespace wspush::server;  // the service this API drives

void ApiMetrics::count(ApiRoute route, int status) {
    size_t slot = kApiStatusSlots - 1;
    for (size_t i = 0; i + 1 < kApiStatusSlots; ++i)
        if (kApiStatuses[i] == status) slot = i;
    ++requests[static_cast<size_t>(route)][slot];
}

void ApiMetrics::observe_push(double seconds) {
    size_t i = 0;
    while (i < kPushLatencyBuckets && seconds > kPushLatencyBounds[i]) ++i;
    ++push_latency[i];
    push_latency_sum += seconds;
    ++push_latency_count;
}

namespace {

// Appends "# HELP"/"# TYPE" for one metric family.
void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// name{labels} value
void sample(std::string& out, const char* name, const char* labels, uint64_t value) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
                     static_cast<unsigned long long>(value));
    out.append(buf, static_cast<size_t>(n));
}

void one(std::string& out, const char* name, const char* type, const char* help, uint64_t value) {
    family(out, name, type, help);
    sample(out, name, "", value);
}

void by_path(std::string& out, const char* name, const char* help, uint64_t client, uint64_t api) {
    family(out, name, "counter", help);
    sample(out, name, "path=\"client\"", client);
    sample(out, name, "path=\"api\"", api);
}

void render_gauges(PushService& s, std::string& out) {
    engine::Server& srv = s.server();
    one(out, "wspush_connections", "gauge", "Open sockets (WebSocket and HTTP).", srv.connections());
    one(out, "wspush_websockets", "gauge", "Open WebSocket connections.", srv.open_websockets());
    one(out, "wspush_inbound_buffered_bytes", "gauge",
        "Bytes of partial client messages held, all connections (--max-inbound-buffered).", srv.inbound_buffered());
    one(out, "wspush_online_connections", "gauge", "Logged-in WebSocket connections.", s.sessions().online().size());
    one(out, "wspush_online_uids", "gauge", "Distinct uids with a connection.", s.sessions().uids().uid_count());
    one(out, "wspush_groups", "gauge", "Groups with at least one member.", s.sessions().groups().group_count());
    one(out, "wspush_peer_addresses", "gauge", "Client addresses (IPv6: /64s) connected to the WebSocket port.",
        srv.peer_addresses());
}

void render_traffic(PushService& s, std::string& out) {
    const engine::EngineStats& e = s.server().stats();
    const ServiceStats& st = s.stats();
    one(out, "wspush_logins_total", "counter", "Successful logins.", st.logins);
    one(out, "wspush_login_failures_total", "counter", "Refused logins.", st.login_failures);
    by_path(out, "wspush_messages_in_total", "Messages received: WebSocket data messages, API pushes.",
            e.messages_in, st.api_messages);
    by_path(out, "wspush_message_bytes_in_total", "Payload bytes of routed client messages and API pushes.",
            st.client.bytes_in, st.api.bytes_in);
    by_path(out, "wspush_messages_out_total", "Frames queued to recipients, by origin of the message.",
            st.client.deliveries, st.api.deliveries);
    by_path(out, "wspush_message_bytes_out_total", "Payload bytes queued to recipients, by origin.",
            st.client.bytes_out, st.api.bytes_out);
    family(out, "wspush_socket_bytes_total", "counter", "Bytes read from and written to sockets (all listeners).");
    sample(out, "wspush_socket_bytes_total", "direction=\"in\"", e.bytes_in);
    sample(out, "wspush_socket_bytes_total", "direction=\"out\"", e.bytes_out);
    family(out, "wspush_drops_total", "counter", "Messages not delivered, by reason.");
    sample(out, "wspush_drops_total", "reason=\"offline\"", st.dropped_offline);
    sample(out, "wspush_drops_total", "reason=\"bad_format\"", st.bad_format);
    family(out, "wspush_auth_failures_total", "counter", "Tokens refused (--auth jwt), by reason.");
    for (size_t r = 1; r < static_cast<size_t>(auth::TokenError::kCount); ++r) {
        char reason[64];
        snprintf(reason, sizeof reason, "reason=\"%s\"", auth::token_error_name(static_cast<auth::TokenError>(r)));
        sample(out, "wspush_auth_failures_total", reason, st.auth_failures[r]);
    }
    one(out, "wspush_refused_sends_total", "counter", "Client messages refused by --client-send or a token's send claim.",
        st.refused_sends);
    one(out, "wspush_rate_limited_total", "counter", "Connections closed 1008 for exceeding --client-rate.",
        st.rate_limited);
    one(out, "wspush_token_expired_total", "counter", "Connections closed 1008 when their token expired.",
        st.token_expired);
    family(out, "wspush_refused_total", "counter", "Connections and requests refused by a limit or check, by reason.");
    sample(out, "wspush_refused_total", "reason=\"max_conns\"", e.over_max_conns);
    sample(out, "wspush_refused_total", "reason=\"max_conns_per_ip\"", e.over_max_conns_per_ip);
    sample(out, "wspush_refused_total", "reason=\"origin\"", e.origin_refused);
    sample(out, "wspush_refused_total", "reason=\"bad_request\"", e.bad_requests);
    sample(out, "wspush_refused_total", "reason=\"fd_limit\"", e.accept_refused_fd);
    one(out, "wspush_http_idle_evicted_total", "counter",
        "Idle keep-alive HTTP connections closed to make room under --max-conns.", e.http_idle_evicted);
    family(out, "wspush_closes_total", "counter", "Connections closed, by reason.");
    char labels[64];
    for (int r = 0; r < static_cast<int>(engine::CloseReason::kCount); ++r) {
        snprintf(labels, sizeof labels, "reason=\"%s\"", engine::close_reason_name(static_cast<engine::CloseReason>(r)));
        sample(out, "wspush_closes_total", labels, e.closes[r]);
    }
}

// Cluster figures (only with --redis): bus traffic of this node, its health and its peers.
void render_cluster(PushService& s, const ApiMetrics& api, std::string& out) {
    ClusterRouter* cl = s.cluster();
    if (!cl) return;
    const cluster::Bus& bus = cl->bus();
    const cluster::BusStats& b = bus.stats();
    one(out, "wspush_cluster_available", "gauge", "1 when every Redis link of this node is up.", cl->available());
    one(out, "wspush_cluster_nodes", "gauge", "Nodes alive in the cluster, this one included.",
        cl->directory().live_nodes() + 1);
    one(out, "wspush_cluster_remote_uids", "gauge", "Uids online on other nodes (directory entries).",
        cl->directory().uid_count());
    family(out, "wspush_cluster_bus_messages_total", "counter", "Bus messages published and received by this node.");
    sample(out, "wspush_cluster_bus_messages_total", "direction=\"out\"", b.messages_out);
    sample(out, "wspush_cluster_bus_messages_total", "direction=\"in\"", b.messages_in);
    family(out, "wspush_cluster_bus_bytes_total", "counter", "Bus payload bytes published and received by this node.");
    sample(out, "wspush_cluster_bus_bytes_total", "direction=\"out\"", b.bytes_out);
    sample(out, "wspush_cluster_bus_bytes_total", "direction=\"in\"", b.bytes_in);
    one(out, "wspush_cluster_bus_errors_total", "counter", "Redis error replies and lost Redis links.", b.errors);
    one(out, "wspush_cluster_bus_unparsable_total", "counter", "Bus messages that did not parse (dropped).",
        b.unparsable);
    one(out, "wspush_cluster_bus_refused_total", "counter",
        "Publishes refused: Redis down, reconnecting or output bound reached.", b.refused);
    one(out, "wspush_cluster_bus_unheard_total", "counter", "Publishes Redis delivered to no subscriber.",
        bus.publishes_unheard());
    one(out, "wspush_cluster_bus_lost_total", "counter",
        "Publishes in flight when a Redis link dropped (answered before; may be lost).", bus.publishes_lost());
    one(out, "wspush_cluster_bus_pending_bytes", "gauge", "Output queued toward Redis.", bus.pending_bytes());
    one(out, "wspush_cluster_reconnects_total", "counter", "Redis links rebuilt after being up.", bus.reconnects());
    one(out, "wspush_cluster_unavailable_total", "counter",
        "Sends and changes that needed another node while the cluster was unavailable.", cl->unavailable_count());
    one(out, "wspush_cluster_client_refused_total", "counter",
        "Client messages answered 'error: cluster unavailable'.", s.stats().cluster_refused);
    one(out, "wspush_cluster_api_unavailable_total", "counter", "API requests answered 503 cluster unavailable.",
        api.cluster_unavailable);
    one(out, "wspush_cluster_nodes_expired_total", "counter", "Nodes forgotten after missing their heartbeats.",
        cl->nodes_expired());
    one(out, "wspush_cluster_bus_deliveries_total", "counter",
        "Frames queued to local connections for other nodes' messages.", s.stats().bus.deliveries);
}

// Only with a TLS listener (--tls-cert): handshakes and why some failed, certificate reloads.
void render_tls(PushService& s, std::string& out) {
    const engine::TlsStats* t = s.server().tls_stats();
    if (!t) return;
    one(out, "wspush_tls_handshakes_total", "counter", "Completed TLS handshakes.", t->handshakes);
    one(out, "wspush_tls_resumed_total", "counter", "Completed TLS handshakes that resumed a session.", t->resumed);
    family(out, "wspush_tls_handshake_failures_total", "counter", "TLS handshakes that did not complete, by reason.");
    sample(out, "wspush_tls_handshake_failures_total", "reason=\"plain_http\"", t->plain_http);
    sample(out, "wspush_tls_handshake_failures_total", "reason=\"bad_client_hello\"", t->handshake_failures - t->plain_http);
    sample(out, "wspush_tls_handshake_failures_total", "reason=\"client_closed\"", t->handshake_aborted);
    one(out, "wspush_tls_own_record_layer_total", "counter",
        "TLS 1.3 connections moved to wspush's record layer after the handshake (OpenSSL's SSL object freed).",
        t->own_records);
    one(out, "wspush_tls_key_updates_total", "counter", "TLS 1.3 KeyUpdate messages received from clients.",
        t->key_updates);
    one(out, "wspush_tls_record_failures_total", "counter",
        "Established TLS connections closed for a bad record (authentication, type or length).", t->record_failures);
    one(out, "wspush_tls_ticket_key_rotations_total", "counter",
        "New session-ticket keys made (every --tls-ticket-rotate seconds).", t->ticket_key_rotations);
    family(out, "wspush_tls_tickets_total", "counter",
        "Session tickets under a key other than the current one: renewed (resumed under the previous key) "
        "or refused (a key not in the ring).");
    sample(out, "wspush_tls_tickets_total", "outcome=\"renewed\"", t->tickets_renewed);
    sample(out, "wspush_tls_tickets_total", "outcome=\"refused\"", t->tickets_refused);
    family(out, "wspush_tls_reloads_total", "counter", "SIGHUP certificate reloads, by result.");
    sample(out, "wspush_tls_reloads_total", "result=\"ok\"", t->reloads);
    sample(out, "wspush_tls_reloads_total", "result=\"failed\"", t->reload_failures);
}

void render_api(const ApiMetrics& api, std::string& out) {
    family(out, "wspush_api_requests_total", "counter", "Push API requests, by route and status.");
    char labels[96];
    for (size_t r = 0; r < static_cast<size_t>(ApiRoute::kCount); ++r) {
        for (size_t k = 0; k < kApiStatusSlots; ++k) {
            if (api.requests[r][k] == 0) continue;
            char status[8];
            if (k + 1 < kApiStatusSlots) snprintf(status, sizeof status, "%d", kApiStatuses[k]);
            else snprintf(status, sizeof status, "other");
            snprintf(labels, sizeof labels, "route=\"%s\",status=\"%s\"", api_route_name(static_cast<ApiRoute>(r)),
                     status);
            sample(out, "wspush_api_requests_total", labels, api.requests[r][k]);
        }
    }
    const char* h = "wspush_api_push_duration_seconds";
    family(out, h, "histogram", "Time spent handling a push request (parse, route, queue), seconds.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= kPushLatencyBuckets; ++i) {
        cumulative += api.push_latency[i];
        if (i < kPushLatencyBuckets) snprintf(labels, sizeof labels, "le=\"%g\"", kPushLatencyBounds[i]);
        else snprintf(labels, sizeof labels, "le=\"+Inf\"");
        sample(out, "wspush_api_push_duration_seconds_bucket", labels, cumulative);
    }
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%s_sum %.9f\n", h, api.push_latency_sum);
    out.append(buf, static_cast<size_t>(n));
    sample(out, "wspush_api_push_duration_seconds_count", "", api.push_latency_count);
}

}  // namespace

void render_prometheus(PushService& service, const ApiMetrics& api, std::string& out) {
    render_gauges(service, out);
    render_traffic(service, out);
    render_cluster(service, api, out);
    render_tls(service, out);
    render_api(api, out);
}

}  // namespace wspush::api
