// HttpApi: presence (GatewayWorker's isUidOnline / getClientIdByUid) and kick (closeClient).
// In a cluster both answer for every node: presence from the replicated directory (no Redis
// round trip), a kick closes the uid's connections here and is sent to the nodes holding it.
#include "codec/http_status.h"
#include "engine/engine_stats.h"
#include "api/api_json_writer.h"
#include "api/http_api.h"
#include "server/push_service.h"

namespace wspush::api {

using namespace wspush::server;  // the service this API drives

namespace {

// Connections that can still receive: a kicked or closing connection stays in the uid table until
// it is reaped (after its close handshake), but a push no longer reaches it, so it is not online.
// O(connections of the uid).
size_t live_in(engine::Server& srv, registry::ConnSpan conns) {
    size_t n = 0;
    for (registry::ConnId id : conns)
        if (engine::Connection* c = srv.get(id)) n += !c->has(engine::kFlagCloseRequested);
    return n;
}

void write_presence(JsonWriter& w, std::string_view uid, uint64_t connections, const ClusterPresence* p) {
    w.raw("{").key("uid").str(uid).raw(",").key("online").boolean(connections > 0);
    w.raw(",").key("connections").num(connections);
    if (p) w.raw(",").key("nodes").num(p->nodes);
    w.raw("}");
}

}  // namespace

uint64_t HttpApi::live_connections(std::string_view uid) {
    return live_in(service_.server(), service_.sessions().uids().find(uid));
}

int HttpApi::user_get() {
    JsonWriter w(out_);
    if (ClusterRouter* cl = service_.cluster()) {
        ClusterPresence p = cl->presence(match_.uid);
        write_presence(w, match_.uid, p.local + p.remote, &p);
    } else {
        write_presence(w, match_.uid, live_connections(match_.uid), nullptr);
    }
    w.raw("\n");
    return codec::kHttpOk;
}

// {"users": [{"uid", "online", "connections"} in request order], "online": how many are}
// One find_many() for the whole list: it hashes a block of uids and prefetches their slots
// before probing, so on a table larger than cache the misses overlap (~2x one find() a uid).
// The spans stay valid while we read them: nothing here adds to or removes from the table.
int HttpApi::presence(const uint8_t* body, size_t len) {
    ApiError err;
    if (!parser_.parse_uid_list(body, len, uids_, &err)) return error(err);
    ClusterRouter* cl = service_.cluster();
    if (!cl) {
        spans_.resize(uids_.size());  // reused: no allocation once grown to the longest list
        service_.sessions().uids().find_many(uids_.data(), uids_.size(), spans_.data());
    }
    JsonWriter w(out_);
    size_t online = 0;
    w.raw("{").key("users").raw("[");
    for (size_t i = 0; i < uids_.size(); ++i) {
        if (i) w.raw(",");
        if (cl) {
            ClusterPresence p = cl->presence(uids_[i]);
            online += p.local + p.remote > 0;
            write_presence(w, uids_[i], p.local + p.remote, &p);
        } else {
            size_t n = live_in(service_.server(), spans_[i]);
            online += n > 0;
            write_presence(w, uids_[i], n, nullptr);
        }
    }
    w.raw("],").key("online").num(online).raw("}\n");
    return codec::kHttpOk;
}

// Closes every connection of the uid with the given close code and reason. The close frame is
// queued behind what the client already has queued, so pushes sent before the kick arrive.
// In a cluster "disconnected" counts the connections asked to close on other nodes too.
int HttpApi::user_disconnect(const uint8_t* body, size_t len) {
    KickRequest kick;
    ApiError err;
    if (!parser_.parse_kick(body, len, &kick, &err)) return error(err);
    if (ClusterRouter* cl = service_.cluster()) {
        size_t closed = cl->kick(match_.uid, kick.code, kick.reason);
        JsonWriter w(out_);
        if (cl->status().unavailable) {
            ++metrics_.cluster_unavailable;
            w.raw("{").key("error").str("cluster unavailable").raw(",").key("uid").str(match_.uid);
            w.raw(",").key("disconnected").num(closed).raw("}\n");
            return codec::kHttpServiceUnavailable;
        }
        w.raw("{").key("uid").str(match_.uid).raw(",").key("disconnected").num(closed + cl->status().remote).raw("}\n");
        return codec::kHttpOk;
    }
    engine::Server& srv = service_.server();
    size_t closed = 0;
    // close() only marks connections; they leave the uid table when reaped after this loop
    // iteration, so the span stays valid while we walk it.
    for (registry::ConnId id : service_.sessions().uids().find(match_.uid)) {
        engine::Connection* c = srv.get(id);
        if (c && !c->has(engine::kFlagCloseRequested)) {
            srv.close(*c, kick.code, kick.reason, engine::CloseReason::Kicked);
            ++closed;
        }
    }
    JsonWriter(out_).raw("{").key("uid").str(match_.uid).raw(",").key("disconnected").num(closed).raw("}\n");
    return codec::kHttpOk;
}

}  // namespace wspush::api
