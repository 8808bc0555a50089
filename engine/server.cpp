// The loop, accepting, timers, output and teardown. Input parsing is in server_input.cpp.
#include "engine/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/close_code.h"
#include "codec/frame_encoder.h"
#include "codec/http_status.h"
#include "engine/listen_socket.h"
#include "engine/log.h"

namespace wspush::engine {

static_assert(sizeof(Connection) <= 120, "Connection grew: every client pays for each byte");

namespace {
// epoll user data: a live connection's ConnId (generation never 0), or one of these with
// generation 0 for the loop's own fds.
constexpr uint64_t kSignalTag = 0xFFFF'FFFFull;
constexpr uint64_t kWatchTag = 0x4000'0000ull;  // + index in watches_; listeners sit below
constexpr int kMaxEvents = 1024;
constexpr int kMaxIov = 64;  // iovecs per writev: 64 frames per syscall at most

uint64_t monotonic_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

// Elapsed loop-ms since `since`, wrap-safe for spans under 24 days.
inline uint32_t age(uint32_t now, uint32_t since) { return now - since; }
}  // namespace

const char* close_reason_name(CloseReason r) {
    static const char* const names[] = {"client_close",      "peer_gone",     "protocol_error",
                                        "invalid_payload",   "message_too_big", "policy",
                                        "slow_consumer",     "handshake_timeout", "login_timeout",
                                        "idle_timeout",      "shutdown",      "kicked",
                                        "http_done",         "inbound_budget"};
    static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(CloseReason::kCount));
    return names[static_cast<size_t>(r)];
}

Server::Server(const ServerConfig& cfg, ServerHandler& handler)
    : cfg_(cfg), handler_(handler), read_buf_(new uint8_t[cfg.read_buffer_bytes]) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
    reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ping_frame_ = encode(codec::Opcode::Ping, nullptr, 0);
    clock_origin_ns_ = monotonic_ns();
    update_clock();
}

Server::~Server() {
    slots_.for_each([&](ConnId, Connection& c) {
        if (c.fd >= 0) ::close(c.fd);
    });
    for (auto& l : listeners_)
        if (l.fd >= 0) ::close(l.fd);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
    ::close(epoll_fd_);
    ping_frame_->unref();
}

void Server::update_clock() { now_ms_ = static_cast<uint32_t>((monotonic_ns() - clock_origin_ns_) / 1'000'000); }

uint16_t Server::listen(const ListenerSpec& spec, std::string* error) {
    uint16_t port = 0;
    int fd = open_listen_socket(spec.host, spec.port, spec.reuse_port, spec.backlog, &port, error);
    if (fd < 0) return 0;
    // Frames are whole messages written with one writev: Nagle would only delay them. Linux
    // copies this option to every accepted socket.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev {};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = listeners_.size();  // generation 0: a listener index
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    listeners_.push_back(Listener{fd, spec});
    if (spec.tls && !tls_) tls_ = std::make_unique<TlsTransport>(tls_stats_, cfg_.tls_own_records);
    return port;
}

void Server::handle_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (tls_) sigaddset(&set, SIGHUP);  // without TLS there is nothing to reload: SIGHUP keeps its default
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalTag;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev);
}

