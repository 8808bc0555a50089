#include "cluster/redis_link.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include <random>

#include "engine/log.h"

namespace wspush::cluster {
namespace {

RedisLink* link_of(const redisAsyncContext* ac) { return static_cast<RedisLink*>(ac->data); }

uint32_t jitter(uint32_t ms) {
    // Half to all of ms: nodes that lost Redis together do not reconnect in step.
    static std::minstd_rand rng(std::random_device{}());
    return ms / 2 + static_cast<uint32_t>(rng() % (ms / 2 + 1));
}

}  // namespace

RedisLink::RedisLink(engine::Server& loop, const RedisEndpoint& ep, Kind kind, const LinkLimits& limits,
                     LinkOwner& owner, size_t shard)
    : loop_(loop), ep_(ep), kind_(kind), limits_(limits), owner_(owner), shard_(shard) {}

RedisLink::~RedisLink() {
    if (ac_) {
        freeing_ = true;
        redisAsyncFree(ac_);
        ac_ = nullptr;
    }
}

size_t RedisLink::pending_bytes() const { return ac_ && ac_->c.obuf ? sdslen(ac_->c.obuf) : 0; }

// ---------------------------------------------------------------- event-loop adapter

void RedisLink::ev_add_read(void* p) {
    auto* l = static_cast<RedisLink*>(p);
    l->want_read_ = true;
    l->update_watch();
}
void RedisLink::ev_del_read(void* p) {
    auto* l = static_cast<RedisLink*>(p);
    l->want_read_ = false;
    l->update_watch();
}
// Queued output is written by tick() once per loop iteration; EPOLLOUT is armed only while
// connecting and when the socket refused part of a write.
void RedisLink::ev_add_write(void* p) {
    auto* l = static_cast<RedisLink*>(p);
    l->want_write_ = true;
    if (l->state_ == State::Connecting) {
        l->watching_write_ = true;
        l->update_watch();
    }
}
void RedisLink::ev_del_write(void* p) {
    auto* l = static_cast<RedisLink*>(p);
    l->want_write_ = false;
    l->watching_write_ = false;
    l->update_watch();
}
void RedisLink::ev_cleanup(void* p) {
    auto* l = static_cast<RedisLink*>(p);
    if (l->fd_ >= 0) l->loop_.unwatch_fd(l->fd_);
    l->fd_ = -1;
    l->watched_ = 0;
    l->want_read_ = l->want_write_ = l->watching_write_ = false;
}

void RedisLink::update_watch() {
    if (fd_ < 0) return;
    uint32_t ev = (want_read_ ? EPOLLIN : 0u) | (watching_write_ ? EPOLLOUT : 0u);
    if (ev == watched_) return;  // no epoll_ctl when nothing changed
    if (ev == 0) loop_.unwatch_fd(fd_);
    else loop_.watch_fd(fd_, ev, this);
    watched_ = ev;
}

// hiredis reads at most 16 KiB per call: one call per loop iteration would let a busy loop
// (thousands of client events an iteration) fall behind the bus, heartbeats included, until
// peers look dead. Read on while the socket holds more, up to 1 MiB an event.
void RedisLink::on_fd_event(uint32_t events) {
    if (!ac_) return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (int i = 0; i < 64 && ac_; ++i) {
            redisAsyncHandleRead(ac_);
            int more = 0;
            if (!ac_ || ioctl(fd_, FIONREAD, &more) != 0 || more <= 0) break;
        }
    }
    if (ac_ && (events & EPOLLOUT)) redisAsyncHandleWrite(ac_);
}

// ---------------------------------------------------------------- connection life

