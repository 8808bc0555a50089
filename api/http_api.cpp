#include "api/http_api.h"

#include <openssl/crypto.h>
#include <time.h>

#include "codec/http_status.h"
#include "api/api_json_writer.h"
#include "server/push_service.h"

namespace wspush::api {

using namespace wspush::server;  // the service this API drives

namespace {

double monotonic_seconds() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: ~20 ns, twice per push request
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

HttpApi::HttpApi(PushService& service, std::string api_key)
    : service_(service), api_key_(std::move(api_key)), parser_(service.config().max_uid_len) {}
HttpApi::~HttpApi() = default;

// Constant-time comparison of the presented key (CRYPTO_memcmp), so response timing does not
// reveal how many leading bytes were right.
bool HttpApi::authorized(const codec::HttpRequest& req) const {
    if (api_key_.empty()) return true;
    std::string_view auth = req.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() != kBearer.size() + api_key_.size() || !codec::ascii_iequals(auth.substr(0, 7), kBearer))
        return false;
    return CRYPTO_memcmp(auth.data() + kBearer.size(), api_key_.data(), api_key_.size()) == 0;
}

int HttpApi::error(int status, std::string_view message) {
    out_.clear();
    JsonWriter(out_).raw("{").key("error").str(message).raw("}\n");
    return status;
}

int HttpApi::error(const ApiError& err) {
    out_.clear();
    JsonWriter w(out_);
    w.raw("{").key("error").str(err.message);
    if (err.field) w.raw(",").key("field").str(err.field);
    if (err.index >= 0) w.raw(",").key("index").num(static_cast<uint64_t>(err.index));
    w.raw("}\n");
    return err.status;
}

void HttpApi::handle(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) {
    match_route(req.method, req.path, match_, group_scratch_, uid_scratch_);
    out_is_json_ = true;
    char extra[64] = "";
    int status;
    if (match_.route == ApiRoute::Healthz && match_.method_allowed) {
        status = codec::kHttpOk;  // open without a key: load balancers and orchestrators probe it
        out_ = "{\"status\":\"ok\"}\n";
    } else if (!authorized(req)) {
        status = error(codec::kHttpUnauthorized, "missing or wrong API key");
        snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer\r\n");
    } else if (match_.route == ApiRoute::Unknown) {
        status = error(codec::kHttpNotFound, "unknown route");
    } else if (!match_.method_allowed) {
        status = error(codec::kHttpMethodNotAllowed, "method not allowed");
        snprintf(extra, sizeof extra, "Allow: %s\r\n", match_.allow);
    } else if (!match_.params_ok) {
        status = error(codec::kHttpBadRequest, "empty or badly percent-encoded path segment");
    } else if (api_route_pushes(match_.route)) {
        double t0 = monotonic_seconds();
        status = dispatch(req, body, len);
        metrics_.observe_push(monotonic_seconds() - t0);
    } else {
        status = dispatch(req, body, len);
    }
    metrics_.count(match_.route, status);
    service_.server().respond(c, status, out_is_json_ ? "application/json" : "text/plain; version=0.0.4; charset=utf-8",
                              out_, extra);
}

int HttpApi::dispatch(const codec::HttpRequest& req, const uint8_t* body, size_t len) {
    out_.clear();
    switch (match_.route) {
        case ApiRoute::Metrics: return get_metrics();
        case ApiRoute::Push: return push(body, len);
        case ApiRoute::PushBatch: return push_batch(req, body, len);
        case ApiRoute::Broadcast: return broadcast(body, len);
        case ApiRoute::Stats: return get_stats();
        case ApiRoute::Presence: return presence(body, len);
        case ApiRoute::UserGet: return user_get();
        case ApiRoute::UserDisconnect: return user_disconnect(body, len);
        case ApiRoute::GroupGet: return group_get(req);
        case ApiRoute::GroupDelete: return group_delete();
        case ApiRoute::GroupPush: return group_push(body, len);
        case ApiRoute::GroupMemberAdd: return group_member_add(body, len);
        case ApiRoute::GroupMemberRemove: return group_member_remove();
        case ApiRoute::Healthz:
        case ApiRoute::Unknown:
        case ApiRoute::kCount: break;
    }
    return error(codec::kHttpInternalError, "unrouted endpoint");
}

int HttpApi::get_metrics() {
    out_is_json_ = false;
    render_prometheus(service_, metrics_, out_);
    return codec::kHttpOk;
}

// Totals for dashboards and for checking delivery (bench/api_bench.sh reads "deliveries").
int HttpApi::get_stats() {
    engine::Server& srv = service_.server();
    Sessions& sessions = service_.sessions();
    const ServiceStats& st = service_.stats();
    const engine::EngineStats& e = srv.stats();
    JsonWriter w(out_);
    w.raw("{").key("connections").num(srv.connections());
    w.raw(",").key("websockets").num(srv.open_websockets());
    w.raw(",").key("online_connections").num(sessions.online().size());
    w.raw(",").key("online_uids").num(sessions.uids().uid_count());
    w.raw(",").key("groups").num(sessions.groups().group_count());
    w.raw(",").key("logins").num(st.logins);
    w.raw(",").key("client_messages").num(e.messages_in);
    w.raw(",").key("api_messages").num(st.api_messages);
    w.raw(",").key("deliveries").num(st.deliveries());
    w.raw(",").key("api_deliveries").num(st.api.deliveries);
    w.raw(",").key("dropped_offline").num(st.dropped_offline);
    w.raw(",").key("http_requests").num(e.http_requests);
    if (ClusterRouter* cl = service_.cluster()) write_cluster_stats(*cl, w);
    w.raw("}\n");
    return codec::kHttpOk;
}

// "cluster": {"node", "available", "nodes": live nodes, "totals": {figure: sum over nodes},
// "per_node": [{"node", "self", "age_ms", figures...}]}. Other nodes' figures are their last
// heartbeat (at most --cluster-node-timeout old; a silent node drops out).
void HttpApi::write_cluster_stats(ClusterRouter& cl, JsonWriter& w) {
    const cluster::Directory& dir = cl.directory();
    const uint32_t now = service_.server().now_ms();
    uint64_t own[cluster::kStatCount], totals[cluster::kStatCount];
    cl.own_stats(own);
    std::copy(own, own + cluster::kStatCount, totals);
    size_t nodes = 1;
    for (const cluster::NodeInfo& ni : dir.nodes()) {
        if (!ni.alive) continue;
        ++nodes;
        for (size_t i = 0; i < cluster::kStatCount; ++i) totals[i] += ni.stats[i];
    }
    auto figures = [&](const uint64_t* s) {
        for (size_t i = 0; i < cluster::kStatCount; ++i)
            w.raw(",").key(cluster::node_stat_name(static_cast<cluster::NodeStat>(i))).num(s[i]);
    };
    w.raw(",").key("cluster").raw("{").key("node").str(cl.node_id());
    w.raw(",").key("available").boolean(cl.available()).raw(",").key("nodes").num(nodes);
    w.raw(",").key("totals").raw("{").key("nodes").num(nodes);
    figures(totals);
    w.raw("},").key("per_node").raw("[{").key("node").str(cl.node_id()).raw(",").key("self").boolean(true);
    w.raw(",").key("age_ms").num(0);
    figures(own);
    w.raw("}");
    for (const cluster::NodeInfo& ni : dir.nodes()) {
        if (!ni.alive) continue;
        w.raw(",{").key("node").str(ni.id).raw(",").key("self").boolean(false);
        w.raw(",").key("age_ms").num(now - ni.last_heard_ms);
        figures(ni.stats);
        w.raw("}");
    }
    w.raw("]}");
}

}  // namespace wspush::api
