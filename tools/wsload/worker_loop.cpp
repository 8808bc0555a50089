#include "tools/wsload/worker_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/ssl.h>

#include "codec/frame_encoder.h"
#include "tools/wsload/client_tls.h"
#include "tools/wsload/client_handshake.h"
#include "tools/wsload/decimal_text.h"

namespace wsload {

using wspush::codec::Opcode;

namespace {

constexpr size_t kRecvBuffer = 256 * 1024;
constexpr uint32_t kReceiverRing = 4096;   // login, pongs, a close: far below this
constexpr int kMaxEvents = 1024;
constexpr int64_t kIdleTimeoutNs = 5000000;  // how soon a phase change is noticed

double cpu_seconds_self() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

WorkerLoop::WorkerLoop(const LoadOptions& opts, SharedRunState& shared, uint32_t worker)
    : opts_(opts), shared_(shared), worker_(worker),
      mask_state_(0x2545F4914F6CDD1Dull ^ (uint64_t(worker + 1) << 32)) {
    uint32_t count = opts.connections > worker
                         ? (opts.connections - worker + opts.procs - 1) / opts.procs
                         : 0;
    conns_ = std::vector<ClientConnection>(count);
    for (uint32_t i = 0; i < count; i++) conns_[i].global_index = i * opts.procs + worker;
    dirty_.reserve(count);
    recv_buf_.reset(new uint8_t[kRecvBuffer]);
    frame_cap_ = wspush::codec::frame_size(opts.payload_bytes + 64, true) + 64;
    frame_buf_.reset(new uint8_t[frame_cap_]);
    pending_limit_ = (opts.connect_concurrency + opts.procs - 1) / opts.procs;
    if (pending_limit_ == 0) pending_limit_ = 1;
    limits_.max_message = 64u << 20;
    limits_.require_mask = false;
}

WorkerLoop::~WorkerLoop() {
    for (ClientConnection& c : conns_) {
        SSL_free(c.ssl);
        if (c.fd >= 0) close(c.fd);
    }
    SSL_SESSION_free(tls_session_);
    SSL_CTX_free(tls_ctx_);
    if (epfd_ >= 0) close(epfd_);
}

void WorkerLoop::run(WorkerReport& report) {
    report_ = &report;
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (opts_.tls) {
        std::string error;
        TlsClientOptions t;
        t.ca_file = opts_.tls_ca;
        t.insecure = opts_.tls_insecure;
        tls_ctx_ = tls_client_context(t, &error);
        if (!tls_ctx_) {
            fprintf(stderr, "wsload: %s\n", error.c_str());
            _exit(2);
        }
    }
    traffic_ = make_traffic_model(opts_, *this);
    epoll_event events[kMaxEvents];
    bool run_started = false, reported_done = false;
    double cpu_at_run = 0;
    int64_t timeout = kIdleTimeoutNs;
    for (;;) {
        timespec ts{static_cast<time_t>(timeout / 1000000000), static_cast<long>(timeout % 1000000000)};
        int n = epoll_pwait2(epfd_, events, kMaxEvents, &ts, nullptr);
        now_ns_ = monotonic_ns();
        for (int i = 0; i < n; i++) on_event(conns_[events[i].data.u32], events[i].events);
        Phase phase = shared_.phase.load(std::memory_order_acquire);
        if (phase == Phase::Stop) break;
        if (phase == Phase::Connect) open_more_connections();
        timeout = kIdleTimeoutNs;
        if (traffic_) {
            traffic_->publish();
            if (phase == Phase::Run && !run_started) {
                run_started = true;
                cpu_at_run = cpu_seconds_self();
                traffic_->start(shared_.run_start_ns.load());
            }
            if (run_started) {
                int64_t want = traffic_->pump(now_ns_);
                if (want >= 0 && want < timeout) timeout = want;
                if (!reported_done && traffic_->done_sending()) {
                    reported_done = true;
                    traffic_->publish();  // sent counts must be visible before "done"
                    shared_.workers_done_sending.fetch_add(1);
                }
            }
        }
        flush_dirty();
    }
    report.cpu_total_s = cpu_seconds_self();
    if (run_started) report.cpu_run_s = report.cpu_total_s - cpu_at_run;
}

void WorkerLoop::open_more_connections() {
    while (pending_ < pending_limit_ && next_to_open_ < conns_.size()) {
        ClientConnection& c = conns_[next_to_open_++];
        pending_++;
        shared_.opened.fetch_add(1, std::memory_order_relaxed);
        start_connect(c);
    }
}

void WorkerLoop::start_connect(ClientConnection& c) {
    c.started_ns = monotonic_ns();
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail_connection(c, report_->connect_errors);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opts_.src_ips > 0) {
        // Without IP_BIND_ADDRESS_NO_PORT, bind() reserves a port per source address for every
        // destination at once and caps each source at ~28k connections.
        setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl((127u << 24) | (2 + c.global_index % opts_.src_ips));
        if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
            return fail_connection(c, report_->connect_errors);
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(opts_.ports[c.global_index % opts_.ports.size()]);
    inet_pton(AF_INET, opts_.host.c_str(), &dst.sin_addr);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 &&
        errno != EINPROGRESS)
        return fail_connection(c, report_->connect_errors);
    c.state = ConnState::Connecting;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u32 = local_of(c.global_index);
    epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
    c.watching_write = true;
}

void WorkerLoop::on_event(ClientConnection& c, uint32_t events) {
    if (c.state == ConnState::Closed || c.fd < 0) return;
    if (c.state == ConnState::Connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP)))
            return fail_connection(c, report_->connect_errors);
        return on_connected(c);
    }
    if (c.state == ConnState::TlsHandshaking) return continue_tls_handshake(c);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    if (c.state != ConnState::Closed && (events & EPOLLOUT)) {
        if (flush_out(c) < 0) return fail_connection(c, report_->resets);
        if (c.out.empty()) watch(c, false);
    }
}