void RedisLink::start_connect() {
    ++connects_;
    ac_ = ep_.unix_path.empty() ? redisAsyncConnect(ep_.host.c_str(), ep_.port)
                                : redisAsyncConnectUnix(ep_.unix_path.c_str());
    if (!ac_ || ac_->err) {
        std::string why = ac_ ? ac_->errstr : "out of memory";
        if (ac_) redisAsyncFree(ac_);
        ac_ = nullptr;
        return lost(why);
    }
    fd_ = ac_->c.fd;
    ac_->data = this;
    ac_->ev.data = this;
    ac_->ev.addRead = ev_add_read;
    ac_->ev.delRead = ev_del_read;
    ac_->ev.addWrite = ev_add_write;
    ac_->ev.delWrite = ev_del_write;
    ac_->ev.cleanup = ev_cleanup;
    state_ = State::Connecting;
    state_since_ms_ = loop_.now_ms();
    redisAsyncSetConnectCallback(ac_, on_connect);
    redisAsyncSetDisconnectCallback(ac_, on_disconnect);
    // hiredis asked for write before the hooks were set (the non-blocking connect).
    want_write_ = watching_write_ = true;
    update_watch();
}

void RedisLink::on_connect(const redisAsyncContext* ac, int status) {
    RedisLink* l = link_of(ac);
    if (status != REDIS_OK) {
        l->ac_ = nullptr;  // hiredis frees it after this returns
        return l->lost(ac->errstr);
    }
    l->watching_write_ = false;
    l->update_watch();
    l->send_setup();
}

void RedisLink::on_disconnect(const redisAsyncContext* ac, int status) {
    RedisLink* l = link_of(ac);
    if (l->freeing_) return;
    l->ac_ = nullptr;
    l->lost(status == REDIS_OK ? std::string("closed") : std::string(ac->errstr));
}

// AUTH and SELECT (when the URL asks for them), then: a publisher PINGs (so that a Redis that
// wants a password says so now, not on the first message); a subscriber SUBSCRIBEs once the
// setup has answered OK (an error to SUBSCRIBE would make hiredis drop the connection).
void RedisLink::send_setup() {
    state_ = State::Setup;
    state_since_ms_ = loop_.now_ms();
    setup_owed_ = 0;
    if (!ep_.password.empty()) {
        if (ep_.user.empty()) redisAsyncCommand(ac_, on_setup_reply, nullptr, "AUTH %b", ep_.password.data(), ep_.password.size());
        else
            redisAsyncCommand(ac_, on_setup_reply, nullptr, "AUTH %b %b", ep_.user.data(), ep_.user.size(),
                              ep_.password.data(), ep_.password.size());
        ++setup_owed_;
    }
    if (ep_.db != 0) {
        redisAsyncCommand(ac_, on_setup_reply, nullptr, "SELECT %u", ep_.db);
        ++setup_owed_;
    }
    if (kind_ == Kind::Publisher) {
        redisAsyncCommand(ac_, on_setup_reply, nullptr, "PING");
        ++setup_owed_;
    } else if (setup_owed_ == 0) {
        setup_owed_ = 1;  // the subscriptions below count as one step
        on_setup_reply(ac_, nullptr, this);
    }
    progress();
}

void RedisLink::on_setup_reply(redisAsyncContext* ac, void* r, void* priv) {
    RedisLink* l = link_of(ac);
    auto* reply = static_cast<redisReply*>(r);
    if (!reply && priv != l) return;  // context being freed
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        l->broken_ = std::string("setup refused: ") + reply->str;
        l->owner_.on_link_error_reply(*l, reply->str);
        return;
    }
    l->progress();
    if (--l->setup_owed_ != 0) return;
    if (l->kind_ == Kind::Publisher) return l->became_ready();
    for (const std::string& ch : l->channels_) {
        redisAsyncCommand(ac, on_sub_reply, l, "SUBSCRIBE %b", ch.data(), ch.size());
        ++l->setup_owed_;
    }
    if (l->setup_owed_ == 0) l->became_ready();
}

void RedisLink::became_ready() {
    state_ = State::Ready;
    state_since_ms_ = loop_.now_ms();
    backoff_ms_ = 0;
    replies_owed_ = 0;
    progress();
    LOG_INFO("cluster: %s link to %s is up", kind_ == Kind::Publisher ? "publish" : "subscribe", ep_.display.c_str());
    owner_.on_link_ready(*this);
}

