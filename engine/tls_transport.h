// TlsTransport: the TLS side of the connections accepted on TLS listeners, non-blocking, for
// one edge-triggered loop. The Server calls it from its read and flush paths only; everything
// above the engine sees plaintext and never knows a socket is encrypted.
//
// State lives in a side table indexed by connection slot (16 bytes a slot, only in a server
// with a TLS listener), so a plaintext Connection stays 120 bytes. OpenSSL reads and writes the
// socket through a small BIO of ours (tls_transport.cpp): one read(2) takes every record the
// socket holds (read-ahead), and a short read ends the draining without an EAGAIN syscall.
//
// Return contracts:
//   read():  fills buf with up to cap bytes of plaintext (*got), driving the handshake first,
//            and says why it stopped (TlsRead). With edge-triggered epoll, Drained is the only
//            state in which waiting for EPOLLIN is safe; Full means "call again".
//   write(): sends the iovecs' bytes as TLS records; returns the plaintext bytes taken, which is
//            less than their total when the socket (or the peer) blocked, or -1 on a fatal error.
//            Frames are coalesced into records of up to 16 KiB through one scratch buffer per
//            loop: one SSL_write per 16 KiB, whatever the number of frames. A write that blocks
//            leaves its record in OpenSSL; the retry passes the same bytes again (the queue keeps
//            them: committed() says how many must stay).
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tls_context.h"

typedef struct ssl_st SSL;

namespace wspush::engine {

enum class TlsRead : uint8_t {
    Full,       // buf is full: read again
    Drained,    // the socket is empty (WANT_READ): wait for EPOLLIN
    WantWrite,  // OpenSSL must write first (handshake flight, key update): wait for EPOLLOUT, read again
    Closed,     // the peer closed (close_notify, EOF or reset)
    PlainHttp,  // the first bytes were an HTTP request in clear: the handshake failed
    Failed,     // the handshake or a record failed (garbage, no common cipher, bad MAC)
};

class TlsTransport {
public:
    static constexpr size_t kRecordBytes = 16384;  // the largest TLS plaintext record

    explicit TlsTransport(TlsStats& stats);
    ~TlsTransport();
    TlsTransport(const TlsTransport&) = delete;
    TlsTransport& operator=(const TlsTransport&) = delete;

    // A new connection on fd from ctx, as the server side. False if OpenSSL is out of memory.
    bool attach(uint32_t slot, int fd, SSL_CTX* ctx);
    // Frees the connection's SSL (sends nothing: close_notify() does).
    void release(uint32_t slot);

    // peer_hung_up: the event said EPOLLRDHUP/HUP: read to EOF (the short-read rule would stop
    // before it, and no new edge comes after a FIN).
    TlsRead read(uint32_t slot, uint8_t* buf, size_t cap, size_t* got, bool peer_hung_up = false);
    ssize_t write(uint32_t slot, const struct iovec* iov, int n);
    // Sends close_notify if the handshake finished (best effort: never blocks).
    void close_notify(uint32_t slot);

    bool established(uint32_t slot) const { return at(slot).flags & kEstablished; }
    // The handshake failed or the connection broke: only raw bytes to discard are left.
    bool failed(uint32_t slot) const { return at(slot).flags & kFailed; }
    bool read_wants_write(uint32_t slot) const { return at(slot).flags & kReadWantsWrite; }
    // A write waits for the peer's bytes (only possible mid-handshake; never in practice).
    bool write_wants_read(uint32_t slot) const { return at(slot).flags & kWriteWantsRead; }
    void clear_write_wants_read(uint32_t slot) { conns_[slot].flags &= static_cast<uint8_t>(~kWriteWantsRead); }
    // Plaintext bytes handed to a write that blocked: the next write must start with them.
    uint32_t committed(uint32_t slot) const { return slot < conns_.size() ? conns_[slot].committed : 0; }

private:
    enum : uint8_t { kEstablished = 1, kFailed = 2, kReadWantsWrite = 4, kWriteWantsRead = 8 };
    struct Conn {
        SSL* ssl = nullptr;
        uint32_t committed = 0;
        uint8_t flags = 0;
    };
    const Conn& at(uint32_t slot) const { return conns_[slot]; }
    TlsRead handshake(Conn& t);
    TlsRead read_records(Conn& t, uint8_t* buf, size_t cap, size_t* got);
    TlsRead fail(Conn& t, int ssl_error);

    TlsStats& stats_;
    std::vector<Conn> conns_;               // by connection slot
    std::unique_ptr<uint8_t[]> scratch_;    // one record of coalesced frames, shared by every connection
};

}  // namespace wspush::engine