void WorkerLoop::on_connected(ClientConnection& c) {
    if (!tls_ctx_) return send_upgrade_request(c);
    c.ssl = tls_client_new(tls_ctx_, c.fd, opts_.host);
    if (!c.ssl) return fail_connection(c, report_->handshake_errors);
    if (tls_session_) SSL_set_session(c.ssl, tls_session_);
    c.state = ConnState::TlsHandshaking;
    continue_tls_handshake(c);
}

// A failed TLS handshake counts as a failed WebSocket handshake.
void WorkerLoop::continue_tls_handshake(ClientConnection& c) {
    bool want_write = false;
    int r = tls_handshake(c.ssl, &want_write);
    if (r < 0) return fail_connection(c, report_->handshake_errors);
    if (r == 0) return watch(c, want_write);
    watch(c, false);
    send_upgrade_request(c);
}

ssize_t WorkerLoop::flush_out(ClientConnection& c) {
    if (!c.ssl) return c.out.flush(c.fd);
    return c.out.flush_with([&](const uint8_t* p, size_t n) { return tls_write(c.ssl, p, n); });
}

void WorkerLoop::send_upgrade_request(ClientConnection& c) {
    char req[512 + 4096];  // room for a ?token= of up to 4 KiB (the server's bound)
    uint16_t port = opts_.ports[c.global_index % opts_.ports.size()];
    std::string target;
    if (opts_.token_in_url && !opts_.tokens.empty()) target = "/?token=" + opts_.tokens[c.global_index];
    size_t n = write_handshake_request(req, sizeof req, opts_.host, port, c.global_index,
                                       target.empty() ? std::string_view("/") : std::string_view(target));
    c.state = ConnState::Handshaking;
    watch(c, false);
    queue_raw(c, req, n);
}