int Server::run() {
    struct epoll_event events[kMaxEvents];
    while (!done_) {
        int n = epoll_wait(epoll_fd_, events, kMaxEvents, next_timeout_ms());
        update_clock();
        if (n < 0 && errno != EINTR) {
            LOG_ERROR("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; ++i) {
            uint64_t tag = events[i].data.u64;
            ConnId id = ConnId::unpack(tag);
            if (id.gen == 0) {
                if (tag >= kWatchTag && tag < kSignalTag) {
                    size_t w = static_cast<size_t>(tag - kWatchTag);
                    if (w < watches_.size() && watches_[w].watcher) watches_[w].watcher->on_fd_event(events[i].events);
                } else if (tag == kSignalTag) {
                    on_signals();
                } else {
                    on_accept(static_cast<size_t>(tag));
                }
                continue;
            }
            Connection* c = slots_.get(id);
            if (!c || c->has(kFlagReaped)) continue;
            if (events[i].events & EPOLLOUT) on_writable(*c);
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                on_readable(*c, events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
        }
        run_timers();
        if (tls_ && now_ms_ - ticket_check_ms_ >= 1000) rotate_ticket_keys();  // the loop wakes at least once a second
        handler_busy_ = handler_.on_tick(now_ms_);
        flush_dirty();
        reap_pending();
        if (stopping_ && (slots_.size() == 0 || age(now_ms_, shutdown_deadline_) < 0x8000'0000u)) done_ = true;
    }
    if (stopping_ && slots_.size() > 0) {
        LOG_WARN("shutdown timeout: dropping %zu connections with output still queued", slots_.size());
        slots_.for_each([&](ConnId, Connection& c) { reap(c); });
        reap_pending();
    }
    return 0;
}

// ---------------------------------------------------------------- foreign fds

bool Server::watch_fd(int fd, uint32_t events, FdWatcher* w) {
    size_t i = 0;
    while (i < watches_.size() && watches_[i].fd != fd) ++i;  // a handful of fds: a scan is fine
    const bool add = i == watches_.size();
    if (add) {
        i = 0;
        while (i < watches_.size() && watches_[i].watcher) ++i;
        if (i == watches_.size()) watches_.emplace_back();
    }
    struct epoll_event ev {};
    ev.events = events;
    ev.data.u64 = kWatchTag + i;
    if (epoll_ctl(epoll_fd_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) return false;
    watches_[i] = Watch{fd, w};
    return true;
}

void Server::unwatch_fd(int fd) {
    for (Watch& w : watches_) {
        if (w.fd != fd || !w.watcher) continue;
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        w = Watch{};  // an event for it later in this batch finds no watcher
    }
}

void Server::on_signals() {
    struct signalfd_siginfo si;
    bool shut_down = false;
    while (read(signal_fd_, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) reload_tls();
        else shut_down = true;
    }
    if (shut_down) {
        LOG_INFO("signal received: shutting down");
        stop();
    }
}

// ---------------------------------------------------------------- accepting

void Server::on_accept(size_t index) {
    Listener& l = listeners_[index];
    for (;;) {
        sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) {
                // Out of fds. With edge-triggered epoll the pending connection would never be
                // reported again, and a level-triggered loop would spin: give up the reserve fd,
                // accept and close at once, take the reserve back. The client sees a close.
                if (reserve_fd_ >= 0) {
                    ::close(reserve_fd_);
                    int victim = accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
                    if (victim >= 0) ::close(victim);
                    reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
                    if (victim >= 0) {
                        if (stats_.accept_refused_fd++ % 1000 == 0)
                            LOG_WARN("out of file descriptors (%s): refusing connections (%llu so far)",
                                     errno == ENFILE ? "system" : "process",
                                     static_cast<unsigned long long>(stats_.accept_refused_fd));
                        continue;
                    }
                }
                return;  // no reserve: the next accepted close (or edge) brings us back
            }
            if (errno != EAGAIN) LOG_WARN("accept: %s", strerror(errno));
            return;
        }
        // TCP_NODELAY is inherited from the listening socket (set in listen()): no syscall here.
        auto [id, c] = slots_.emplace();
        c->id = id;
        c->fd = fd;
        c->listener = static_cast<uint8_t>(index);
        if (l.spec.tls && !tls_->attach(id.slot, fd, l.spec.tls->get())) {
            LOG_WARN("TLS: out of memory for a new connection: closed");
            ::close(fd);
            slots_.erase(id);
            continue;
        }
        struct epoll_event ev {};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = id.pack();
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        timers_.put(*c, TimerList::Request, now_ms_);
        ++stats_.accepted;
        admit(*c, peer);
        // Edge-triggered: data that arrived with the connection is reported by the ADD above.
    }
}

// The limits are checked at accept, before a byte is read: a refused client costs one accept,
// one small write and a short linger. The answer goes out before the request is read (HTTP
// allows that): clients read it as the response to the request they sent.
void Server::admit(Connection& c, const sockaddr_storage& peer) {
    const bool public_port = listeners_[c.listener].spec.websocket;
    if (public_port && !peers_.add(peer, cfg_.max_conns_per_ip, &c.peer_index)) {
        ++stats_.over_max_conns_per_ip;
        ++live_count(c);  // counted so that the close releases it like any other
        respond_error(c, codec::kHttpTooManyRequests, "too many connections from your address", "Retry-After: 5\r\n");
        return;
    }
    size_t& live = live_count(c);
    const size_t limit = live_limit(c);
    if (limit != 0 && live >= limit && !evict_idle_http(c)) {
        ++stats_.over_max_conns;
        ++live;
        respond_error(c, codec::kHttpServiceUnavailable, "connection limit reached", "Retry-After: 1\r\n");
        return;
    }
    ++live;
}

size_t& Server::live_count(const Connection& c) {
    Listener& l = listeners_[c.listener];
    return l.spec.websocket ? public_live_ : l.live;
}

size_t Server::live_limit(const Connection& c) const {
    const ListenerSpec& spec = listeners_[c.listener].spec;
    return spec.websocket ? cfg_.max_conns : spec.max_conns;
}

void Server::release_live(Connection& c) { --live_count(c); }

// At the limit, an idle keep-alive HTTP connection of the same pool gives up its place (as
// nginx reuses keep-alive connections when out of them): it costs its client a reconnect
// later, while refusing the newcomer would let idle sockets starve real clients. The idle
// list is oldest first; only its first few are looked at (O(1) per accept).
bool Server::evict_idle_http(const Connection& newcomer) {
    const bool public_port = listeners_[newcomer.listener].spec.websocket;
    Connection* c = timers_.head(TimerList::HttpIdle);
    for (int looked = 0; c && looked < 16; ++looked) {
        const Listener& l = listeners_[c->listener];
        if (l.spec.websocket == public_port && (public_port || c->listener == newcomer.listener)) {
            ++stats_.http_idle_evicted;
            close(*c, 0, {}, CloseReason::HttpDone);  // releases its place now
            return true;
        }
        c = c->timer_next == UINT32_MAX ? nullptr : &slots_.at_slot(c->timer_next);
    }
    return false;
}

// ---------------------------------------------------------------- output

SharedFrame* Server::encode(codec::Opcode op, const void* data, size_t len) {
    SharedFrame* f = SharedFrame::create(codec::frame_size(len));
    codec::encode_frame(f->data(), op, data, len);
    return f;
}

bool Server::send(Connection& c, SharedFrame* f) {
    if (c.phase != Phase::Open || c.has(kFlagCloseRequested)) return false;
    if (uint64_t(c.out.bytes()) + f->size() > cfg_.max_backlog) {
        // Over the limit only by what this loop pass queued before any write was tried: a
        // burst to a reader that keeps up looks like that. Offer the kernel what is queued
        // now (one writev, only on this slow path) and judge by what it could not take.
        if (!c.has(kFlagWantWrite)) flush(c);
        if (c.has(kFlagReaped)) return false;
        if (uint64_t(c.out.bytes()) + f->size() > cfg_.max_backlog) {
            close(c, codec::kClosePolicyViolation, "slow consumer", CloseReason::SlowConsumer);
            return false;
        }
    }
    c.out.push(f);
    ++stats_.frames_out;
    mark_dirty(c);
    return true;
}

void Server::queue_owned(Connection& c, SharedFrame* f) {
    c.out.push(f);
    f->unref();
    mark_dirty(c);
}

void Server::queue_copy(Connection& c, const void* data, size_t len) {
    queue_owned(c, SharedFrame::copy_of(data, len));
}

bool Server::send_message(Connection& c, codec::Opcode op, const void* data, size_t len) {
    FrameRef f(encode(op, data, len));
    return send(c, f.get());
}

void Server::mark_dirty(Connection& c) {
    if (c.has(kFlagDirty) || c.has(kFlagWantWrite)) return;  // want-write: EPOLLOUT will flush
    c.set(kFlagDirty);
    dirty_.push_back(c.id);
}

void Server::flush_dirty() {
    // Index loop: flush() may close a connection, never add to dirty_.
    for (size_t i = 0; i < dirty_.size(); ++i) {
        Connection* c = slots_.get(dirty_[i]);
        if (!c) continue;
        c->clear(kFlagDirty);
        if (!c->has(kFlagReaped)) flush(*c);
    }
    dirty_.clear();
}

void Server::set_want_write(Connection& c, bool on) {
    if (c.has(kFlagWantWrite) == on) return;
    struct epoll_event ev {};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? uint32_t(EPOLLOUT) : 0u);
    ev.data.u64 = c.id.pack();
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    if (on) c.set(kFlagWantWrite);
    else c.clear(kFlagWantWrite);
}

// One writev per call for up to kMaxIov frames; loops only while the kernel takes everything.
void Server::flush(Connection& c) {
    struct iovec iov[kMaxIov];
    while (!c.out.empty()) {
        int n = c.out.fill_iov(iov, kMaxIov);
        size_t want = 0;
        for (int i = 0; i < n; ++i) want += iov[i].iov_len;
        ssize_t w = write_out(c, iov, n);
        ++stats_.writev_calls;
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                set_want_write(c, true);
                return;
            }
            reap(c);  // EPIPE, ECONNRESET: the peer is gone
            return;
        }
        stats_.bytes_out += static_cast<uint64_t>(w);
        c.out.consume(static_cast<size_t>(w));
        if (static_cast<size_t>(w) < want) {  // socket buffer full: wait for EPOLLOUT
            set_want_write(c, true);
            return;
        }
    }
    set_want_write(c, false);
    if (c.phase == Phase::Closing) finish_close(c);
}

