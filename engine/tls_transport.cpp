#include "engine/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "engine/iov_cursor.h"
#include "engine/log.h"
#include "engine/tls13_connection.h"
#include "engine/tls13_records.h"

namespace wspush::engine {

namespace {

// The socket BIO, with the plaintext path's short-read rule: a read(2) that returns less than
// asked for emptied the socket, so the next read would only say EAGAIN. While a TlsTransport::
// read() runs, the BIO remembers that and answers "retry" itself: one syscall saved per
// readable event (edge-triggered epoll reports bytes that arrive later). OpenSSL's own socket
// BIO cannot know. (Kernel TLS would need OpenSSL's socket BIO; this kernel has no tls ULP.)
thread_local bool* t_drained = nullptr;  // set only inside TlsTransport::read()

int bio_fd(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

int bio_read(BIO* b, char* out, int len) {
    BIO_clear_retry_flags(b);
    if (t_drained && *t_drained) {
        BIO_set_retry_read(b);
        return -1;
    }
    for (;;) {
        ssize_t n = ::read(bio_fd(b), out, static_cast<size_t>(len));
        if (n > 0) {
            if (n < len && t_drained) *t_drained = true;
            return static_cast<int>(n);
        }
        if (n == 0) return 0;  // EOF
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
            if (t_drained) *t_drained = true;
            BIO_set_retry_read(b);
        }
        return -1;
    }
}

int bio_write(BIO* b, const char* in, int len) {
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t n = ::send(bio_fd(b), in, static_cast<size_t>(len), MSG_NOSIGNAL);
        if (n >= 0) return static_cast<int>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN) BIO_set_retry_write(b);
        return -1;
    }
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* socket_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wspush socket");
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

// ---- collecting what our record layer needs from OpenSSL's handshake
//
// The traffic secrets: OpenSSL hands every TLS 1.3 secret to the key-log callback (the
// SSLKEYLOGFILE mechanism), as "LABEL <client random> <secret>" in hex. We keep the two
// application traffic secrets and write no file.
int unhex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_secret(const char* hex, uint8_t* out, size_t cap, size_t* len) {
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        int hi = unhex(hex[0]), lo = unhex(hex[1]);
        if (hi < 0 || lo < 0) return false;
        out[n++] = static_cast<uint8_t>(hi << 4 | lo);
    }
    *len = n;
    return *hex == 0 && (n == 32 || n == 48);
}

void on_keylog(const SSL* ssl, const char* line) {
    auto* o = static_cast<TlsTransport::Own*>(SSL_get_app_data(ssl));
    if (!o) return;
    static constexpr std::string_view kClient = "CLIENT_TRAFFIC_SECRET_0 ", kServer = "SERVER_TRAFFIC_SECRET_0 ";
    std::string_view l(line);
    uint8_t bit;
    uint8_t* dst;
    if (l.substr(0, kClient.size()) == kClient) {
        bit = TlsTransport::Own::kClientSecret;
        dst = o->rx.secret;
    } else if (l.substr(0, kServer.size()) == kServer) {
        bit = TlsTransport::Own::kServerSecret;
        dst = o->tx.secret;
    } else {
        return;
    }
    size_t sp = l.find(' ', kClient.size());  // after the client random
    size_t len = 0;
    if (sp != std::string_view::npos && parse_secret(line + sp + 1, dst, 48, &len)) o->collected |= bit;
}

// The sequence numbers: OpenSSL reports every record header it reads or writes, and every
// handshake message after its record. Counting starts at each side's Finished: the next
// record is the first under that side's application keys (a server's session ticket, for one,
// is record 0 of its application keys).
void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void* arg) {
    auto* o = static_cast<TlsTransport::Own*>(arg);
    if (content_type == SSL3_RT_HEADER) {
        if (write_p && (o->collected & TlsTransport::Own::kCountingTx)) ++o->tx.seq;
        if (!write_p && (o->collected & TlsTransport::Own::kCountingRx)) ++o->rx.seq;
    } else if (content_type == SSL3_RT_HANDSHAKE && len > 0 && static_cast<const uint8_t*>(buf)[0] == SSL3_MT_FINISHED) {
        if (write_p) {
            o->tx.seq = 0;
            o->collected |= TlsTransport::Own::kCountingTx;
        } else {
            o->rx.seq = 0;
            o->collected |= TlsTransport::Own::kCountingRx;
        }
    }
}

}  // namespace

TlsTransport::TlsTransport(TlsStats& stats, bool own_records, uint64_t records_per_key)
    : stats_(stats),
      own_records_(own_records),
      records_per_key_(records_per_key < 2 ? 2 : records_per_key),
      scratch_(new uint8_t[kBatchRecords * tls13::kMaxRecord]),
      cipher_(std::make_unique<tls13::RecordCipher>(kCipherLanes)) {}

TlsTransport::~TlsTransport() {
    for (Conn& t : conns_) {
        SSL_free(t.ssl);
        delete t.own;
    }
}

void TlsTransport::free_own(Conn& t) {
    delete t.own;
    t.own = nullptr;
}

