// ClusterRouter: the receiving side, presence, heartbeats and announcements.
//
// Presence protocol (docs/cluster.md): each node tells the all channel, once per loop
// iteration, the uids whose connection count changed here (P); every second a heartbeat (H)
// with its figures. When its links come (back) up it says hello (h) and publishes a presence
// snapshot (S, replacing what others held of it) and its group table (Y, merged as a union);
// every node that hears a hello answers the same way on the sender's node channel. A node
// silent for --cluster-node-timeout is forgotten with all its uids.
#include "engine/log.h"
#include "server/cluster_router.h"

namespace wspush::server {

using cluster::BusList;
using cluster::BusListReader;
using cluster::BusMessage;
using cluster::BusType;

namespace {
constexpr size_t kChunkBytes = 64 * 1024;  // snapshot pieces: no giant message on the bus
}  // namespace

void ClusterRouter::local_presence_changed(std::string_view uid) {
    if (!dirty_uids_.contains(uid)) dirty_uids_.emplace(uid);
}

void ClusterRouter::own_stats(uint64_t* s) const {
    const engine::EngineStats& e = server_.stats();
    const cluster::BusStats& b = bus_.stats();
    s[cluster::kStatConnections] = server_.connections();
    s[cluster::kStatWebsockets] = server_.open_websockets();
    s[cluster::kStatOnlineConnections] = sessions_.online().size();
    s[cluster::kStatOnlineUids] = sessions_.uids().uid_count();
    s[cluster::kStatLogins] = stats_.logins;
    s[cluster::kStatClientMessages] = e.messages_in;
    s[cluster::kStatApiMessages] = stats_.api_messages;
    s[cluster::kStatDeliveries] = stats_.deliveries();
    s[cluster::kStatDroppedOffline] = stats_.dropped_offline;
    s[cluster::kStatBusMessagesIn] = b.messages_in;
    s[cluster::kStatBusBytesIn] = b.bytes_in;
    s[cluster::kStatBusMessagesOut] = b.messages_out;
    s[cluster::kStatBusBytesOut] = b.bytes_out;
    s[cluster::kStatUptimeSeconds] = (server_.now_ms() - started_ms_) / 1000;
}

void ClusterRouter::tick(uint32_t now) {
    if (bus_.available()) {
        if (announce_due_ && announce()) announce_due_ = false;
        if (!dirty_uids_.empty()) flush_presence();
        if (static_cast<int32_t>(now - next_heartbeat_ms_) >= 0) {
            heartbeat();
            next_heartbeat_ms_ = now + heartbeat_ms_;
        }
    }
    gone_.clear();
    dir_.expire(now, node_timeout_ms_, &gone_);
    for (const std::string& id : gone_) {
        ++nodes_expired_;
        LOG_WARN("cluster: node %s silent for %u ms: its uids are offline", id.c_str(), node_timeout_ms_);
    }
    bus_.tick(now);  // last: one write per link for everything queued above and this iteration
    server_.wake_within(heartbeat_ms_);
}

// The heartbeat goes on the control lane (cluster/bus.h): a data backlog cannot delay it.
// The probes go on the data links, behind whatever they carry: each data subscriber hears at
// least one message a second from us, so a dead data link is noticed (RedisLink's stall clock).
void ClusterRouter::heartbeat() {
    uint64_t s[cluster::kStatCount];
    own_stats(s);
    begin(BusType::Heartbeat);
    size_t at = w_.start_list();
    for (uint64_t v : s) w_.u64(v);
    w_.end_list(at, cluster::kStatCount);
    bus_.publish_control(w_.bytes());
    begin(BusType::Probe);
    bus_.publish(bus_.own_channel(), w_.bytes());
    // The all channel on another shard has a subscriber link of its own that needs a probe too
    // (others hear it and drop it: a few bytes a second, only with several shards).
    if (bus_.shard_of(bus_.all_channel()) != bus_.shard_of(bus_.own_channel())) publish_all();
}

bool ClusterRouter::flush_presence() {
    begin(BusType::Presence);
    size_t at = w_.start_list();
    uint32_t n = 0;
    for (auto it = dirty_uids_.begin(); it != dirty_uids_.end();) {
        w_.str(*it);
        w_.u64(live_count(*it));
        ++n;
        it = dirty_uids_.erase(it);
        if (w_.size() > kChunkBytes) {
            w_.end_list(at, n);
            if (!publish_all()) return false;  // the next announce sends a full snapshot
            begin(BusType::Presence);
            at = w_.start_list();
            n = 0;
        }
    }
    w_.end_list(at, n);
    return n == 0 || publish_all();
}

bool ClusterRouter::announce() {
    begin(BusType::Hello);
    if (!publish_all()) return false;
    dirty_uids_.clear();  // the snapshot carries them
    return send_snapshot(bus_.all_channel()) && send_group_state(bus_.all_channel());
}

// Our uids and connection counts, in pieces; the first piece tells receivers to drop what they
// held of us. O(local uids).
bool ClusterRouter::send_snapshot(const std::string& channel) {
    bool ok = true, first = true;
    auto start = [&] {
        begin(BusType::Snapshot);
        w_.u8(first ? 1 : 0);
        first = false;
        return w_.start_list();
    };
    size_t at = start();
    uint32_t n = 0;
    sessions_.uids().for_each([&](std::string_view uid, registry::ConnSpan conns) {
        w_.str(uid);
        w_.u64(conns.size);
        ++n;
        if (w_.size() > kChunkBytes) {
            w_.end_list(at, n);
            ok = bus_.publish(channel, w_.bytes()) && ok;
            at = start();
            n = 0;
        }
    });
    w_.end_list(at, n);
    return bus_.publish(channel, w_.bytes()) && ok;
}

bool ClusterRouter::send_group_state(const std::string& channel) {
    bool ok = true;
    auto start = [&] {
        begin(BusType::GroupState);
        w_.u8(0);
        return w_.start_list();
    };
    size_t at = start();
    uint32_t n = 0;
    sessions_.groups().for_each([&](std::string_view group, std::string_view uid) {
        w_.str(group);
        w_.str(uid);
        ++n;
        if (w_.size() > kChunkBytes) {
            w_.end_list(at, n);
            ok = bus_.publish(channel, w_.bytes()) && ok;
            at = start();
            n = 0;
        }
    });
    if (n == 0) return ok;
    w_.end_list(at, n);
    return bus_.publish(channel, w_.bytes()) && ok;
}

void ClusterRouter::on_bus_message(const uint8_t* data, size_t len) {
    BusMessage m;
    if (!cluster::parse_bus_message(data, len, &m)) {
        if (bus_.stats().unparsable++ % 1000 == 0)
            LOG_WARN("cluster: dropped an unparsable bus message (%zu bytes; %llu so far)", len,
                     static_cast<unsigned long long>(bus_.stats().unparsable));
        return;
    }
    if (m.origin == node_id_) return;  // our own broadcast, heartbeat or presence coming back
    // Any message from a node proves it alive, not only its heartbeat: data refreshes a known
    // node (a scan of a few ids), control messages below touch (or create) it.
    switch (m.type) {
        case BusType::ToUid:
        case BusType::ToUids:
        case BusType::ToAll:
        case BusType::ToGroup:
        case BusType::Kick: dir_.heard(m.origin, server_.now_ms()); return deliver_local(m);
        case BusType::Probe: dir_.heard(m.origin, server_.now_ms()); return;
        default: break;
    }
    size_t node = dir_.touch_node(m.origin, server_.now_ms());
    if (node == SIZE_MAX) return;  // more nodes than we track: ignore the newcomer
    on_control(m, node);
}

void ClusterRouter::deliver_local(const BusMessage& m) {
    Outgoing out{static_cast<codec::Opcode>(m.op), reinterpret_cast<const uint8_t*>(m.payload.data()),
                 m.payload.size()};
    size_t n = 0;
    switch (m.type) {
        case BusType::ToUid: n = local_.to_uid(m.name, out); break;
        case BusType::ToAll: n = local_.to_all(out); break;
        case BusType::ToGroup: n = local_.to_group(m.name, out); break;
        case BusType::ToUids: {
            per_node_.resize(1);
            auto& uids = per_node_[0];
            uids.clear();
            BusListReader r(m.list);
            std::string_view uid;
            while (r.next_str(&uid)) uids.push_back(uid);
            n = local_.to_uids(uids.data(), uids.size(), out);
            break;
        }
        case BusType::Kick: {
            for (registry::ConnId id : sessions_.uids().find(m.name)) {
                engine::Connection* c = server_.get(id);
                if (c && !c->has(engine::kFlagCloseRequested))
                    server_.close(*c, m.code, m.name2, engine::CloseReason::Kicked);
            }
            return;
        }
        default: return;
    }
    stats_.routed(stats_.bus, out.len, n);
}

// Names off the bus obey the same bound as names from clients and the API: a peer (or anyone
// who can PUBLISH on our channels) cannot grow our tables with giant keys.
bool ClusterRouter::too_long(std::string_view name) {
    if (name.size() <= max_name_) return false;
    ++bus_.stats().unparsable;
    return true;
}

void ClusterRouter::on_control(const BusMessage& m, size_t node) {
    cluster::NodeInfo& ni = dir_.node(node);
    const uint32_t now = server_.now_ms();
    switch (m.type) {
        case BusType::Heartbeat: {
            BusListReader r(m.list);
            uint64_t v;
            for (size_t i = 0; i < cluster::kStatCount && r.next_u64(&v); ++i) ni.stats[i] = v;
            // A node whose presence we never got (we missed its hello): ask it directly.
            if (!ni.have_snapshot && now - ni.asked_ms > 3000) {
                ni.asked_ms = now;
                begin(BusType::Hello);
                publish_to_node(node);
            }
            return;
        }
        case BusType::Presence:
        case BusType::Snapshot: {
            if (m.type == BusType::Snapshot) {
                if (m.flags & 1) dir_.clear_node(node);
                ni.have_snapshot = true;
            }
            BusListReader r(m.list);
            std::string_view uid;
            uint64_t count;
            while (r.next_str(&uid) && r.next_u64(&count))
                if (!too_long(uid)) dir_.set(uid, node, static_cast<uint32_t>(std::min<uint64_t>(count, UINT32_MAX)));
            return;
        }
        case BusType::Hello: {
            // Someone (re)joined: tell it who we are, on its own channel.
            std::string ch = bus_.node_channel(m.origin);
            if (!send_snapshot(ch) || !send_group_state(ch)) announce_due_ = true;
            return;
        }
        case BusType::GroupJoin:
            if (!too_long(m.name) && !too_long(m.name2)) sessions_.groups().join(m.name, m.name2);
            return;
        case BusType::GroupLeave: sessions_.groups().leave(m.name, m.name2); return;
        case BusType::GroupDelete: sessions_.groups().ungroup(m.name); return;
        case BusType::GroupState: {
            BusListReader r(m.list);
            std::string_view group, uid;
            while (r.next_str(&group) && r.next_str(&uid))
                if (!too_long(group) && !too_long(uid)) sessions_.groups().join(group, uid);
            return;
        }
        default: return;
    }
}

}  // namespace wspush::server