void RedisLink::on_sub_reply(redisAsyncContext* ac, void* r, void* priv) {
    auto* l = static_cast<RedisLink*>(priv);
    auto* reply = static_cast<redisReply*>(r);
    if (!reply || l->freeing_) return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    std::string_view kind(reply->element[0]->str, reply->element[0]->len);
    l->progress();
    if (kind == "message") {
        const redisReply* ch = reply->element[1];
        const redisReply* data = reply->element[2];
        l->owner_.on_link_message(*l, {ch->str, ch->len}, reinterpret_cast<const uint8_t*>(data->str), data->len);
    } else if (kind == "subscribe") {
        if (l->state_ == State::Setup && --l->setup_owed_ == 0) l->became_ready();
    }
    (void)ac;
}

void RedisLink::on_publish_reply(redisAsyncContext* ac, void* r, void*) {
    RedisLink* l = link_of(ac);
    auto* reply = static_cast<redisReply*>(r);
    if (l->replies_owed_) --l->replies_owed_;
    if (!reply) {  // the link dropped with this PUBLISH unanswered: it may not have reached Redis
        ++l->publishes_lost_;
        return;
    }
    l->progress();
    if (reply->type == REDIS_REPLY_INTEGER) {
        if (reply->integer == 0) ++l->publishes_unheard_;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        l->owner_.on_link_error_reply(*l, reply->str);
        l->broken_ = std::string("PUBLISH refused: ") + reply->str;
    }
}

void RedisLink::lost(const std::string& why) {
    const bool was_ready = state_ == State::Ready;
    state_ = State::Idle;
    setup_owed_ = 0;
    replies_owed_ = 0;
    broken_.clear();
    backoff_ms_ = backoff_ms_ ? std::min(backoff_ms_ * 2, limits_.backoff_max_ms) : limits_.backoff_min_ms;
    retry_at_ms_ = loop_.now_ms() + jitter(backoff_ms_);
    if (was_ready) ++reconnects_;
    owner_.on_link_down(*this, why);
}

void RedisLink::teardown(const std::string& why) {
    if (ac_) {
        freeing_ = true;
        redisAsyncFree(ac_);  // runs owed callbacks with no reply, then ev_cleanup
        freeing_ = false;
        ac_ = nullptr;
    }
    lost(why);
}

void RedisLink::tick(uint32_t now) {
    if (!broken_.empty()) return teardown(broken_);
    switch (state_) {
        case State::Idle:
            if (static_cast<int32_t>(now - retry_at_ms_) >= 0) start_connect();
            else loop_.wake_within(retry_at_ms_ - now);
            return;
        case State::Connecting:
        case State::Setup:
            if (now - state_since_ms_ > limits_.connect_timeout_ms) return teardown("connect timed out");
            loop_.wake_within(limits_.connect_timeout_ms);
            break;
        case State::Ready:
            // A publisher owes replies and hears none; a subscriber hears nothing though a probe
            // reaches it every second: the connection is dead or Redis is stalled.
            if ((kind_ == Kind::Subscriber || replies_owed_ > 0) && now - last_progress_ms_ > limits_.stall_ms)
                return teardown(kind_ == Kind::Subscriber ? "no message for too long" : "no reply for too long");
            break;
    }
    // One write per loop iteration for everything queued since the last.
    if (ac_ && want_write_ && !watching_write_ && (ac_->c.flags & REDIS_CONNECTED)) {
        redisAsyncHandleWrite(ac_);
        if (ac_ && want_write_) {  // the socket took only part: wait for EPOLLOUT
            watching_write_ = true;
            update_watch();
        }
    }
}

bool RedisLink::publish(std::string_view channel, std::string_view payload) {
    if (state_ != State::Ready || !broken_.empty()) return false;
    if (pending_bytes() + payload.size() > limits_.max_pending) return false;
    if (replies_owed_ == 0) progress();  // the stall clock starts with the first reply owed
    if (redisAsyncCommand(ac_, on_publish_reply, nullptr, "PUBLISH %b %b", channel.data(), channel.size(),
                          payload.data(), payload.size()) != REDIS_OK)
        return false;
    ++replies_owed_;
    return true;
}

}  // namespace wspush::cluster