void WorkerLoop::on_readable(ClientConnection& c) {
    if (c.ssl) {
        // Until WANT_READ: records OpenSSL already holds raise no epoll event.
        while (c.state != ConnState::Closed) {
            ssize_t n = tls_read(c.ssl, recv_buf_.get(), kRecvBuffer);
            if (n == 0) return;
            if (n < 0)
                return fail_connection(c, c.state == ConnState::Handshaking ? report_->connect_errors
                                                                             : report_->resets);
            uint8_t* data = recv_buf_.get();
            size_t len = static_cast<size_t>(n);
            if (c.state == ConnState::Handshaking && !consume_handshake(c, data, len)) continue;
            if (len > 0) feed_frames(c, data, len);
        }
        return;
    }
    // Level-triggered: one bounded read per event keeps every connection fair; what is left
    // comes back on the next turn.
    ssize_t n = read(c.fd, recv_buf_.get(), kRecvBuffer);
    if (n == 0) return fail_connection(c, report_->resets);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return fail_connection(c, c.state == ConnState::Handshaking ? report_->connect_errors
                                                                     : report_->resets);
    }
    uint8_t* data = recv_buf_.get();
    size_t len = static_cast<size_t>(n);
    if (c.state == ConnState::Handshaking && !consume_handshake(c, data, len)) return;
    if (len > 0) feed_frames(c, data, len);
}

// Consumes the HTTP response; on success, data/len are advanced past it to any frame bytes.
bool WorkerLoop::consume_handshake(ClientConnection& c, uint8_t*& data, size_t& len) {
    const char* text = reinterpret_cast<const char*>(data);
    size_t text_len = len;
    if (c.partial_http) {
        c.partial_http->append(text, len);
        text = c.partial_http->data();
        text_len = c.partial_http->size();
    }
    long r = check_handshake_response(text, text_len, c.global_index);
    if (r == 0) {
        if (!c.partial_http) c.partial_http = std::make_unique<std::string>(text, text_len);
        return false;
    }
    if (r < 0) {
        fail_connection(c, r == -kHandshakeServiceUnavailable ? report_->rejected_503
                                                              : report_->handshake_errors);
        return false;
    }
    size_t already = c.partial_http ? c.partial_http->size() - len : 0;  // bytes before this read
    size_t used_here = static_cast<size_t>(r) - already;
    data += used_here;
    len -= used_here;
    c.partial_http.reset();
    c.state = ConnState::LoggingIn;
    if (!opts_.tokens.empty()) {  // --auth jwt: the token (unless it went in the URL: nothing to send)
        const std::string& token = opts_.tokens[c.global_index];
        if (!opts_.token_in_url) queue_frame(c, Opcode::Text, reinterpret_cast<const uint8_t*>(token.data()), token.size());
        return true;
    }
    char uid[16] = {'u'};
    char* end = write_decimal(uid + 1, c.global_index);
    queue_frame(c, opts_.binary ? Opcode::Binary : Opcode::Text,
                reinterpret_cast<uint8_t*>(uid), static_cast<size_t>(end - uid));
    return true;
}

void WorkerLoop::feed_frames(ClientConnection& c, uint8_t* data, size_t len) {
    current_ = &c;
    wspush::codec::FeedResult r = c.parser.feed(data, len, limits_, *this);
    current_ = nullptr;
    if (r.close_code != wspush::codec::kCloseNone && r.close_code != wspush::codec::kStopped &&
        c.state != ConnState::Closed)
        fail_connection(c, report_->protocol_errors);
}

