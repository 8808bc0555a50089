// TlsTransport's record layer for TLS 1.3 connections after the handshake (see tls_transport.h
// and tls13_records.h): reads open records in place in the loop's buffer, writes seal a batch
// of records and send them with one syscall.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/iov_cursor.h"
#include "engine/log.h"
#include "engine/tls13_connection.h"
#include "engine/tls13_records.h"
#include "engine/tls_transport.h"

namespace wspush::engine {

using namespace tls13;

namespace {

// The connection's AEAD lane (tls13::RecordCipher): its fd, unique among open connections.
uint32_t lane(const TlsTransport::Own& o) { return static_cast<uint32_t>(o.fd); }

// read(2) without EINTR; the rest as read(2).
ssize_t read_some(int fd, uint8_t* p, size_t n) {
    for (;;) {
        ssize_t r = ::read(fd, p, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

ssize_t send_some(int fd, const uint8_t* p, size_t n) {
    for (;;) {
        ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0 || errno != EINTR) return r;
    }
}

}  // namespace

// A fatal record error: tell the client why (best effort) and stop.
TlsRead TlsTransport::fail_own(Conn& t, uint8_t alert) {
    ++stats_.record_failures;
    send_alert(t, 2, alert);
    t.flags |= kFailed;
    return TlsRead::Failed;
}

// Sends an alert record if nothing else is half sent (a record cut in two cannot be followed).
void TlsTransport::send_alert(Conn& t, uint8_t level, uint8_t alert) {
    Own& o = *t.own;
    if (o.tail_len > o.tail_off && !send_tail(o)) return;
    const uint8_t body[2] = {level, alert};
    uint8_t rec[2 + kOverhead];
    size_t n = cipher_->seal(o.suite, o.tx, kAlert, body, 2, rec, lane(o));
    if (n > 0) (void)send_some(o.fd, rec, n);
}

// Opens one whole record (header at rec) and acts on it: application data is copied to out
// (*got += its length; out may overlap the record's own bytes from below).
TlsRead TlsTransport::take_record(Conn& t, uint8_t* rec, size_t ciphertext_len, uint8_t* out, size_t* got) {
    Own& o = *t.own;
    size_t plain = 0;
    if (!cipher_->open(o.suite, o.rx, rec, ciphertext_len, &plain, lane(o))) return fail_own(t, kBadRecordMac);
    const uint8_t* p = rec + kHeader;
    Inner in = parse_inner(p, plain);
    if (!in.ok) return fail_own(t, in.alert);
    switch (in.type) {
        case kApplicationData:
            memmove(out + *got, p, in.length);
            *got += in.length;
            return TlsRead::Full;
        case kAlert:
            // close_notify ends the client's side cleanly (we may still answer: RFC 8446 §6.1);
            // any other alert is the client's error report. Either way nothing more comes.
            if (in.length != 2) return fail_own(t, kDecodeError);
            t.flags |= p[1] == kCloseNotify ? kReadClosed : kFailed;
            return TlsRead::Closed;
        case kHandshake: {
            PostHandshake h = read_post_handshake(p, in.length);
            if (!h.ok) return fail_own(t, h.alert);
            ++stats_.key_updates;
            if (!next_generation(o.suite, &o.rx)) return fail_own(t, kUnexpectedMessage);
            o.update_owed |= h.update_requested;
            return TlsRead::Full;
        }
        default:  // change_cipher_spec after the handshake, or a type TLS does not define
            return fail_own(t, kUnexpectedMessage);
    }
}

TlsRead TlsTransport::read_own(Conn& t, uint8_t* buf, size_t cap, size_t* got, bool to_eof) {
    Own& o = *t.own;
    *got = 0;
    if (t.flags & kFailed) return TlsRead::Failed;
    if (t.flags & kReadClosed) return TlsRead::Closed;
    // With to_eof (the peer hung up) a short read does not mean "empty": read until EOF.
    for (;;) {
        // Room for one more whole record's plaintext, or the caller comes back (Full).
        if (cap - *got < kMaxRecord) return TlsRead::Full;
        // 1. A record begun in an earlier read: complete it with reads of exactly what it lacks.
        while (o.head_len > 0 || o.carry) {
            const bool in_head = !o.carry;
            uint8_t* dst = in_head ? o.head + o.head_len : o.carry + o.carry_len;
            const size_t need = in_head ? kHeader - o.head_len : o.carry_need - o.carry_len;
            ssize_t n = read_some(o.fd, dst, need);
            if (n == 0) {  // EOF inside a record: truncated
                t.flags |= kFailed;
                return TlsRead::Closed;
            }
            if (n < 0) return errno == EAGAIN ? TlsRead::Drained : TlsRead::Closed;
            if (in_head) {
                o.head_len = static_cast<uint8_t>(o.head_len + n);
                if (o.head_len < kHeader) {
                    if (!to_eof) return TlsRead::Drained;  // a short read: the socket is empty
                    continue;
                }
                Header h = parse_header(o.head);
                if (!h.ok) return fail_own(t, h.alert);
                o.carry = static_cast<uint8_t*>(malloc(kHeader + h.length));
                if (!o.carry) return fail_own(t, kUnexpectedMessage);
                memcpy(o.carry, o.head, kHeader);
                o.carry_len = kHeader;
                o.carry_need = static_cast<uint32_t>(kHeader + h.length);
                o.head_len = 0;
                continue;
            }
            o.carry_len += static_cast<uint32_t>(n);
            if (o.carry_len < o.carry_need) {
                if (!to_eof) return TlsRead::Drained;
                continue;
            }
            TlsRead r = take_record(t, o.carry, o.carry_need - kHeader, buf, got);
            free(o.carry);
            o.carry = nullptr;
            o.carry_len = o.carry_need = 0;
            if (r != TlsRead::Full) return r;
        }
        // 2. Whole records: one read of as much as fits after the plaintext so far; each record
        //    is opened in place and its plaintext packed down to buf + *got; a trailing partial
        //    record is carried to the next read.
        const size_t start = *got;
        ssize_t n = read_some(o.fd, buf + start, cap - start);
        if (n == 0) {  // a FIN between records: like a plaintext client's (no truncation possible)
            t.flags |= kReadClosed;
            return TlsRead::Closed;
        }
        if (n < 0) return errno == EAGAIN ? TlsRead::Drained : TlsRead::Closed;
        const size_t end = start + static_cast<size_t>(n);
        size_t r = start;
        while (end - r >= kHeader) {
            Header h = parse_header(buf + r);
            if (!h.ok) return fail_own(t, h.alert);
            if (end - r < kHeader + h.length) {  // partial: carried, at its exact size
                o.carry = static_cast<uint8_t*>(malloc(kHeader + h.length));
                if (!o.carry) return fail_own(t, kUnexpectedMessage);
                memcpy(o.carry, buf + r, end - r);
                o.carry_len = static_cast<uint32_t>(end - r);
                o.carry_need = static_cast<uint32_t>(kHeader + h.length);
                r = end;
                break;
            }
            TlsRead res = take_record(t, buf + r, h.length, buf, got);
            if (res != TlsRead::Full) return res;
            r += kHeader + h.length;
        }
        if (r < end) {  // less than a header
            memcpy(o.head, buf + r, end - r);
            o.head_len = static_cast<uint8_t>(end - r);
        }
        if (end == cap) return TlsRead::Full;      // the socket may hold more
        if (!to_eof) return TlsRead::Drained;      // a short read emptied it
    }
}

// The unsent rest of sealed records. True when all of it is out.
bool TlsTransport::send_tail(Own& o) {
    while (o.tail_off < o.tail_len) {
        ssize_t n = send_some(o.fd, o.tail + o.tail_off, o.tail_len - o.tail_off);
        if (n <= 0) return false;
        o.tail_off += static_cast<uint32_t>(n);
    }
    free(o.tail);
    o.tail = nullptr;
    o.tail_off = o.tail_len = 0;
    return true;
}

ssize_t TlsTransport::write_own(Conn& t, const struct iovec* iov, int n) {
    Own& o = *t.own;
    auto broken = [&]() -> ssize_t {  // the caller drops the connection
        t.flags |= kFailed;
        return -1;
    };
    size_t done = 0;
    IovCursor at{iov, n};
    at.advance(0);
    if (o.tail) {  // a record half sent: its plaintext is the first committed bytes passed again
        if (!send_tail(o)) {
            if (errno != EAGAIN) return broken();
            return 0;
        }
        done = t.committed;
        at.advance(t.committed);
        t.committed = 0;
    }
    uint8_t* out = scratch_.get();
    const size_t max_plain = o.max_plain;  // kMaxPlaintext unless the client asked for less
    static constexpr uint8_t kKeyUpdate[] = {24, 0, 0, 1, 0};  // update_not_requested
    static_assert(kBatchRecords * (kMaxPlaintext + 2 * kOverhead + sizeof kKeyUpdate) <= kBatchRecords * kMaxRecord,
                  "the scratch buffer holds a batch with a KeyUpdate before each record");
    // The keys before a batch, to take back records the socket does not take; wiped on every
    // way out (a copy of the traffic secret).
    struct WipedKeys {
        TrafficKeys k;
        ~WipedKeys() { wipe(&k); }
    };
    while (!at.at_end()) {
        // Seal up to kBatchRecords records into the scratch buffer.
        struct Sealed {
            size_t end;       // the record's end in out
            size_t plain;     // its plaintext bytes
            bool key_update;  // ours: the keys after it are the next generation
        } sealed[2 * kBatchRecords];
        int count = 0;
        size_t used = 0;
        const WipedKeys before{o.tx};
        const bool owed = o.update_owed;
        for (int k = 0; k < kBatchRecords && !at.at_end(); ++k) {
            // A KeyUpdate goes before our next data when the client asked for one (§4.6.3), or
            // as the last record these keys may seal (kRecordsPerKey, §5.5).
            if (o.update_owed || o.tx.seq + 1 >= records_per_key_) {
                size_t size = cipher_->seal(o.suite, o.tx, kHandshake, kKeyUpdate, sizeof kKeyUpdate, out + used, lane(o));
                if (size == 0 || !next_generation(o.suite, &o.tx)) return broken();
                o.update_owed = false;
                used += size;
                sealed[count++] = {used, 0, true};
            }
            uint8_t* rec = out + used;
            const uint8_t* src;
            size_t len;
            if (at.left_in_this() >= max_plain) {  // a large frame: sealed from where it lies
                src = at.here();
                len = max_plain;
            } else {  // small frames: gathered into the record's own place, sealed in place
                len = gather(at, rec + kHeader, max_plain);
                src = rec + kHeader;
            }
            size_t size = cipher_->seal(o.suite, o.tx, kApplicationData, src, len, rec, lane(o));
            if (size == 0) return broken();
            used += size;
            sealed[count++] = {used, len, false};
            at.advance(len);
        }
        ssize_t s = send_some(o.fd, out, used);
        if (s < 0 && errno != EAGAIN) return broken();
        const size_t sent = s < 0 ? 0 : static_cast<size_t>(s);
        if (sent == used) {
            for (int k = 0; k < count; ++k) done += sealed[k].plain;
            continue;
        }
        // The socket took part: whole records count, the one it cut keeps its rest in the tail
        // (its plaintext stays committed), and records not begun are taken back. Their
        // sequence numbers are used again for other bytes, safely: nobody saw them sealed.
        size_t begin = 0;
        for (int k = 0; k < count; ++k) {
            if (sealed[k].end <= sent) {
                done += sealed[k].plain;
                begin = sealed[k].end;
                continue;
            }
            if (begin < sent) {  // cut
                o.tail_len = static_cast<uint32_t>(sealed[k].end - sent);
                o.tail = static_cast<uint8_t*>(malloc(o.tail_len));
                if (!o.tail) return broken();
                memcpy(o.tail, out + sent, o.tail_len);
                o.tail_off = 0;
                t.committed = static_cast<uint32_t>(sealed[k].plain);
                ++k;
            }
            // Records k.. were not begun: back to the keys and sequence number before them,
            // then forward over the records that count (a KeyUpdate among them moves the keys).
            o.tx = before.k;
            o.update_owed = owed;
            for (int j = 0; j < k; ++j) {
                if (sealed[j].key_update) {
                    o.update_owed = false;
                    if (!next_generation(o.suite, &o.tx)) return broken();
                } else {
                    ++o.tx.seq;
                }
            }
            break;
        }
        return static_cast<ssize_t>(done);
    }
    return static_cast<ssize_t>(done);
}

}  // namespace wspush::engine
