#include "api/http_api.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
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
    : service_(service), has_key_(!api_key.empty()), parser_(service.config().max_uid_len) {
    SHA256(reinterpret_cast<const unsigned char*>(api_key.data()), api_key.size(), key_digest_);
    OPENSSL_cleanse(api_key.data(), api_key.size());
}
HttpApi::~HttpApi() = default;

namespace {

// A Host that names this machine's loopback: "localhost", 127.0.0.0/8, [::1], with any port.
// DNS rebinding makes a browser send an attacker's name here, so anything else is refused.
bool is_loopback_host(std::string_view host) {
    if (host.empty()) return false;
    if (host.front() == '[') {
        size_t close = host.find(']');
        if (close == std::string_view::npos) return false;
        std::string_view rest = host.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return false;
        return host.substr(1, close - 1) == "::1";
    }
    size_t colon = host.find(':');
    std::string_view name = host.substr(0, colon);
    if (colon != std::string_view::npos) {
        std::string_view port = host.substr(colon + 1);
        if (port.empty()) return false;
        for (char ch : port)
            if (ch < '0' || ch > '9') return false;
    }
    if (codec::ascii_iequals(name, "localhost")) return true;
    // 127.a.b.c, each part a decimal number 0-255.
    if (name.substr(0, 4) != "127.") return false;
    int parts = 0;
    size_t pos = 0;
    while (pos <= name.size()) {
        size_t dot = name.find('.', pos);
        if (dot == std::string_view::npos) dot = name.size();
        std::string_view part = name.substr(pos, dot - pos);
        if (part.empty() || part.size() > 3) return false;
        int v = 0;
        for (char ch : part) {
            if (ch < '0' || ch > '9') return false;
            v = v * 10 + (ch - '0');
        }
        if (v > 255) return false;
        ++parts;
        pos = dot + 1;
    }
    return parts == 4;
}

}  // namespace

// The presented key and the real one are both hashed and the digests compared with
// CRYPTO_memcmp: the time taken depends on neither the key's bytes nor its length.
bool HttpApi::authorized(const codec::HttpRequest& req) const {
    if (!has_key_) return true;
    std::string_view auth = req.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() < kBearer.size() || !codec::ascii_iequals(auth.substr(0, kBearer.size()), kBearer)) return false;
    std::string_view presented = auth.substr(kBearer.size());
    unsigned char digest[32];
    SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), digest);
    return CRYPTO_memcmp(digest, key_digest_, sizeof digest) == 0;
}

int HttpApi::vet(const codec::HttpRequest& req, char* extra, size_t extra_cap) {
    match_route(req.method, req.path, match_, group_scratch_, uid_scratch_);
    // A request here has at most one Host, and one if it is HTTP/1.1: the engine answered 400
    // to any other (codec::host_field_problem), before the loopback check below reads it.
    if (match_.route == ApiRoute::Healthz && match_.method_allowed) return 0;  // says nothing, changes nothing
    if (!has_key_) {
        // No key is allowed only on loopback, where the danger is a browser on this machine:
        // a page on any site can post a form here (CSRF), and a name the attacker controls
        // can resolve to 127.0.0.1 (DNS rebinding). Browsers always send Origin with such a
        // request and the attacker's name as Host; backends send neither.
        if (req.has_header("Origin")) return error(codec::kHttpForbidden, "browser requests (Origin) are refused without an API key");
        if (!is_loopback_host(req.header("Host")))
            return error(codec::kHttpForbidden, "Host must name loopback without an API key");
        return 0;
    }
    if (!authorized(req)) {
        snprintf(extra, extra_cap, "WWW-Authenticate: Bearer\r\n");
        return error(codec::kHttpUnauthorized, "missing or wrong API key");
    }
    return 0;
}

bool HttpApi::admit(engine::Connection& c, const codec::HttpRequest& req) {
    char extra[64] = "";
    int status = vet(req, extra, sizeof extra);
    if (status == 0) return true;
    metrics_.count(match_.route, status);
    service_.server().respond(c, status, "application/json", out_, extra);
    return false;
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
    out_is_json_ = true;
    char extra[64] = "";
    // admit() let it through already; vetted again (one hash) so handle() stands on its own.
    int status = vet(req, extra, sizeof extra);
    if (status != 0) {
        // refused: the engine asks admit() first, so only a caller that did not gets here
    } else if (match_.route == ApiRoute::Healthz && match_.method_allowed) {
        status = codec::kHttpOk;  // open without a key: load balancers and orchestrators probe it
        out_ = "{\"status\":\"ok\"}\n";
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