bool TlsTransport::attach(uint32_t slot, int fd, SSL_CTX* ctx) {
    if (slot >= conns_.size()) conns_.resize(size_t(slot) + 1);
    release(slot);
    Conn& t = conns_[slot];
    SSL* ssl = SSL_new(ctx);
    BIO* bio = ssl ? BIO_new(socket_method()) : nullptr;
    Own* own = bio && own_records_ && cipher_->ok() ? new (std::nothrow) Own : nullptr;
    if (!bio || (own_records_ && cipher_->ok() && !own)) {
        BIO_free(bio);
        SSL_free(ssl);
        ERR_clear_error();
        return false;
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
    SSL_set_bio(ssl, bio, bio);  // one reference, owned by the SSL
    SSL_set_accept_state(ssl);
    if (own) {
        own->fd = fd;
        // The callbacks feed own (see on_keylog/on_message). Without read-ahead OpenSSL reads
        // exactly one record at a time, so nothing after the client's Finished is in its buffer
        // when the handshake ends: the socket holds it, and our layer reads it.
        if (SSL_CTX_get_keylog_callback(ctx) != on_keylog) SSL_CTX_set_keylog_callback(ctx, on_keylog);
        SSL_set_app_data(ssl, own);
        SSL_set_msg_callback(ssl, on_message);
        SSL_set_msg_callback_arg(ssl, own);
        SSL_set_read_ahead(ssl, 0);
    }
    t.ssl = ssl;
    t.own = own;
    return true;
}

void TlsTransport::release(uint32_t slot) {
    if (slot >= conns_.size()) return;
    SSL_free(conns_[slot].ssl);
    free_own(conns_[slot]);
    conns_[slot] = Conn{};
}

// The handshake is done: move a TLS 1.3 connection to our record layer and free its SSL. False
// (and the connection stays with OpenSSL) for TLS 1.2, a suite we do not seal, or secrets that
// did not all arrive (an OpenSSL that changed its callbacks: logged once).
bool TlsTransport::hand_over(Conn& t) {
    if (!t.own) return false;
    Own& o = *t.own;
    tls13::Suite suite;
    const SSL_CIPHER* c = SSL_get_current_cipher(t.ssl);
    bool ok = SSL_version(t.ssl) == TLS1_3_VERSION && c && tls13::suite_from_id(SSL_CIPHER_get_protocol_id(c), &suite);
    if (ok && (o.collected != Own::kAll || SSL_has_pending(t.ssl))) {
        static bool warned = false;
        if (!warned) LOG_WARN("TLS 1.3: OpenSSL did not report the traffic secrets or record counts; its own record layer stays in use");
        warned = true;
        ok = false;
    }
    if (ok) {
        const uint64_t rx_seq = o.rx.seq, tx_seq = o.tx.seq;
        ok = tls13::derive_keys(suite, o.rx.secret, &o.rx) && tls13::derive_keys(suite, o.tx.secret, &o.tx);
        o.rx.seq = rx_seq;
        o.tx.seq = tx_seq;
        o.suite = suite;
        // What OpenSSL's layer would have obeyed (ssl_get_max_send_fragment): modes 1..4.
        const uint8_t mfl = SSL_SESSION_get_max_fragment_length(SSL_get_session(t.ssl));
        if (mfl >= TLSEXT_max_fragment_length_512 && mfl <= TLSEXT_max_fragment_length_4096)
            o.max_plain = static_cast<uint16_t>(256u << mfl);
    }
    if (!ok) {
        // OpenSSL keeps the records: give it back its read-ahead, drop the callbacks' target.
        SSL_set_msg_callback(t.ssl, nullptr);
        SSL_set_app_data(t.ssl, nullptr);
        SSL_set_read_ahead(t.ssl, 1);
        free_own(t);
        ERR_clear_error();
        return false;
    }
    SSL_free(t.ssl);
    t.ssl = nullptr;
    t.flags |= kOwn;
    ++stats_.own_records;
    return true;
}

// The OpenSSL error queue is kept empty between calls (SSL_get_error needs that), so every
// failure path clears it.
TlsRead TlsTransport::fail(Conn& t, int ssl_error) {
    const bool handshaking = !(t.flags & kEstablished);
    const unsigned long first = ERR_peek_error();
    const int reason = ERR_GET_REASON(first);
    t.flags |= kFailed;
    TlsRead result = TlsRead::Failed;
    if (ssl_error == SSL_ERROR_ZERO_RETURN || ssl_error == SSL_ERROR_SYSCALL ||
        reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        // EOF, reset or close_notify: the peer went away (mid-handshake: counted as aborted).
        if (handshaking) ++stats_.handshake_aborted;
        result = TlsRead::Closed;
    } else if (handshaking) {
        ++stats_.handshake_failures;
        if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
            ++stats_.plain_http;
            result = TlsRead::PlainHttp;
        } else if (log_level() <= LogLevel::Debug) {
            char text[256];
            ERR_error_string_n(first, text, sizeof text);
            LOG_DEBUG("TLS handshake failed: %s", text);
        }
    }
    ERR_clear_error();
    return result;
}

