// Bus: the nodes' shared Redis, as channels. Channels are spread over the --redis shards by a
// hash of their name (XXH3 mod shard count: every node computes the same place), and each
// shard gets one publishing and, if it holds one of our channels, one subscribing link.
// A node subscribes to two data channels: `<prefix>all` (broadcasts, presence, group changes)
// and `<prefix>node.<id>` (what is addressed to its connections); and to `<prefix>control`
// (heartbeats) over a publishing and a subscribing link of their own, as Centrifugo keeps its
// control channel on a connection of its own: Redis keeps one FIFO per connection, so a
// heartbeat on the data links would wait behind every queued message (ours toward Redis,
// Redis's toward each subscriber, and the receiver's unread socket), and a node busy with data
// would look dead. The control lane carries a few hundred bytes a second per node; it stays
// seconds ahead of a data backlog. Cost: two more Redis connections per node. See docs/cluster.md.
//
// Contract: publish() returns false when the channel's shard cannot take it now (down,
// reconnecting or its output bound reached); the caller must then report the message as not
// delivered beyond this node. Nothing blocks. available() is true when every link is up,
// the control lane's included (a node that cannot heartbeat would soon be forgotten).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_link.h"
#include "cluster/redis_url.h"

namespace wspush::cluster {

struct BusStats {
    uint64_t messages_out = 0, bytes_out = 0;  // published
    uint64_t messages_in = 0, bytes_in = 0;    // received (own echoes included)
    uint64_t refused = 0;       // publishes refused: shard down or output full
    uint64_t errors = 0;        // error replies from Redis and lost links
    uint64_t unparsable = 0;    // messages on our channels that did not parse (dropped)
};

class BusReceiver {
public:
    virtual ~BusReceiver() = default;
    virtual void on_bus_message(const uint8_t* data, size_t len) = 0;
    virtual void on_bus_subscribed() = 0;  // a subscriber link (re)subscribed: announce ourselves
    virtual void on_bus_down() = 0;
};

class Bus final : public LinkOwner {
public:
    Bus(engine::Server& loop, std::vector<RedisEndpoint> shards, std::string prefix, std::string node_id,
        const LinkLimits& limits, BusReceiver& receiver);
    ~Bus() override;

    const std::string& all_channel() const { return all_channel_; }
    const std::string& own_channel() const { return own_channel_; }
    const std::string& control_channel() const { return control_channel_; }
    std::string node_channel(std::string_view node_id) const;
    // Writes the channel of node_id into out (reused buffer: no allocation once grown).
    void node_channel(std::string_view node_id, std::string& out) const;

    bool publish(std::string_view channel, std::string_view payload);
    // On the control lane (heartbeats): never queued behind data.
    bool publish_control(std::string_view payload);
    bool available() const;
    bool can_publish(std::string_view channel) const;
    void tick(uint32_t now_ms);

    const BusStats& stats() const { return stats_; }
    BusStats& stats() { return stats_; }
    size_t shard_count() const { return shards_.size(); }
    size_t shard_of(std::string_view channel) const { return shard_for(channel, shards_.size()); }
    // The shard of a channel among `shards`: unseeded XXH3 mod the count, so every node (and every
    // version of it) computes the same place; a per-process seed here would split the cluster.
    static size_t shard_for(std::string_view channel, size_t shards);
    uint64_t reconnects() const;
    size_t pending_bytes() const;
    uint64_t publishes_unheard() const;
    uint64_t publishes_lost() const;
    const std::string& last_error() const { return last_error_; }
    const RedisEndpoint& endpoint(size_t shard) const { return shards_[shard]; }
    bool shard_up(size_t shard) const;

    // LinkOwner
    void on_link_ready(RedisLink& link) override;
    void on_link_down(RedisLink& link, const std::string& why) override;
    void on_link_message(RedisLink& link, std::string_view channel, const uint8_t* data, size_t len) override;
    void on_link_error_reply(RedisLink& link, std::string_view what) override;

private:
    const char* link_name(const RedisLink& link) const;  // for the log

    engine::Server& loop_;
    std::vector<RedisEndpoint> shards_;
    std::string prefix_, all_channel_, own_channel_, control_channel_;
    BusReceiver& receiver_;
    std::vector<std::unique_ptr<RedisLink>> pub_;  // one per shard
    std::vector<std::unique_ptr<RedisLink>> sub_;  // one per shard holding our channels (else null)
    std::unique_ptr<RedisLink> control_pub_, control_sub_;  // the control lane, on its channel's shard
    BusStats stats_;
    std::string last_error_;
};

}  // namespace wspush::cluster