void Server::on_writable(Connection& c) {
    if (is_tls(c)) return on_writable_tls(c);
    flush(c);
}

// ---------------------------------------------------------------- closing

void Server::close(Connection& c, uint16_t code, std::string_view reason, CloseReason why) {
    if (c.has(kFlagCloseRequested) || c.has(kFlagReaped)) return;
    c.set(kFlagCloseRequested);
    release_live(c);
    // Nothing more is fed to a closing connection's parser: its partial message is dead weight.
    // Not while its own feed() runs (the parser is using the spill): handle_ws_bytes drops it after.
    if (c.has(kFlagWebSocket) && feeding_ != &c) drop_partial_message(c);
    ++stats_.closes[static_cast<size_t>(why)];
    LOG_DEBUG("close conn %u: %s (%u %.*s)", c.id.slot, close_reason_name(why), code,
              static_cast<int>(reason.size()), reason.data());
    if (c.phase == Phase::Open) {
        // A slow consumer's backlog is dropped (all but a partly sent frame) so that the close
        // frame goes out now and the memory comes back now.
        if (why == CloseReason::SlowConsumer) c.out.drop_unstarted(is_tls(c) ? tls_->committed(c.id.slot) : 0);
        SharedFrame* f = SharedFrame::create(codec::kMaxFrameHeader + codec::kMaxControlPayload);
        f->set_size(static_cast<uint32_t>(codec::encode_close(f->data(), code, reason)));
        queue_owned(c, f);
    }
    if (c.phase == Phase::Open || c.phase == Phase::Http) c.phase = Phase::Closing;
    timers_.put(c, TimerList::Closing, now_ms_);
    if (!c.has(kFlagWebSocket)) drop_http_input(c);
    mark_dirty(c);  // flushed at the end of this iteration; FIN follows the last byte
}