bool WorkerLoop::on_message(Opcode, uint8_t* data, size_t len, bool) {
    ClientConnection& c = *current_;
    if (c.state == ConnState::LoggingIn) {
        char want[64] = "login success, your uid is u";
        char* end = write_decimal(want + 28, c.global_index);
        if (len != size_t(end - want) || memcmp(data, want, len) != 0) {
            fail_connection(c, report_->login_errors);
            return false;
        }
        c.state = ConnState::Ready;
        pending_--;
        if (opts_.tls_resume && !tls_session_ && c.ssl) {
            SSL_SESSION* s = SSL_get1_session(c.ssl);  // the ticket came before the login reply
            if (s && SSL_SESSION_is_resumable(s)) tls_session_ = s;
            else SSL_SESSION_free(s);
        }
        report_->connect_latency.record(now_ns_ - c.started_ns);
        shared_.logged_in.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    if (c.state == ConnState::Ready && traffic_) {
        traffic_->on_message(c, data, len, now_ns_);
    } else {
        report_->unexpected_messages++;
    }
    return true;
}

bool WorkerLoop::on_control(Opcode op, uint8_t* data, size_t len) {
    ClientConnection& c = *current_;
    if (op == Opcode::Ping) {
        report_->pings_answered++;
        queue_frame(c, Opcode::Pong, data, len);
        return true;
    }
    if (op != Opcode::Close) return true;  // an unsolicited Pong: nothing to do
    // Echo the code (RFC 6455 5.5.1), then drop the socket: we never close first.
    queue_frame(c, Opcode::Close, data, len < 2 ? len : 2);
    flush_out(c);
    fail_connection(c, report_->close_frames);
    return false;
}

bool WorkerLoop::queue_raw(ClientConnection& c, const void* data, size_t len) {
    uint32_t cap = traffic_ ? traffic_->ring_capacity(c.global_index) : kReceiverRing;
    if (!c.out.append(static_cast<const uint8_t*>(data), static_cast<uint32_t>(len), cap)) {
        report_->send_stalls++;
        return false;
    }
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(local_of(c.global_index));
    }
    return true;
}

bool WorkerLoop::queue_frame(ClientConnection& c, Opcode op, const uint8_t* payload,
                             size_t len) {
    if (wspush::codec::frame_size(len, true) > frame_cap_) return false;
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 7;
    mask_state_ ^= mask_state_ << 17;
    size_t n = wspush::codec::encode_client_frame(frame_buf_.get(), op, payload, len,
                                                  static_cast<uint32_t>(mask_state_));
    return queue_raw(c, frame_buf_.get(), n);
}

void WorkerLoop::flush_dirty() {
    for (uint32_t i : dirty_) {
        ClientConnection& c = conns_[i];
        c.dirty = false;
        if (c.state == ConnState::Closed || c.fd < 0) continue;
        if (flush_out(c) < 0) {
            fail_connection(c, report_->resets);
            continue;
        }
        if (!c.out.empty()) {
            watch(c, true);
        } else if (traffic_ == nullptr || traffic_->ring_capacity(c.global_index) <= kReceiverRing) {
            c.out.release();
        }
    }
    dirty_.clear();
}

void WorkerLoop::watch(ClientConnection& c, bool want_write) {
    if (c.watching_write == want_write) return;
    c.watching_write = want_write;
    epoll_event ev{};
    ev.events = want_write ? uint32_t(EPOLLIN | EPOLLOUT) : uint32_t(EPOLLIN);
    ev.data.u32 = local_of(c.global_index);
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

// A connection that ends before the run is over: before login it is a failed connect, after
// it a lost connection (which fails the run: its deliveries will be missing).
void WorkerLoop::fail_connection(ClientConnection& c, uint64_t& counter) {
    bool stopping = shared_.phase.load(std::memory_order_relaxed) == Phase::Stop;
    if (!stopping) counter++;
    if (c.state == ConnState::Ready) {
        if (!stopping) shared_.lost_connections.fetch_add(1);
    } else if (c.state != ConnState::Closed) {
        pending_--;
        shared_.failed.fetch_add(1);
    }
    close_fd(c);
}

void WorkerLoop::close_fd(ClientConnection& c) {
    SSL_free(c.ssl);
    c.ssl = nullptr;
    if (c.fd >= 0) close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.state = ConnState::Closed;
    c.parser.reset();
    c.partial_http.reset();
}

}  // namespace wsload