TlsRead TlsTransport::handshake(Conn& t) {
    int r = SSL_do_handshake(t.ssl);
    if (r == 1) {
        t.flags = static_cast<uint8_t>((t.flags | kEstablished) & ~kReadWantsWrite);
        ++stats_.handshakes;
        if (SSL_session_reused(t.ssl)) ++stats_.resumed;
        hand_over(t);
        return TlsRead::Full;  // go on reading: the client's first request often came with its Finished
    }
    int e = SSL_get_error(t.ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        t.flags &= static_cast<uint8_t>(~kReadWantsWrite);
        return TlsRead::Drained;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        t.flags |= kReadWantsWrite;
        return TlsRead::WantWrite;
    }
    return fail(t, e);
}

TlsRead TlsTransport::read(uint32_t slot, uint8_t* buf, size_t cap, size_t* got, bool peer_hung_up) {
    Conn& t = conns_[slot];
    if (t.flags & kOwn) return read_own(t, buf, cap, got, peer_hung_up);
    bool drained = false;
    t_drained = peer_hung_up ? nullptr : &drained;
    TlsRead r = read_records(conns_[slot], buf, cap, got);
    t_drained = nullptr;
    return r;
}

TlsRead TlsTransport::read_records(Conn& t, uint8_t* buf, size_t cap, size_t* got) {
    *got = 0;
    if (t.flags & kFailed) return TlsRead::Failed;
    if (!(t.flags & kEstablished)) {
        TlsRead r = handshake(t);
        if (r != TlsRead::Full) return r;
        if (t.flags & kOwn) return TlsRead::Full;  // handed over: read() goes on with read_own()
    }
    t.flags &= static_cast<uint8_t>(~kReadWantsWrite);
    // Until OpenSSL reports WANT_READ: with edge triggering, bytes left in the socket or in
    // OpenSSL's read-ahead buffer would never be reported again.
    while (*got < cap) {
        size_t n = 0;
        if (SSL_read_ex(t.ssl, buf + *got, cap - *got, &n) == 1) {
            *got += n;
            continue;
        }
        int e = SSL_get_error(t.ssl, 0);
        if (e == SSL_ERROR_WANT_READ) return TlsRead::Drained;
        if (e == SSL_ERROR_WANT_WRITE) {
            t.flags |= kReadWantsWrite;
            return TlsRead::WantWrite;
        }
        return fail(t, e);
    }
    return TlsRead::Full;
}

// Copies up to cap bytes from at's position into out (several frames: one record's worth).
// Does not move at.
size_t gather(const IovCursor& at, uint8_t* out, size_t cap) {
    size_t len = 0;
    for (int j = at.i; j < at.n && len < cap; ++j) {
        size_t skip = j == at.i ? at.off : 0;
        size_t take = std::min(at.iov[j].iov_len - skip, cap - len);
        memcpy(out + len, static_cast<const uint8_t*>(at.iov[j].iov_base) + skip, take);
        len += take;
    }
    return len;
}

ssize_t TlsTransport::write(uint32_t slot, const struct iovec* iov, int n) {
    Conn& t = conns_[slot];
    size_t total = 0;
    for (int i = 0; i < n; ++i) total += iov[i].iov_len;
    // No handshake, no records: what was queued (a 408 at the handshake timeout) cannot be
    // sent; the caller is closing the connection and only needs the queue emptied.
    if (!(t.flags & kEstablished) || (t.flags & kFailed)) return static_cast<ssize_t>(total);
    if (t.flags & kOwn) return write_own(t, iov, n);
    return write_openssl(t, iov, n);
}

ssize_t TlsTransport::write_openssl(Conn& t, const struct iovec* iov, int n) {
    size_t done = 0;
    IovCursor at{iov, n};
    at.advance(0);
    while (!at.at_end()) {
        // The next record: a frame's own bytes when it alone fills one (no copy), else as many
        // queued frames as fit, copied into the scratch buffer. The choice depends only on the
        // queue's head, so a retry after WANT_WRITE passes the same bytes again.
        const uint8_t* src;
        size_t len;
        if (at.left_in_this() >= kRecordBytes) {
            src = at.here();
            len = kRecordBytes;
        } else {
            len = gather(at, scratch_.get(), kRecordBytes);
            src = scratch_.get();
        }
        size_t written = 0;
        if (SSL_write_ex(t.ssl, src, len, &written) != 1) {
            int e = SSL_get_error(t.ssl, 0);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                t.committed = static_cast<uint32_t>(len);
                if (e == SSL_ERROR_WANT_READ) t.flags |= kWriteWantsRead;
                return static_cast<ssize_t>(done);
            }
            fail(t, e);
            return -1;
        }
        t.committed = 0;
        done += written;
        at.advance(written);
    }
    return static_cast<ssize_t>(done);
}

void TlsTransport::close_notify(uint32_t slot) {
    Conn& t = conns_[slot];
    if (!(t.flags & kEstablished) || (t.flags & kFailed)) return;
    if (t.flags & kOwn) return send_alert(t, 1, tls13::kCloseNotify);
    // One alert record; if the socket is full it is simply not sent (we are closing anyway).
    if (SSL_shutdown(t.ssl) < 0) ERR_clear_error();
}

}  // namespace wspush::engine