// Everything queued is written: send FIN, then wait (briefly) for the peer's. Closing the
// socket while unread client bytes sit in it would send RST, and an RST can destroy the close
// frame or response we just wrote before the client reads it.
void Server::finish_close(Connection& c) {
    if (is_tls(c)) tls_->close_notify(c.id.slot);
    shutdown(c.fd, SHUT_WR);
    c.phase = Phase::Draining;
    timers_.put(c, TimerList::Closing, now_ms_);
}

void Server::reap(Connection& c) {
    if (c.has(kFlagReaped)) return;
    c.set(kFlagReaped);
    timers_.unlink(c);
    reap_.push_back(c.id);
}

void Server::reap_pending() {
    // Index loop: on_close() may close other connections (never this one twice).
    for (size_t i = 0; i < reap_.size(); ++i) {
        Connection* c = slots_.get(reap_[i]);
        if (!c) continue;
        if (!c->has(kFlagCloseRequested)) {
            ++stats_.closes[static_cast<size_t>(c->has(kFlagWebSocket) ? CloseReason::PeerGone : CloseReason::HttpDone)];
            release_live(*c);
        }
        if (c->peer_index != UINT32_MAX) peers_.release(c->peer_index);
        if (c->has(kFlagWebSocket)) {
            handler_.on_close(*c);
            --open_ws_;
        }
        timers_.unlink(*c);
        if (is_tls(*c)) tls_->release(c->id.slot);
        if (c->has(kFlagWebSocket)) drop_partial_message(*c);
        ::close(c->fd);  // also removes it from the epoll set
        slots_.erase(c->id);
    }
    reap_.clear();
}

// ---------------------------------------------------------------- timers

