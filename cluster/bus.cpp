#include "cluster/bus.h"

#include <xxhash.h>

#include "engine/log.h"

namespace wspush::cluster {

Bus::Bus(engine::Server& loop, std::vector<RedisEndpoint> shards, std::string prefix, std::string node_id,
         const LinkLimits& limits, BusReceiver& receiver)
    : loop_(loop), shards_(std::move(shards)), prefix_(std::move(prefix)), receiver_(receiver) {
    all_channel_ = prefix_ + "all";
    own_channel_ = node_channel(node_id);
    control_channel_ = prefix_ + "control";
    for (size_t i = 0; i < shards_.size(); ++i) {
        pub_.push_back(std::make_unique<RedisLink>(loop_, shards_[i], RedisLink::Kind::Publisher, limits, *this, i));
        sub_.emplace_back();
    }
    for (const std::string* ch : {&all_channel_, &own_channel_}) {
        size_t s = shard_of(*ch);
        if (!sub_[s]) sub_[s] = std::make_unique<RedisLink>(loop_, shards_[s], RedisLink::Kind::Subscriber, limits, *this, s);
        sub_[s]->add_channel(*ch);
    }
    const size_t cs = shard_of(control_channel_);
    control_pub_ = std::make_unique<RedisLink>(loop_, shards_[cs], RedisLink::Kind::Publisher, limits, *this, cs);
    control_sub_ = std::make_unique<RedisLink>(loop_, shards_[cs], RedisLink::Kind::Subscriber, limits, *this, cs);
    control_sub_->add_channel(control_channel_);
}

Bus::~Bus() = default;

size_t Bus::shard_for(std::string_view channel, size_t shards) {
    return shards == 1 ? 0 : XXH3_64bits(channel.data(), channel.size()) % shards;
}

std::string Bus::node_channel(std::string_view node_id) const {
    std::string out;
    node_channel(node_id, out);
    return out;
}

void Bus::node_channel(std::string_view node_id, std::string& out) const {
    out.assign(prefix_);
    out += "node.";
    out += node_id;
}

bool Bus::can_publish(std::string_view channel) const { return pub_[shard_of(channel)]->ready(); }

bool Bus::publish(std::string_view channel, std::string_view payload) {
    if (!pub_[shard_of(channel)]->publish(channel, payload)) {
        ++stats_.refused;
        return false;
    }
    ++stats_.messages_out;
    stats_.bytes_out += payload.size();
    return true;
}

bool Bus::publish_control(std::string_view payload) {
    if (!control_pub_->publish(control_channel_, payload)) {
        ++stats_.refused;
        return false;
    }
    ++stats_.messages_out;
    stats_.bytes_out += payload.size();
    return true;
}

bool Bus::available() const {
    if (!control_pub_->ready() || !control_sub_->ready()) return false;
    for (size_t i = 0; i < shards_.size(); ++i)
        if (!pub_[i]->ready() || (sub_[i] && !sub_[i]->ready())) return false;
    return true;
}

bool Bus::shard_up(size_t i) const {
    if (i == shard_of(control_channel_) && (!control_pub_->ready() || !control_sub_->ready())) return false;
    return pub_[i]->ready() && (!sub_[i] || sub_[i]->ready());
}

void Bus::tick(uint32_t now) {
    for (size_t i = 0; i < shards_.size(); ++i) {
        if (sub_[i]) sub_[i]->tick(now);
        pub_[i]->tick(now);
    }
    control_sub_->tick(now);
    control_pub_->tick(now);
}

uint64_t Bus::reconnects() const {
    uint64_t n = 0;
    for (size_t i = 0; i < shards_.size(); ++i) n += pub_[i]->reconnects() + (sub_[i] ? sub_[i]->reconnects() : 0);
    return n + control_pub_->reconnects() + control_sub_->reconnects();
}

size_t Bus::pending_bytes() const {
    size_t n = 0;
    for (auto& l : pub_) n += l->pending_bytes();
    return n + control_pub_->pending_bytes();
}

uint64_t Bus::publishes_unheard() const {
    uint64_t n = 0;
    for (auto& l : pub_) n += l->publishes_unheard();
    return n + control_pub_->publishes_unheard();
}

uint64_t Bus::publishes_lost() const {
    uint64_t n = 0;
    for (auto& l : pub_) n += l->publishes_lost();
    return n + control_pub_->publishes_lost();
}

void Bus::on_link_ready(RedisLink& link) {
    (void)link;
    // The receiver announces itself once every link is up (after a Redis restart our
    // channels and presence are new to everyone).
    receiver_.on_bus_subscribed();
}

const char* Bus::link_name(const RedisLink& link) const {
    if (&link == control_pub_.get()) return "control publish";
    if (&link == control_sub_.get()) return "control subscribe";
    return sub_[link.shard()].get() == &link ? "subscribe" : "publish";
}

void Bus::on_link_down(RedisLink& link, const std::string& why) {
    ++stats_.errors;
    if (why != last_error_)
        LOG_WARN("cluster: %s link to %s down: %s (reconnecting with backoff)", link_name(link),
                 link.endpoint().display.c_str(), why.c_str());
    last_error_ = why;
    receiver_.on_bus_down();
}

void Bus::on_link_message(RedisLink&, std::string_view, const uint8_t* data, size_t len) {
    ++stats_.messages_in;
    stats_.bytes_in += len;
    receiver_.on_bus_message(data, len);
}

void Bus::on_link_error_reply(RedisLink& link, std::string_view what) {
    ++stats_.errors;
    std::string w(what);
    if (w != last_error_) LOG_WARN("cluster: Redis %s answered an error: %s", link.endpoint().display.c_str(), w.c_str());
    last_error_ = w;
}

}  // namespace wspush::cluster
