// The Server's read and write paths for connections accepted on a TLS listener. Plaintext
// from TlsTransport goes into the same handle_bytes() as a plain socket's bytes, and the
// flush hands the same gathered iovecs to TlsTransport::write() instead of writev().
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "engine/log.h"
#include "engine/server.h"

namespace wspush::engine {

ssize_t Server::write_out(Connection& c, const struct iovec* iov, int n) {
    if (!is_tls(c)) return writev(c.fd, iov, n);
    ssize_t w = tls_->write(c.id.slot, iov, n);
    if (w < 0) errno = EPIPE;  // the caller drops the connection
    return w;
}

void Server::on_readable_tls(Connection& c, bool hangup) {
    const uint32_t slot = c.id.slot;
    // A failed handshake, or one that was still running when we gave up on the connection:
    // nothing more to decrypt, only bytes to discard until the peer's FIN.
    if (tls_->failed(slot) || (c.phase != Phase::Http && c.phase != Phase::Open && !tls_->established(slot)))
        return drain_raw(c);
    uint8_t* buf = read_buf_.get();
    while (!c.has(kFlagReaped)) {
        size_t got = 0;
        TlsRead r = tls_->read(slot, buf, cfg_.read_buffer_bytes, &got, hangup);
        if (got > 0) {
            stats_.bytes_in += got;
            touch(c);
            handle_bytes(c, buf, got);
            if (c.has(kFlagReaped)) return;
        }
        switch (r) {
            case TlsRead::Full: continue;
            case TlsRead::Drained:
                if (tls_->write_wants_read(slot)) {  // a blocked write waited for these bytes
                    tls_->clear_write_wants_read(slot);
                    flush(c);
                }
                return;
            case TlsRead::WantWrite: set_want_write(c, true); return;  // on_writable_tls reads again
            case TlsRead::PlainHttp: refuse_plain_http(c); return;
            case TlsRead::Closed:
                // A clean end of the client's side is a FIN, as on a plain socket: what we owe
                // it (a response, our close frame) still goes out.
                if (tls_->peer_closed_cleanly(slot)) return on_peer_eof(c);
                reap(c);
                return;
            case TlsRead::Failed: reap(c); return;
        }
    }
}

void Server::on_writable_tls(Connection& c) {
    const uint32_t slot = c.id.slot;
    if (tls_->write_wants_read(slot)) {  // EPOLLOUT would fire for nothing until the peer writes
        set_want_write(c, false);
        return;
    }
    flush(c);  // with nothing queued this also disarms EPOLLOUT ...
    if (!c.has(kFlagReaped) && tls_->read_wants_write(slot)) on_readable_tls(c, false);  // ... which a read may re-arm
}

void Server::drain_raw(Connection& c) {
    uint8_t* buf = read_buf_.get();
    for (;;) {
        ssize_t n = read(c.fd, buf, cfg_.read_buffer_bytes);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        reap(c);
        return;
    }
}

// Someone typed http:// for an https:// (or ws:// for a wss://) URL. Like nginx, answer in
// clear, so that a person sees why, then close (the request itself was consumed by OpenSSL).
void Server::refuse_plain_http(Connection& c) {
    static constexpr std::string_view kAnswer =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 53\r\nConnection: close\r\n\r\n"
        "This port speaks TLS: use https:// or wss:// for it.\n";
    static_assert(kAnswer.size() - kAnswer.find("\r\n\r\n") - 4 == 53);
    (void)::send(c.fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    c.set(kFlagCloseRequested);
    ++stats_.closes[static_cast<size_t>(CloseReason::HttpDone)];
    drop_http_input(c);
    finish_close(c);  // FIN now; the linger timer reaps it if the client never closes
    drain_raw(c);
}

void Server::reload_tls() {
    bool any = false;
    for_each_tls_context([&](TlsContext& ctx) {
        any = true;
        std::string error;
        if (ctx.reload(&error)) {
            ++tls_stats_.reloads;
            LOG_INFO("SIGHUP: TLS certificate reloaded from %s (%s); open connections keep theirs",
                     ctx.cert_file().c_str(), ctx.describe().c_str());
        } else {
            ++tls_stats_.reload_failures;
            LOG_ERROR("SIGHUP: TLS reload failed, the previous certificate stays in use: %s", error.c_str());
        }
    });
    if (!any) LOG_INFO("SIGHUP: no TLS listener, nothing to reload");
}

// Once a second from the loop: a ticket key is retired on time even when no handshake comes
// (TicketKeys also checks on every handshake that seals or opens a ticket).
void Server::rotate_ticket_keys() {
    ticket_check_ms_ = now_ms_;
    for_each_tls_context([](TlsContext& ctx) {
        if (ctx.rotate_ticket_keys_if_due()) LOG_DEBUG("TLS session-ticket key rotated (%s)", ctx.cert_file().c_str());
    });
}

const TlsStats* Server::tls_stats() const {
    if (!tls_) return nullptr;
    // The ticket counters live with the keys (the OpenSSL callback counts there): summed here,
    // when someone reads the stats (a handful of listeners).
    tls_stats_.ticket_key_rotations = tls_stats_.tickets_renewed = tls_stats_.tickets_refused = 0;
    for_each_tls_context([this](TlsContext& ctx) {
        const TicketStats& t = ctx.ticket_keys().stats();
        tls_stats_.ticket_key_rotations += t.rotations;
        tls_stats_.tickets_renewed += t.renewed;
        tls_stats_.tickets_refused += t.refused;
    });
    return &tls_stats_;
}

}  // namespace wspush::engine