void Server::touch(Connection& c) {
    // Only an open, logged-in connection is on the ping/idle lists; moving it to the tail on
    // every read keeps both lists sorted by last activity (O(1): two neighbours' links).
    if ((c.timer == TimerList::Active && c.timer_since != now_ms_) || c.timer == TimerList::Pinged)
        timers_.put(c, TimerList::Active, now_ms_);
}

void Server::authenticate(Connection& c) {
    if (c.has(kFlagAuthenticated)) return;
    c.set(kFlagAuthenticated);
    if (feeding_ == &c) feeding_limits_->max_message = cfg_.max_message;  // the rest of this read
    if (c.phase == Phase::Open && !c.has(kFlagCloseRequested)) timers_.put(c, TimerList::Active, now_ms_);
}

uint32_t Server::timeout_ms(TimerList list) const {
    switch (list) {
        case TimerList::Request: return cfg_.handshake_timeout_ms;
        case TimerList::HttpIdle: return cfg_.http_idle_timeout_ms;
        case TimerList::Login: return cfg_.login_timeout_ms;
        case TimerList::Active: return cfg_.ping_interval_ms;
        case TimerList::Pinged: return cfg_.idle_timeout_ms;
        case TimerList::Closing: return cfg_.close_linger_ms;
        case TimerList::None:
        case TimerList::kCount: break;
    }
    return UINT32_MAX;
}

void Server::run_timers() {
    Connection* c;
    auto expired = [&](TimerList list) {
        c = timers_.head(list);
        return c && age(now_ms_, c->timer_since) >= timeout_ms(list);
    };
    while (expired(TimerList::Request)) {
        timers_.unlink(*c);
        respond_error(*c, 408, "request timeout", {}, CloseReason::HandshakeTimeout);
    }
    while (expired(TimerList::HttpIdle)) close(*c, 0, {}, CloseReason::HttpDone);
    while (expired(TimerList::Login))
        close(*c, codec::kClosePolicyViolation, "login timeout", CloseReason::LoginTimeout);
    while (expired(TimerList::Active)) {
        // Silent for a ping interval: ping it, and from now on count towards the idle timeout.
        c->out.push(ping_frame_);
        ++stats_.pings_sent;
        mark_dirty(*c);
        uint32_t since = c->timer_since;
        timers_.put(*c, TimerList::Pinged, now_ms_);
        c->timer_since = since;  // the Pinged list is ordered by last activity too
    }
    while (expired(TimerList::Pinged)) close(*c, codec::kCloseGoingAway, "idle timeout", CloseReason::IdleTimeout);
    while (expired(TimerList::Closing)) reap(*c);
}

int Server::next_timeout_ms() {
    if (!dirty_.empty() || !reap_.empty() || handler_busy_) return 0;
    uint32_t best = 1000;  // wake at least once a second (stats, shutdown deadline)
    for (auto list : {TimerList::Request, TimerList::HttpIdle, TimerList::Login, TimerList::Active,
                      TimerList::Pinged, TimerList::Closing}) {
        if (Connection* c = timers_.head(list)) {
            uint32_t a = age(now_ms_, c->timer_since), timeout = timeout_ms(list);
            best = std::min(best, a >= timeout ? 0 : timeout - a);
        }
    }
    if (stopping_) best = std::min<uint32_t>(best, 50);
    best = std::min(best, handler_.next_tick_in_ms());
    best = std::min(best, wake_within_ms_);
    wake_within_ms_ = UINT32_MAX;
    return static_cast<int>(best) + (best > 0 ? 1 : 0);  // +1: never wake a hair early
}

// ---------------------------------------------------------------- shutdown

void Server::stop() {
    if (stopping_) return;
    stopping_ = true;
    shutdown_deadline_ = now_ms_ + cfg_.shutdown_timeout_ms;
    for (auto& l : listeners_) {
        ::close(l.fd);  // stop accepting; the kernel refuses new connections from now on
        l.fd = -1;
    }
    size_t n = 0;
    slots_.for_each([&](ConnId, Connection& c) {
        if (c.has(kFlagReaped)) return;
        if (c.phase == Phase::Open) {
            close(c, codec::kCloseGoingAway, "server shutting down", CloseReason::Shutdown);
            ++n;
        } else if (c.phase == Phase::Http) {
            if (c.out.empty()) reap(c);
            else close(c, 0, {}, CloseReason::HttpDone);
        }
    });
    LOG_INFO("shutdown: closing %zu WebSocket connections (at most %u ms)", n, cfg_.shutdown_timeout_ms);
}

}  // namespace wspush::engine
