// ClusterRouter: the sending side. Local delivery first (it never depends on Redis), then one
// publish per node that needs the message.
#include "server/cluster_router.h"

#include "engine/log.h"

namespace wspush::server {

using cluster::BusType;

namespace {
cluster::LinkLimits link_limits(const Config& cfg) {
    cluster::LinkLimits l;
    l.max_pending = cfg.redis_max_pending;
    return l;
}
uint32_t ms(double s) { return static_cast<uint32_t>(s * 1000.0 + 0.5); }
}  // namespace

ClusterRouter::ClusterRouter(engine::Server& server, Sessions& sessions, ServiceStats& stats, const Config& cfg,
                             std::vector<cluster::RedisEndpoint> shards, std::string node_id)
    : server_(server),
      sessions_(sessions),
      stats_(stats),
      local_(server, sessions),
      node_id_(node_id),
      bus_(server, std::move(shards), cfg.redis_prefix, std::move(node_id), link_limits(cfg), *this),
      max_name_(cfg.max_uid_len),
      heartbeat_ms_(ms(cfg.cluster_heartbeat)),
      node_timeout_ms_(ms(cfg.cluster_node_timeout)),
      stale_ms_(3 * ms(cfg.cluster_heartbeat) + 500),
      started_ms_(server.now_ms()) {}

ClusterRouter::~ClusterRouter() = default;

void ClusterRouter::begin(BusType t) { w_.begin(t, node_id_); }

bool ClusterRouter::publish_to_node(size_t node) {
    bus_.node_channel(dir_.nodes()[node].id, channel_);
    return bus_.publish(channel_, w_.bytes());
}

bool ClusterRouter::publish_all() { return bus_.publish(bus_.all_channel(), w_.bytes()); }

void ClusterRouter::mark_unavailable() {
    if (!status_.unavailable) ++unavailable_;
    status_.unavailable = true;
}

uint32_t ClusterRouter::live_count(std::string_view uid) const {
    return sessions_.uids().find(uid).size;
}

// While the bus is down the directory may be stale: a uid with no connection here may have
// logged in elsewhere, so such a send is reported as not delivered rather than dropped quietly.
size_t ClusterRouter::to_uid(std::string_view uid, const Outgoing& m) {
    status_ = {};
    size_t n = local_.to_uid(uid, m);
    const std::vector<cluster::Holder>* hs = dir_.holders(uid);
    if (!bus_.available()) {
        if (hs || n == 0) mark_unavailable();
        return n;
    }
    if (!hs) {
        if (n == 0 && !all_fresh()) mark_unavailable();  // it may be on a node we do not know yet
        return n;
    }
    begin(BusType::ToUid);
    w_.u8(static_cast<uint8_t>(m.op));
    w_.str(uid);
    w_.str_joined(m.sender, ':', {reinterpret_cast<const char*>(m.data), m.len});  // marked here: the bus carries what is delivered
    for (const cluster::Holder& h : *hs) {
        if (fresh(h.node) && publish_to_node(h.node)) status_.remote += h.count;
        else mark_unavailable();
    }
    return n;
}

size_t ClusterRouter::to_uids(const std::string_view* uids, size_t count, const Outgoing& m) {
    status_ = {};
    size_t n = local_.to_uids(uids, count, m);
    const bool up = bus_.available();
    per_node_.resize(dir_.nodes().size());
    for (auto& v : per_node_) v.clear();
    for (size_t i = 0; i < count; ++i) {
        const auto* hs = dir_.holders(uids[i]);
        if (!up) {
            if (hs || sessions_.uids().find(uids[i]).empty()) mark_unavailable();
            continue;
        }
        if (!hs) {
            if (sessions_.uids().find(uids[i]).empty() && !all_fresh()) mark_unavailable();
            continue;
        }
        for (const cluster::Holder& h : *hs) {
            if (!fresh(h.node)) {
                mark_unavailable();
                continue;
            }
            per_node_[h.node].push_back(uids[i]);
            status_.remote += h.count;
        }
    }
    if (!up) return n;
    for (size_t node = 0; node < per_node_.size(); ++node) {
        if (per_node_[node].empty()) continue;
        begin(BusType::ToUids);
        w_.u8(static_cast<uint8_t>(m.op));
        size_t at = w_.start_list();
        for (std::string_view uid : per_node_[node]) w_.str(uid);
        w_.end_list(at, static_cast<uint32_t>(per_node_[node].size()));
        w_.str_joined(m.sender, ':', {reinterpret_cast<const char*>(m.data), m.len});  // marked here: the bus carries what is delivered
        if (!publish_to_node(node)) mark_unavailable();
    }
    return n;
}

// O(members) directory lookups to find the nodes holding an online member.
size_t ClusterRouter::to_group(std::string_view group, const Outgoing& m) {
    status_ = {};
    size_t n = local_.to_group(group, m);
    const registry::UidGroups::Members* members = sessions_.groups().members(group);
    if (!members) return n;
    if (!bus_.available()) {
        mark_unavailable();  // other nodes' members may be online: we cannot tell or reach them
        return n;
    }
    node_mark_.assign(dir_.nodes().size(), 0);
    bool any = false;
    for (const std::string& uid : *members) {
        if (const auto* hs = dir_.holders(uid)) {
            for (const cluster::Holder& h : *hs) {
                if (!fresh(h.node)) {
                    mark_unavailable();
                    continue;
                }
                node_mark_[h.node] = 1;
                status_.remote += h.count;
                any = true;
            }
        }
    }
    if (!any) return n;
    begin(BusType::ToGroup);
    w_.u8(static_cast<uint8_t>(m.op));
    w_.str(group);
    w_.str_joined(m.sender, ':', {reinterpret_cast<const char*>(m.data), m.len});  // marked here: the bus carries what is delivered
    for (size_t node = 0; node < node_mark_.size(); ++node)
        if (node_mark_[node] && !publish_to_node(node)) mark_unavailable();
    return n;
}

size_t ClusterRouter::to_all(const Outgoing& m) {
    status_ = {};
    size_t n = local_.to_all(m);
    if (!bus_.available()) {
        mark_unavailable();
        return n;
    }
    begin(BusType::ToAll);
    w_.u8(static_cast<uint8_t>(m.op));
    w_.str_joined(m.sender, ':', {reinterpret_cast<const char*>(m.data), m.len});  // marked here: the bus carries what is delivered
    if (!publish_all()) mark_unavailable();
    for (const cluster::NodeInfo& ni : dir_.nodes()) status_.remote += ni.alive ? ni.stats[cluster::kStatOnlineConnections] : 0;
    return n;
}

size_t ClusterRouter::kick(std::string_view uid, uint16_t code, std::string_view reason) {
    status_ = {};
    size_t closed = 0;
    // close() only marks connections; they leave the uid table when reaped after this loop
    // iteration, so the span stays valid while we walk it.
    for (registry::ConnId id : sessions_.uids().find(uid)) {
        engine::Connection* c = server_.get(id);
        if (c && !c->has(engine::kFlagCloseRequested)) {
            server_.close(*c, code, reason, engine::CloseReason::Kicked);
            ++closed;
        }
    }
    const auto* hs = dir_.holders(uid);
    if (!bus_.available()) {
        mark_unavailable();
        return closed;
    }
    if (!hs) return closed;
    begin(BusType::Kick);
    w_.str(uid);
    w_.u16(code);
    w_.str(reason);
    for (const cluster::Holder& h : *hs) {
        if (fresh(h.node) && publish_to_node(h.node)) status_.remote += h.count;
        else mark_unavailable();
    }
    return closed;
}

// Applied here and announced; refused whole when the others cannot hear it (so that the
// nodes' copies of the group table do not drift apart).
bool ClusterRouter::group_join(std::string_view group, std::string_view uid, bool* joined) {
    if (!bus_.available()) return ++unavailable_, false;
    begin(BusType::GroupJoin);
    w_.str(group);
    w_.str(uid);
    if (!publish_all()) return ++unavailable_, false;
    *joined = sessions_.groups().join(group, uid);
    return true;
}

bool ClusterRouter::group_leave(std::string_view group, std::string_view uid, bool* left) {
    if (!bus_.available()) return ++unavailable_, false;
    begin(BusType::GroupLeave);
    w_.str(group);
    w_.str(uid);
    if (!publish_all()) return ++unavailable_, false;
    *left = sessions_.groups().leave(group, uid);
    return true;
}

bool ClusterRouter::group_delete(std::string_view group, size_t* removed) {
    if (!bus_.available()) return ++unavailable_, false;
    begin(BusType::GroupDelete);
    w_.str(group);
    if (!publish_all()) return ++unavailable_, false;
    *removed = sessions_.groups().ungroup(group);
    return true;
}

ClusterPresence ClusterRouter::presence(std::string_view uid) const {
    ClusterPresence p;
    for (registry::ConnId id : sessions_.uids().find(uid)) {
        engine::Connection* c = server_.get(id);
        p.local += c && !c->has(engine::kFlagCloseRequested);
    }
    p.nodes = p.local > 0;
    if (const auto* hs = dir_.holders(uid)) {
        for (const cluster::Holder& h : *hs) p.remote += h.count;
        p.nodes += static_cast<uint32_t>(hs->size());
    }
    return p;
}

}  // namespace wspush::server
