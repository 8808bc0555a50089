// TlsTransport: the TLS side of the connections accepted on TLS listeners, non-blocking, for
// one edge-triggered loop. The Server calls it from its read and flush paths only; everything
// above the engine sees plaintext and never knows a socket is encrypted.
//
// State lives in a side table indexed by connection slot (24 bytes a slot, only in a server
// with a TLS listener), so a plaintext Connection stays 120 bytes. OpenSSL does the handshake,
// reading and writing the socket through a small BIO of ours (tls_transport.cpp).
//
// After a TLS 1.3 handshake (own_records, the default) the connection leaves OpenSSL: its
// traffic secrets (from OpenSSL's key-log callback) and record sequence numbers (counted by its
// message callback) go to our record layer (tls13_records.h, ~300 bytes a connection) and the
// SSL object (~14 KB) is freed. Records are then read with one read(2) into the loop's buffer
// and opened in place; writes seal up to kBatchRecords records into one buffer and send them
// with one send(2). TLS 1.2 connections stay on OpenSSL's record layer (read-ahead; one
// SSL_write per 16 KiB record).
//
// Return contracts:
//   read():  fills buf with up to cap bytes of plaintext (*got), driving the handshake first,
//            and says why it stopped (TlsRead). With edge-triggered epoll, Drained is the only
//            state in which waiting for EPOLLIN is safe; Full means "call again". On our
//            layer cap must hold a whole record (tls13::kMaxRecord, 16645 bytes; the server's
//            buffer is 256 KiB): with less, read() would say Full for ever without progress.
//   write(): sends the iovecs' bytes as TLS records; returns the plaintext bytes taken, which is
//            less than their total when the socket (or the peer) blocked, or -1 on a fatal error.
//            Frames are coalesced into records of up to 16 KiB, whatever the number of frames.
//            A write that blocks mid-record keeps that record's unsent bytes (OpenSSL's buffer,
//            or ours); the retry passes the same plaintext again (the queue keeps it:
//            committed() says how many bytes must stay), and it is not sealed twice. Records
//            sealed but not started are taken back (their sequence numbers reused: their
//            ciphertext never left the process).
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

namespace tls13 {
class RecordCipher;
}
struct IovCursor;
// Copies up to cap bytes of the frames from at's position into out; returns how many.
size_t gather(const IovCursor& at, uint8_t* out, size_t cap);

class TlsTransport {
public:
    static constexpr size_t kRecordBytes = 16384;  // the largest TLS plaintext record

    static constexpr int kBatchRecords = 4;     // sealed per send(2) on our record layer
    // AEAD contexts per direction, shared by connections by fd (tls13::RecordCipher): up to
    // this many busy connections keep theirs between records; at most 2 x 1024 x 1168 B.
    static constexpr size_t kCipherLanes = 1024;
    // RFC 8446 §5.5: AES-GCM seals about 2^24.5 full records under one key within a 2^-57
    // safety margin, and implementations SHOULD update their keys before such limits. On our
    // layer a key seals at most this many records, its last one a KeyUpdate (update_not_requested):
    // a push stream of small messages reaches it (one record a message) after 16.7 M messages.
    // OpenSSL's layer (TLS 1.2, --tls-records openssl) never updates by itself.
    static constexpr uint64_t kRecordsPerKey = uint64_t(1) << 24;

    // own_records: TLS 1.3 connections move to our record layer after the handshake.
    // records_per_key: kRecordsPerKey but in tests (at least 2).
    explicit TlsTransport(TlsStats& stats, bool own_records = true, uint64_t records_per_key = kRecordsPerKey);
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
    // On our record layer (the SSL object is gone).
    bool own_records(uint32_t slot) const { return at(slot).flags & kOwn; }
    // The handshake failed or the connection broke: only raw bytes to discard are left.
    bool failed(uint32_t slot) const { return at(slot).flags & kFailed; }
    // read() said Closed because the client ended its side cleanly (close_notify, or a FIN
    // between records): answers already queued can still be written (a TLS half-close).
    bool peer_closed_cleanly(uint32_t slot) const { return (at(slot).flags & (kReadClosed | kFailed)) == kReadClosed; }
    bool read_wants_write(uint32_t slot) const { return at(slot).flags & kReadWantsWrite; }
    // A write waits for the peer's bytes (only possible mid-handshake; never in practice).
    bool write_wants_read(uint32_t slot) const { return at(slot).flags & kWriteWantsRead; }
    void clear_write_wants_read(uint32_t slot) { conns_[slot].flags &= static_cast<uint8_t>(~kWriteWantsRead); }
    // Plaintext bytes handed to a write that blocked: the next write must start with them.
    uint32_t committed(uint32_t slot) const { return slot < conns_.size() ? conns_[slot].committed : 0; }

    struct Own;  // a connection on our record layer (tls13_connection.h; public for OpenSSL's callbacks)

private:
    enum : uint8_t {
        kEstablished = 1,
        kFailed = 2,
        kReadWantsWrite = 4,
        kWriteWantsRead = 8,
        kOwn = 16,
        kReadClosed = 32,  // our layer: the client's close_notify or FIN between records; we may still write
    };
    struct Conn {
        SSL* ssl = nullptr;  // the handshake, and TLS 1.2's records
        Own* own = nullptr;  // from attach: the secrets being collected; after kOwn: the records
        uint32_t committed = 0;
        uint8_t flags = 0;
    };
    const Conn& at(uint32_t slot) const { return conns_[slot]; }
    TlsRead handshake(Conn& t);
    bool hand_over(Conn& t);
    TlsRead read_records(Conn& t, uint8_t* buf, size_t cap, size_t* got);
    TlsRead fail(Conn& t, int ssl_error);
    void free_own(Conn& t);
    ssize_t write_openssl(Conn& t, const struct iovec* iov, int n);
    // Our record layer (tls_transport_own.cpp).
    TlsRead read_own(Conn& t, uint8_t* buf, size_t cap, size_t* got, bool to_eof);
    TlsRead take_record(Conn& t, uint8_t* rec, size_t ciphertext_len, uint8_t* out, size_t* got);
    TlsRead fail_own(Conn& t, uint8_t alert);
    ssize_t write_own(Conn& t, const struct iovec* iov, int n);
    bool send_tail(Own& o);
    void send_alert(Conn& t, uint8_t level, uint8_t alert);

    TlsStats& stats_;
    const bool own_records_;
    const uint64_t records_per_key_;
    std::vector<Conn> conns_;               // by connection slot
    std::unique_ptr<uint8_t[]> scratch_;    // kBatchRecords sealed records (or OpenSSL's one), shared
    std::unique_ptr<tls13::RecordCipher> cipher_;
};

}  // namespace wspush::engine
