// Directory: what this node knows of the others, replicated through the bus: which nodes are
// alive (heartbeats) and, for every uid online anywhere else, which nodes hold how many of its
// connections. It answers "where does uid X live" without a Redis round trip, so a message to
// a uid goes straight to the node channels of its holders (targeted) and presence answers at
// once. The price: every login and logout (the first and last connection of a uid on a node)
// reaches every node, batched once per loop iteration.
//
// Memory: one hash-map entry per remote uid (~64 B plus the uid) and 8 B per holder.
// Contract: all methods are O(1) expected except forget_node (O(uids)) and the listings.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/seeded_hash.h"

namespace wspush::cluster {

// What a node's heartbeat says about it (order = order on the wire; new fields go last).
enum NodeStat : uint8_t {
    kStatConnections, kStatWebsockets, kStatOnlineConnections, kStatOnlineUids, kStatLogins,
    kStatClientMessages, kStatApiMessages, kStatDeliveries, kStatDroppedOffline, kStatBusMessagesIn,
    kStatBusBytesIn, kStatBusMessagesOut, kStatBusBytesOut, kStatUptimeSeconds, kStatCount
};
const char* node_stat_name(NodeStat s);

struct NodeInfo {
    std::string id;
    uint32_t last_heard_ms = 0;
    uint32_t asked_ms = 0;       // when we last sent it a hello (or first heard it: its announced
                                 // snapshot travels the data links, its heartbeat may come first)
    bool have_snapshot = false;  // its presence is known (a snapshot arrived)
    bool alive = false;          // slot in use
    uint64_t stats[kStatCount] = {};
};

struct Holder {
    uint16_t node;   // index in nodes()
    uint32_t count;  // connections of the uid there
};

class Directory {
public:
    static constexpr size_t kMaxNodes = 1024;  // a bound on what a bus message can make us track

    // The node's index, creating it (heard now). SIZE_MAX when kMaxNodes are tracked.
    size_t touch_node(std::string_view id, uint32_t now_ms);
    size_t find_node(std::string_view id) const;  // SIZE_MAX if unknown
    // A message from node id arrived: a known node is alive (an unknown one is not created:
    // data alone does not make a node; its hello, heartbeat or presence does).
    void heard(std::string_view id, uint32_t now_ms);
    // Drops the node and every presence it held.
    void forget_node(size_t index);
    // Nodes not heard from for timeout_ms: forgotten; their ids appended to *gone.
    void expire(uint32_t now_ms, uint32_t timeout_ms, std::vector<std::string>* gone);

    // uid has `count` connections on node (0: none any more).
    void set(std::string_view uid, size_t node, uint32_t count);
    // Begins a snapshot of a node: its presences are dropped, the snapshot adds them back.
    void clear_node(size_t node);
    const std::vector<Holder>* holders(std::string_view uid) const;
    uint64_t remote_connections(std::string_view uid) const;

    // Fresh: its presence snapshot arrived since our links last came up, and it was heard from
    // (any message: heartbeat, presence or data) within stale_ms. A send to a uid on a node
    // that is not fresh is reported undelivered, not published into a channel nobody may be
    // listening to.
    bool fresh(size_t node, uint32_t now_ms, uint32_t stale_ms) const {
        const NodeInfo& n = nodes_[node];
        return n.have_snapshot && now_ms - n.last_heard_ms <= stale_ms;
    }
    bool all_fresh(uint32_t now_ms, uint32_t stale_ms) const;
    // Our links went down: what we hold may be out of date until each node's next snapshot.
    void mark_all_stale() {
        for (NodeInfo& n : nodes_) n.have_snapshot = false;
    }

    const std::vector<NodeInfo>& nodes() const { return nodes_; }
    NodeInfo& node(size_t i) { return nodes_[i]; }
    size_t live_nodes() const;
    size_t uid_count() const { return uids_.size(); }

private:
    using Hash = registry::SeededStringHash;  // uids are chosen by clients
    std::unordered_map<std::string, std::vector<Holder>, Hash, std::equal_to<>> uids_;
    std::vector<NodeInfo> nodes_;
};

}  // namespace wspush::cluster
