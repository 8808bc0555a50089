// HttpApi: presence (GatewayWorker's isUidOnline / getClientIdByUid) and kick (closeClient).
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
size_t live_connections(engine::Server& srv, registry::ConnSpan conns) {
    size_t n = 0;
    for (registry::ConnId id : conns)
        if (engine::Connection* c = srv.get(id)) n += !c->has(engine::kFlagCloseRequested);
    return n;
}

void write_presence(JsonWriter& w, std::string_view uid, size_t connections) {
    w.raw("{").key("uid").str(uid).raw(",").key("online").boolean(connections > 0);
    w.raw(",").key("connections").num(connections).raw("}");
}

}  // namespace

int HttpApi::user_get() {
    JsonWriter w(out_);
    write_presence(w, match_.uid, live_connections(service_.server(), service_.sessions().uids().find(match_.uid)));
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
    spans_.resize(uids_.size());  // reused: no allocation once grown to the longest list
    service_.sessions().uids().find_many(uids_.data(), uids_.size(), spans_.data());
    JsonWriter w(out_);
    size_t online = 0;
    w.raw("{").key("users").raw("[");
    for (size_t i = 0; i < uids_.size(); ++i) {
        size_t n = live_connections(service_.server(), spans_[i]);
        online += n > 0;
        if (i) w.raw(",");
        write_presence(w, uids_[i], n);
    }
    w.raw("],").key("online").num(online).raw("}\n");
    return codec::kHttpOk;
}

// Closes every connection of the uid with the given close code and reason. The close frame is
// queued behind what the client already has queued, so pushes sent before the kick arrive.
int HttpApi::user_disconnect(const uint8_t* body, size_t len) {
    KickRequest kick;
    ApiError err;
    if (!parser_.parse_kick(body, len, &kick, &err)) return error(err);
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
