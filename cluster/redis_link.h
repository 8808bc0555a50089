// RedisLink: one hiredis 0.14 async connection driven by the engine's epoll loop: no thread,
// no blocking call (the host was resolved at start; connect is non-blocking), reconnecting by
// itself with exponential backoff and jitter. A publisher link pipelines PUBLISHes; a
// subscriber link holds SUBSCRIBEs (hiredis wants pub/sub on a connection of its own).
//
// Output: commands go to hiredis's buffer and are written once per loop iteration (flush(),
// from the service's on_tick), so a burst of publishes costs one write. The buffer is bounded
// (max_pending bytes): past it, publish() refuses (the caller answers "cluster unavailable")
// instead of growing memory while Redis is slow.
// Liveness: a link with replies owed and none for stall_ms, or a subscriber that hears nothing
// for stall_ms though its own probes are published every second, is torn down and rebuilt.
//
// Contract: publish() and subscribe() return false when the link is not ready or is full; they
// never block. Events reach the LinkOwner from the loop.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_url.h"
#include "engine/server.h"

struct redisAsyncContext;

namespace wspush::cluster {

class RedisLink;

class LinkOwner {
public:
    virtual ~LinkOwner() = default;
    virtual void on_link_ready(RedisLink& link) = 0;    // connected, authenticated, subscribed
    virtual void on_link_down(RedisLink& link, const std::string& why) = 0;
    virtual void on_link_message(RedisLink& link, std::string_view channel, const uint8_t* data, size_t len) = 0;
    virtual void on_link_error_reply(RedisLink& link, std::string_view what) = 0;  // e.g. NOAUTH
};

struct LinkLimits {
    size_t max_pending = 16 << 20;  // bytes of output waiting for Redis
    uint32_t stall_ms = 5000;       // no reply/message for this long while one is due: reconnect
    uint32_t connect_timeout_ms = 3000;
    uint32_t backoff_min_ms = 100;
    uint32_t backoff_max_ms = 2000;
};

class RedisLink final : public engine::FdWatcher {
public:
    enum class Kind : uint8_t { Publisher, Subscriber };
    RedisLink(engine::Server& loop, const RedisEndpoint& ep, Kind kind, const LinkLimits& limits, LinkOwner& owner,
              size_t shard);
    ~RedisLink() override;
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    // Channels this (subscriber) link holds; subscribed on every (re)connect.
    void add_channel(std::string channel) { channels_.push_back(std::move(channel)); }
    // Connects, reconnects, checks liveness and writes what is queued. Once per loop iteration.
    void tick(uint32_t now_ms);
    bool ready() const { return state_ == State::Ready; }
    bool publish(std::string_view channel, std::string_view payload);
    size_t pending_bytes() const;
    size_t shard() const { return shard_; }
    const RedisEndpoint& endpoint() const { return ep_; }
    uint64_t publishes_unheard() const { return publishes_unheard_; }  // PUBLISH answered 0 receivers
    uint64_t reconnects() const { return reconnects_; }
    uint64_t publishes_lost() const { return publishes_lost_; }  // in flight when the link dropped

    void on_fd_event(uint32_t events) override;

private:
    enum class State : uint8_t { Idle, Connecting, Setup, Ready };
    static void on_connect(const redisAsyncContext* ac, int status);
    static void on_disconnect(const redisAsyncContext* ac, int status);
    static void on_setup_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void on_publish_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void on_sub_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void ev_add_read(void* p);
    static void ev_del_read(void* p);
    static void ev_add_write(void* p);
    static void ev_del_write(void* p);
    static void ev_cleanup(void* p);

    void start_connect();
    void send_setup();
    void became_ready();
    void lost(const std::string& why);  // context gone (freed by hiredis or by us): back off
    void teardown(const std::string& why);  // from tick(): free the context ourselves
    void update_watch();
    void progress() { last_progress_ms_ = loop_.now_ms(); }

    engine::Server& loop_;
    RedisEndpoint ep_;
    Kind kind_;
    LinkLimits limits_;
    LinkOwner& owner_;
    size_t shard_;
    std::vector<std::string> channels_;
    redisAsyncContext* ac_ = nullptr;
    int fd_ = -1;
    bool want_read_ = false, want_write_ = false, watching_write_ = false;
    uint32_t watched_ = 0;  // epoll events registered for fd_
    State state_ = State::Idle;
    uint32_t setup_owed_ = 0;      // AUTH/SELECT/SUBSCRIBE replies still to come
    uint64_t replies_owed_ = 0;    // publisher: PUBLISH replies still to come
    uint32_t state_since_ms_ = 0;
    uint32_t last_progress_ms_ = 0;
    uint32_t retry_at_ms_ = 0;
    uint32_t backoff_ms_ = 0;
    bool in_callback_ = false;
    bool freeing_ = false;
    std::string broken_;  // a setup error seen in a callback: torn down at the next tick
    uint64_t publishes_unheard_ = 0;
    uint64_t reconnects_ = 0;
    uint64_t publishes_lost_ = 0;
    uint32_t connects_ = 0;
};

}  // namespace wspush::cluster
