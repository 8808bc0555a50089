// ClusterRouter: the Router when wspush runs as one node of a cluster (--redis). Every call
// delivers to this node's connections exactly as LocalRouter does, then sends what other nodes
// need over the bus (cluster/bus.h), targeted by the replicated directory (cluster/directory.h):
//
//   to a uid      one publish to the node channel of each node holding the uid (usually one)
//   to uids       one publish per node holding any of them, listing that node's uids
//   to a group    one publish per node holding an online member
//   to everyone   one publish to the all channel; each node encodes it once
//
// The receiving side (cluster_sync.cpp) delivers to local connections, keeps the directory
// from the others' presence messages and heartbeats, replicates group changes, and announces
// this node (hello, presence snapshot, group state) whenever its links come (back) up.
//
// Contract: the Router calls return connections reached on this node; status() says how many
// on other nodes the message was sent toward and whether it needed the cluster and could not
// get it (Redis down, reconnecting or full): never a silent loss. Group changes and kicks
// answer the same way. Nothing here blocks or allocates per recipient.
#pragma once
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "cluster/bus.h"
#include "cluster/bus_message.h"
#include "cluster/directory.h"
#include "registry/seeded_hash.h"
#include "server/config.h"
#include "server/local_router.h"
#include "server/service_stats.h"

namespace wspush::server {

// Presence of a uid in the whole cluster.
struct ClusterPresence {
    uint64_t local = 0, remote = 0;
    uint32_t nodes = 0;  // nodes holding it, this one included
};

class ClusterRouter final : public Router, public cluster::BusReceiver {
public:
    ClusterRouter(engine::Server& server, Sessions& sessions, ServiceStats& stats, const Config& cfg,
                  std::vector<cluster::RedisEndpoint> shards, std::string node_id);
    ~ClusterRouter() override;

    size_t to_uid(std::string_view uid, const Outgoing& m) override;
    size_t to_group(std::string_view group, const Outgoing& m) override;
    size_t to_all(const Outgoing& m) override;
    size_t to_uids(const std::string_view* uids, size_t count, const Outgoing& m) override;

    // Closes the uid's connections here and asks its other holders to; returns local closes
    // (status(): remote = connections asked to close elsewhere).
    size_t kick(std::string_view uid, uint16_t code, std::string_view reason);
    // Cluster-wide group changes; false (nothing changed anywhere) when the cluster is unavailable.
    bool group_join(std::string_view group, std::string_view uid, bool* joined);
    bool group_leave(std::string_view group, std::string_view uid, bool* left);
    bool group_delete(std::string_view group, size_t* removed);

    ClusterPresence presence(std::string_view uid) const;
    // A local login or logout changed uid's connections here: the others learn it next tick.
    void local_presence_changed(std::string_view uid);
    void tick(uint32_t now_ms);

    bool available() const { return bus_.available(); }
    const std::string& node_id() const { return node_id_; }
    const cluster::Bus& bus() const { return bus_; }
    const cluster::Directory& directory() const { return dir_; }
    uint64_t unavailable_count() const { return unavailable_; }
    uint64_t nodes_expired() const { return nodes_expired_; }
    // This node's figures in heartbeat order (kStatCount values).
    void own_stats(uint64_t* out) const;

    // BusReceiver
    void on_bus_message(const uint8_t* data, size_t len) override;
    void on_bus_subscribed() override { announce_due_ = true; }
    void on_bus_down() override {
        announce_due_ = true;
        dir_.mark_all_stale();
    }

private:
    // cluster_router.cpp: sending
    void begin(cluster::BusType t);
    bool publish_to_node(size_t node);
    bool publish_all();
    void mark_unavailable();
    uint32_t live_count(std::string_view uid) const;
    bool fresh(size_t node) const { return dir_.fresh(node, server_.now_ms(), stale_ms_); }
    bool all_fresh() const { return dir_.all_fresh(server_.now_ms(), stale_ms_); }
    // cluster_sync.cpp: receiving, presence, heartbeats, announcements
    void deliver_local(const cluster::BusMessage& m);
    void on_control(const cluster::BusMessage& m, size_t node);
    bool too_long(std::string_view name);
    void heartbeat();
    bool announce();
    bool send_snapshot(const std::string& channel);
    bool send_group_state(const std::string& channel);
    bool flush_presence();

    engine::Server& server_;
    Sessions& sessions_;
    ServiceStats& stats_;
    LocalRouter local_;
    std::string node_id_;
    cluster::Bus bus_;
    cluster::Directory dir_;
    cluster::BusWriter w_;             // the message being built (reused buffer)
    std::string channel_;              // a node channel being addressed (reused)
    std::vector<uint8_t> node_mark_;   // per directory node: picked for this send
    std::vector<std::vector<std::string_view>> per_node_;  // to_uids: each node's uids
    std::unordered_set<std::string, registry::SeededStringHash, std::equal_to<>> dirty_uids_;  // local presence changed since the last flush
    size_t max_name_;  // --max-uid-len: a longer uid or group name off the bus is refused
    uint32_t heartbeat_ms_, node_timeout_ms_;
    uint32_t stale_ms_;  // 3 heartbeats missed: sends to the node are reported undelivered
    uint32_t next_heartbeat_ms_ = 0;
    uint32_t started_ms_ = 0;
    bool announce_due_ = true;
    uint64_t unavailable_ = 0;     // sends and changes refused for want of the cluster
    uint64_t nodes_expired_ = 0;
    std::vector<std::string> gone_;
};

}  // namespace wspush::server
