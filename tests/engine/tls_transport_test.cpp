// TlsTransport against an OpenSSL client over a socketpair: the record coalescing, the blocked
// write's retry contract and the read draining that the edge-triggered loop relies on, on both
// record layers (ours after a TLS 1.3 handshake, and OpenSSL's); then what only ours does:
// KeyUpdate, the three suites, records cut anywhere, and hostile records.
#include "engine/tls_transport.h"
#include "tests/engine/self_signed.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/tls13_records.h"

using wspush::engine::TlsRead;
using wspush::engine::TlsStats;
using wspush::engine::TlsTransport;

namespace {

SSL_CTX* server_ctx() {
    SSL_CTX* ctx = wspush::test::self_signed_server_ctx();
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    return ctx;
}

// Both sides' handshake steps in turn until both are done (at most 20 rounds); returns the
// plaintext bytes the server read meanwhile.
size_t drive_handshake(TlsTransport& server, uint32_t slot, SSL* client, uint8_t* buf, size_t cap) {
    size_t total = 0;
    for (int i = 0; i < 20 && !(server.established(slot) && SSL_is_init_finished(client)); ++i) {
        SSL_do_handshake(client);
        size_t got = 0;
        server.read(slot, buf, cap, &got);
        total += got;
    }
    return total;
}

// Everything the client can decrypt now.
std::string read_available(SSL* client) {
    std::string out;
    char b[65536];
    size_t n = 0;
    while (SSL_read_ex(client, b, sizeof b, &n) == 1) out.append(b, n);
    return out;
}

struct Pair {
    TlsStats stats;
    TlsTransport server;
    SSL_CTX* sctx = server_ctx();
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL* client = nullptr;
    int sfd = -1, cfd = -1;
    uint8_t buf[256 * 1024];

    // own: the server's TLS 1.3 records on our layer; setup adjusts the client before it connects.
    // server_setup adjusts the server's context before the connection is accepted.
    explicit Pair(bool own = true, void (*setup)(SSL_CTX*, SSL*) = nullptr, SSL_SESSION* resume = nullptr,
                  void (*server_setup)(SSL_CTX*) = nullptr)
        : server(stats, own) {
        if (server_setup) server_setup(sctx);
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
        sfd = sv[0];
        cfd = sv[1];
        EXPECT_TRUE(server.attach(7, sfd, sctx));
        SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, nullptr);
        client = SSL_new(cctx);
        if (setup) setup(cctx, client);
        if (resume) SSL_set_session(client, resume);
        SSL_set_fd(client, cfd);
        SSL_set_connect_state(client);
        drive_handshake(server, 7, client, buf, sizeof buf);
        EXPECT_TRUE(server.established(7));
        EXPECT_EQ(stats.handshakes, 1u);
        EXPECT_EQ(server.own_records(7), own && SSL_version(client) == TLS1_3_VERSION);
    }
    ~Pair() {
        server.release(7);
        SSL_free(client);
        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
        close(sfd);
        close(cfd);
    }
    std::string client_reads() { return read_available(client); }
};

std::vector<iovec> iovecs(std::vector<std::string>& parts) {
    std::vector<iovec> v;
    for (auto& p : parts) v.push_back({p.data(), p.size()});
    return v;
}

class BothLayers : public ::testing::TestWithParam<bool> {};

}  // namespace

INSTANTIATE_TEST_SUITE_P(TlsTransport, BothLayers, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& i) { return std::string(i.param ? "Ours" : "OpenSsl"); });

TEST_P(BothLayers, CoalescesQueuedFramesIntoOneRecord) {
    Pair p(GetParam());
    std::string junk = p.client_reads();  // the session ticket
    std::vector<std::string> parts;
    for (int i = 0; i < 100; ++i) parts.push_back(std::string(50, char('a' + i % 26)));
    auto iov = iovecs(parts);
    ASSERT_EQ(p.server.write(7, iov.data(), int(iov.size())), 5000);
    // On the wire: one application-data record (5 header + 5000 + type byte + 16 tag).
    uint8_t wire[8192];
    ssize_t n = recv(p.cfd, wire, sizeof wire, MSG_PEEK);
    ASSERT_EQ(n, 5 + 5000 + 1 + 16);
    EXPECT_EQ(wire[0], 23);  // application_data
    std::string all;
    for (auto& s : parts) all += s;
    EXPECT_EQ(p.client_reads(), all);
}

TEST_P(BothLayers, SplitsLargeOutputIntoFullRecords) {
    Pair p(GetParam());
    p.client_reads();
    std::vector<std::string> parts{std::string(40000, 'x'), std::string(10, 'y')};
    auto iov = iovecs(parts);
    ASSERT_EQ(p.server.write(7, iov.data(), 2), 40010);
    EXPECT_EQ(p.client_reads(), parts[0] + parts[1]);
}

TEST_P(BothLayers, BlockedWriteKeepsItsBytesCommittedUntilRetried) {
    Pair p(GetParam());
    p.client_reads();
    int small = 4096;
    setsockopt(p.sfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    std::string sent;
    std::string payload(16384 * 4, 'q');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char('A' + i % 50);
    // Write until the socket blocks; the stream so far is what the queue would have consumed.
    size_t offset = 0;
    uint32_t committed = 0;
    for (int round = 0; round < 100 && committed == 0; ++round) {
        iovec v{payload.data() + offset % payload.size(), payload.size() - offset % payload.size()};
        ssize_t w = p.server.write(7, &v, 1);
        ASSERT_GE(w, 0);
        sent.append(payload.data() + offset % payload.size(), size_t(w));
        offset += size_t(w);
        committed = p.server.committed(7);
    }
    ASSERT_GT(committed, 0u);  // a record is half in the socket, half in OpenSSL
    // The client reads; the retry passes the same bytes again (and more) and completes.
    std::string got;
    iovec v{payload.data() + offset % payload.size(), payload.size() - offset % payload.size()};
    ssize_t w = 0;
    for (int i = 0; i < 1000 && w == 0; ++i) {
        got += p.client_reads();
        w = p.server.write(7, &v, 1);  // 0: still blocked, the record not yet all out
    }
    ASSERT_GE(w, ssize_t(committed));
    sent.append(payload.data() + offset % payload.size(), size_t(w));
    for (int i = 0; i < 100 && got.size() < sent.size(); ++i) got += p.client_reads();
    EXPECT_EQ(got, sent);
}

TEST_P(BothLayers, ReadFillsTheBufferThenReportsDrained) {
    Pair p(GetParam());
    SSL_set_mode(p.client, SSL_MODE_ENABLE_PARTIAL_WRITE);
    std::string data(150000, 'm');
    size_t n = 0, sent = 0;
    while (sent < data.size() && SSL_write_ex(p.client, data.data() + sent, data.size() - sent, &n) == 1) sent += n;
    ASSERT_GT(sent, 65536u);
    size_t total = 0, got = 0;
    TlsRead r;
    int fulls = 0;
    do {
        r = p.server.read(7, p.buf, 65536, &got);  // a read buffer smaller than what is waiting
        total += got;
        fulls += r == TlsRead::Full;
    } while (r == TlsRead::Full);
    EXPECT_EQ(r, TlsRead::Drained);
    EXPECT_EQ(total, sent);  // everything the socket held, not just the first record
    EXPECT_GE(fulls, 1);
}

TEST_P(BothLayers, PeerCloseIsClosed) {
    Pair p(GetParam());
    SSL_shutdown(p.client);
    size_t got = 0;
    EXPECT_EQ(p.server.read(7, p.buf, sizeof p.buf, &got), TlsRead::Closed);
}

// ---- our record layer only

namespace {

// Everything the server can read now, as one string (and the last read's result).
std::string server_reads(Pair& p, TlsRead* last = nullptr, size_t cap = 65536) {
    std::string out;
    TlsRead r;
    do {
        size_t got = 0;
        r = p.server.read(7, p.buf, cap, &got);
        out.append(reinterpret_cast<char*>(p.buf), got);
    } while (r == TlsRead::Full);
    if (last) *last = r;
    return out;
}

ssize_t server_writes(Pair& p, const std::string& s) {
    iovec v{const_cast<char*>(s.data()), s.size()};
    return p.server.write(7, &v, 1);
}

void client_writes(Pair& p, const std::string& s) {
    size_t n = 0;
    ASSERT_EQ(SSL_write_ex(p.client, s.data(), s.size(), &n), 1);
    ASSERT_EQ(n, s.size());
}

}  // namespace

TEST(TlsTransportOwn, ClientKeyUpdateRotatesBothDirections) {
    Pair p;
    p.client_reads();
    client_writes(p, "before");
    EXPECT_EQ(server_reads(p), "before");
    // The client moves to its next keys and asks us to move too.
    ASSERT_EQ(SSL_key_update(p.client, SSL_KEY_UPDATE_REQUESTED), 1);
    client_writes(p, "after");  // sends the KeyUpdate, then data under the new keys
    EXPECT_EQ(server_reads(p), "after");
    EXPECT_EQ(p.stats.key_updates, 1u);
    // Our next data goes after our own KeyUpdate, under our next keys: the client reads it.
    ASSERT_EQ(server_writes(p, "reply"), 5);
    EXPECT_EQ(p.client_reads(), "reply");
    EXPECT_EQ(SSL_get_key_update_type(p.client), SSL_KEY_UPDATE_NONE);  // its request was answered
    // Again, without a request: only the client's keys move.
    ASSERT_EQ(SSL_key_update(p.client, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
    client_writes(p, "third");
    EXPECT_EQ(server_reads(p), "third");
    ASSERT_EQ(server_writes(p, "fourth"), 6);
    EXPECT_EQ(p.client_reads(), "fourth");
    EXPECT_EQ(p.stats.key_updates, 2u);
    EXPECT_EQ(p.stats.record_failures, 0u);
}

class EverySuite : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(TlsTransportOwn, EverySuite,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

TEST_P(EverySuite, RoundTripsAndKeyUpdates) {
    static const char* suite;
    suite = GetParam();
    Pair p(true, [](SSL_CTX*, SSL* c) { SSL_set_ciphersuites(c, suite); });
    ASSERT_STREQ(SSL_CIPHER_get_name(SSL_get_current_cipher(p.client)), suite);
    p.client_reads();
    std::string big(100000, 'b');
    for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7);
    ASSERT_EQ(server_writes(p, big), ssize_t(big.size()));
    std::string got;
    for (int i = 0; i < 100 && got.size() < big.size(); ++i) got += p.client_reads();
    EXPECT_EQ(got, big);
    ASSERT_EQ(SSL_key_update(p.client, SSL_KEY_UPDATE_REQUESTED), 1);
    client_writes(p, "x");
    EXPECT_EQ(server_reads(p), "x");
    ASSERT_EQ(server_writes(p, "y"), 1);
    EXPECT_EQ(p.client_reads(), "y");
}

TEST(TlsTransportOwn, TlsTwelveStaysWithOpenSsl) {
    Pair p(true, [](SSL_CTX*, SSL* c) { SSL_set_max_proto_version(c, TLS1_2_VERSION); });
    EXPECT_FALSE(p.server.own_records(7));
    EXPECT_EQ(p.stats.own_records, 0u);
    client_writes(p, "hello");
    EXPECT_EQ(server_reads(p), "hello");
}

namespace {

// A session ticket from a first full handshake, and the server context that can resume it
// (the ticket is sealed with that context's keys).
struct Ticket {
    SSL_SESSION* session = nullptr;
    SSL_CTX* sctx = nullptr;
    Ticket() {
        Pair first;
        first.client_reads();  // the ticket
        session = SSL_get1_session(first.client);
        sctx = first.sctx;
        SSL_CTX_up_ref(sctx);
        SSL_shutdown(first.client);  // freed without it, OpenSSL marks the session not resumable
    }
    ~Ticket() {
        SSL_SESSION_free(session);
        SSL_CTX_free(sctx);
    }
};

// A server slot on our record layer and an OpenSSL client over a socketpair, driven step by
// step by the test (Pair does the whole handshake at once).
struct Stepped {
    TlsStats stats;
    TlsTransport server{stats, true};
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL* client = nullptr;
    int sv[2] = {-1, -1};
    uint32_t slot;
    uint8_t buf[256 * 1024];

    Stepped(SSL_CTX* sctx, uint32_t s, SSL_SESSION* resume = nullptr) : slot(s) {
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        EXPECT_TRUE(server.attach(slot, sv[0], sctx));
        client = SSL_new(cctx);
        SSL_set_fd(client, sv[1]);
        if (resume) SSL_set_session(client, resume);
        SSL_set_connect_state(client);
    }
    ~Stepped() {
        server.release(slot);
        SSL_free(client);
        SSL_CTX_free(cctx);
        close(sv[0]);
        close(sv[1]);
    }
    // Both sides' handshake steps in turn until both are done; the server reads no plaintext.
    void handshake() { EXPECT_EQ(drive_handshake(server, slot, client, buf, sizeof buf), 0u); }
    // The client's msg reaches the server, and the server's "ok" the client.
    void round_trip(const std::string& msg) {
        size_t n = 0;
        ASSERT_EQ(SSL_write_ex(client, msg.data(), msg.size(), &n), 1);
        std::string got;
        TlsRead r;
        do {
            size_t k = 0;
            r = server.read(slot, buf, sizeof buf, &k);
            got.append(reinterpret_cast<char*>(buf), k);
        } while (r == TlsRead::Full);
        EXPECT_EQ(got, msg);
        iovec v{const_cast<char*>("ok"), 2};
        ASSERT_EQ(server.write(slot, &v, 1), 2);
        char b[64];
        for (int i = 0; i < 5 && SSL_read_ex(client, b, sizeof b, &n) != 1; ++i) {
        }
        EXPECT_EQ(std::string(b, n), "ok");
    }
};

}  // namespace

TEST(TlsTransportOwn, ResumedSessionIsHandedOverToo) {
    Ticket ticket;
    ASSERT_TRUE(SSL_SESSION_is_resumable(ticket.session));
    Stepped c(ticket.sctx, 3, ticket.session);
    c.handshake();
    EXPECT_TRUE(SSL_session_reused(c.client));
    EXPECT_EQ(c.stats.resumed, 1u);
    EXPECT_TRUE(c.server.own_records(3));
    c.round_trip("resumed");
}

// The client's records reach the server cut at every possible place: a byte at a time.
TEST(TlsTransportOwn, RecordsArrivingAByteAtATime) {
    Pair p;
    p.client_reads();
    // Capture the client's records from the socket instead of letting the server read them.
    std::string expect;
    for (int i = 0; i < 3; ++i) {
        std::string part(i == 1 ? 20000 : 300, char('0' + i));
        expect += part;
        client_writes(p, part);
    }
    std::string wire(70000, '\0');
    ssize_t n = recv(p.sfd, wire.data(), wire.size(), 0);
    ASSERT_GT(n, 0);
    wire.resize(size_t(n));
    // Feed them back through a second socketpair whose server end the transport reads.
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    ASSERT_EQ(dup2(sv[0], p.sfd), p.sfd);
    std::string got;
    for (size_t i = 0; i < wire.size(); ++i) {
        ASSERT_EQ(send(sv[1], wire.data() + i, 1, 0), 1);
        TlsRead r;
        got += server_reads(p, &r);
        ASSERT_EQ(r, TlsRead::Drained) << "at byte " << i;
    }
    EXPECT_EQ(got, expect);
    close(sv[0]);
    close(sv[1]);
}

namespace {

// Replaces the client's next record on the wire with what mangle makes of it, and returns
// what the server's read says.
TlsRead server_reads_mangled(Pair& p, void (*mangle)(std::string&), const std::string& delivered = "") {
    client_writes(p, "payload");
    std::string wire(4096, '\0');
    ssize_t n = recv(p.sfd, wire.data(), wire.size(), 0);
    EXPECT_GT(n, 0);
    wire.resize(size_t(std::max<ssize_t>(n, 0)));
    mangle(wire);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    dup2(sv[0], p.sfd);
    close(sv[0]);
    send(sv[1], wire.data(), wire.size(), 0);
    TlsRead r;
    std::string got = server_reads(p, &r);
    EXPECT_EQ(got, delivered);  // nothing of a bad record is delivered
    p.cfd = dup2(sv[1], p.cfd);
    close(sv[1]);
    return r;
}

}  // namespace

TEST(TlsTransportOwn, TamperedRecordFailsWithoutDelivering) {
    Pair p;
    EXPECT_EQ(server_reads_mangled(p, [](std::string& w) { w[10] ^= 1; }), TlsRead::Failed);
    EXPECT_EQ(p.stats.record_failures, 1u);
    EXPECT_TRUE(p.server.failed(7));
    EXPECT_EQ(server_writes(p, "more"), 4);  // a failed connection's queue is only emptied
}

TEST(TlsTransportOwn, ReplayedRecordFails) {
    Pair p;
    EXPECT_EQ(server_reads_mangled(p, [](std::string& w) { w += w; }, "payload"), TlsRead::Failed);
    EXPECT_EQ(p.stats.record_failures, 1u);
}

TEST(TlsTransportOwn, ClearRecordTypesAfterTheHandshakeFail) {
    for (uint8_t type : {20, 21, 22, 24, 0}) {
        Pair p;
        static uint8_t t;
        t = type;
        EXPECT_EQ(server_reads_mangled(p, [](std::string& w) { w[0] = char(t); }), TlsRead::Failed) << int(type);
    }
}

TEST(TlsTransportOwn, OversizedAndUndersizedLengthsFail) {
    {
        Pair p;  // 2^14 + 257: record_overflow, refused before a byte of it is buffered
        EXPECT_EQ(server_reads_mangled(p, [](std::string& w) { w[3] = 0x41, w[4] = 0x01; }), TlsRead::Failed);
    }
    {
        Pair p;  // shorter than a tag
        EXPECT_EQ(server_reads_mangled(p, [](std::string& w) { w[3] = 0, w[4] = 16; }), TlsRead::Failed);
    }
}

TEST(TlsTransportOwn, TruncatedRecordAtEofIsClosed) {
    Pair p;
    EXPECT_EQ(server_reads_mangled(p, [](std::string& w) { w.resize(w.size() - 3); }), TlsRead::Drained);
    shutdown(p.cfd, SHUT_WR);
    size_t got = 0;
    EXPECT_EQ(p.server.read(7, p.buf, sizeof p.buf, &got, true), TlsRead::Closed);
    EXPECT_EQ(got, 0u);
}

TEST(TlsTransportOwn, CloseNotifyReachesTheClient) {
    Pair p;
    p.client_reads();
    p.server.close_notify(7);
    char b[16];
    size_t n = 0;
    EXPECT_EQ(SSL_read_ex(p.client, b, sizeof b, &n), 0);
    EXPECT_EQ(SSL_get_error(p.client, 0), SSL_ERROR_ZERO_RETURN);
}

// ---- records a hostile (or merely unusual) client seals itself, with the client's own keys

namespace {

namespace tls13 = wspush::engine::tls13;

std::string g_client_secret;  // hex, from the client's key-log callback

void client_keylog(const SSL*, const char* line) {
    static constexpr char kLabel[] = "CLIENT_TRAFFIC_SECRET_0 ";
    if (strncmp(line, kLabel, sizeof kLabel - 1) != 0) return;
    const char* sp = strchr(line + sizeof kLabel - 1, ' ');
    if (sp) g_client_secret = sp + 1;
}

// A client on TLS_AES_128_GCM_SHA256 whose application keys the test knows: records sealed
// with keys (starting at sequence number 0: the client has sent no application record yet)
// and written straight to the socket are what a client of our own making would send.
struct CraftingPair : Pair {
    tls13::TrafficKeys keys;
    tls13::RecordCipher cipher;
    CraftingPair()
        : Pair(true, [](SSL_CTX* c, SSL* s) {
              g_client_secret.clear();
              SSL_CTX_set_keylog_callback(c, client_keylog);
              SSL_set_ciphersuites(s, "TLS_AES_128_GCM_SHA256");
          }) {
        uint8_t secret[32];
        EXPECT_EQ(g_client_secret.size(), 64u);
        for (size_t i = 0; i < 32 && i * 2 + 1 < g_client_secret.size(); ++i)
            secret[i] = uint8_t(std::stoi(g_client_secret.substr(i * 2, 2), nullptr, 16));
        EXPECT_TRUE(tls13::derive_keys(tls13::Suite::Aes128Gcm, secret, &keys));
    }
    // Seals inner (the whole TLSInnerPlaintext: content, type, padding) as one record.
    std::string seal_inner(const std::string& inner) {
        std::string rec(inner.size() + tls13::kOverhead, '\0');
        // seal() appends the type byte: pass all but inner's last byte, and that byte as the type.
        size_t n = cipher.seal(tls13::Suite::Aes128Gcm, keys, uint8_t(inner.back()),
                               reinterpret_cast<const uint8_t*>(inner.data()), inner.size() - 1,
                               reinterpret_cast<uint8_t*>(rec.data()));
        EXPECT_EQ(n, rec.size() - 1);
        rec.resize(n);
        return rec;
    }
    void send_raw(const std::string& wire) {
        size_t off = 0;
        while (off < wire.size()) {
            ssize_t n = send(cfd, wire.data() + off, wire.size() - off, 0);
            ASSERT_GT(n, 0);
            off += size_t(n);
        }
    }
};

std::string inner(const std::string& content, uint8_t type, size_t zeros) {
    return content + char(type) + std::string(zeros, '\0');
}

}  // namespace

TEST(TlsTransportOwn, CraftedRecordsAreReadLikeTheClientLibrarys) {
    CraftingPair p;
    p.client_reads();
    p.send_raw(p.seal_inner(inner("crafted", 23, 0)));
    EXPECT_EQ(server_reads(p), "crafted");
}

// RFC 8446 §5.2/§5.4: records of zero-length content are legal, and padding is zeros after the
// type; neither is delivered.
TEST(TlsTransportOwn, EmptyAndPaddedRecordsAreAccepted) {
    CraftingPair p;
    p.client_reads();
    std::string wire;
    for (int i = 0; i < 50; ++i) wire += p.seal_inner(inner("", 23, 0));
    wire += p.seal_inner(inner("ab", 23, 300));
    wire += p.seal_inner(inner("", 23, 1000));
    wire += p.seal_inner(inner(std::string(16384, 'f'), 23, 0));  // the largest: 2^14 + 1 inner bytes
    wire += p.seal_inner(inner("cd", 23, 0));
    p.send_raw(wire);
    TlsRead r;
    EXPECT_EQ(server_reads(p, &r), "ab" + std::string(16384, 'f') + "cd");
    EXPECT_EQ(r, TlsRead::Drained);
    EXPECT_EQ(p.stats.record_failures, 0u);
}

// §5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1 octets", padding included;
// a longer one is record_overflow, even when its content alone would fit.
TEST(TlsTransportOwn, InnerPlaintextOverTwoToTheFourteenPlusOneIsRecordOverflow) {
    {
        CraftingPair p;
        p.client_reads();
        p.send_raw(p.seal_inner(inner(std::string(16384, 'p'), 23, 1)));
        TlsRead r;
        EXPECT_EQ(server_reads(p, &r).size(), 0u);
        EXPECT_EQ(r, TlsRead::Failed);
        EXPECT_EQ(p.stats.record_failures, 1u);
    }
    {
        CraftingPair p;
        p.client_reads();
        p.send_raw(p.seal_inner(inner("short", 23, 16384)));
        TlsRead r;
        EXPECT_EQ(server_reads(p, &r).size(), 0u);
        EXPECT_EQ(r, TlsRead::Failed);
    }
    tls13::Inner in;
    std::string exact = inner(std::string(16384, 'x'), 23, 0);
    in = tls13::parse_inner(reinterpret_cast<const uint8_t*>(exact.data()), exact.size());
    EXPECT_TRUE(in.ok);
    std::string over = inner("x", 23, 16384);
    in = tls13::parse_inner(reinterpret_cast<const uint8_t*>(over.data()), over.size());
    EXPECT_FALSE(in.ok);
    EXPECT_EQ(in.alert, tls13::kRecordOverflow);
}

// A record of only zeros has no content type: unexpected_message (§5.4).
TEST(TlsTransportOwn, AllZeroInnerPlaintextFails) {
    CraftingPair p;
    p.client_reads();
    p.send_raw(p.seal_inner(std::string(20, '\0')));
    TlsRead r;
    EXPECT_EQ(server_reads(p, &r), "");
    EXPECT_EQ(r, TlsRead::Failed);
}

// A client that offers a key share for a group we do not take gets a HelloRetryRequest; the
// second ClientHello, the CCS records of the middlebox mode and the two flights do not disturb
// the record counts.
TEST(TlsTransportOwn, HelloRetryRequestHandshakeIsHandedOver) {
    static int server_hellos;
    server_hellos = 0;
    Pair p(true,
           [](SSL_CTX*, SSL* c) {
               SSL_set1_groups_list(c, "X448:P-256");
               SSL_set_msg_callback(c, [](int write_p, int, int type, const void* b, size_t len, SSL*, void*) {
                   if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 && *static_cast<const uint8_t*>(b) == 2)
                       ++server_hellos;  // a HelloRetryRequest is a ServerHello too
               });
           },
           nullptr, [](SSL_CTX* s) { SSL_CTX_set1_groups_list(s, "X25519:P-256:P-384"); });
    EXPECT_EQ(server_hellos, 2);
    ASSERT_TRUE(p.server.own_records(7));
    EXPECT_EQ(SSL_get_negotiated_group(p.client), NID_X9_62_prime256v1);
    p.client_reads();
    client_writes(p, "after a retry");
    EXPECT_EQ(server_reads(p), "after a retry");
    ASSERT_EQ(server_writes(p, "answer"), 6);
    EXPECT_EQ(p.client_reads(), "answer");
}

// A client may send application data right behind its Finished, before reading anything of
// ours: those records are in the socket when the handshake ends and reach our layer.
TEST(TlsTransportOwn, ApplicationDataInTheFinishedFlightIsDelivered) {
    SSL_CTX* sctx = server_ctx();
    {
        Stepped c(sctx, 1);
        size_t got = 0;
        EXPECT_NE(SSL_do_handshake(c.client), 1);                              // ClientHello
        EXPECT_EQ(c.server.read(1, c.buf, sizeof c.buf, &got), TlsRead::Drained);  // our flight
        ASSERT_EQ(SSL_do_handshake(c.client), 1);                              // its Finished
        c.round_trip(std::string(40000, 'F'));  // written before our ticket was read
        EXPECT_TRUE(c.server.own_records(1));
    }
    SSL_CTX_free(sctx);
}

// ---- the key usage limit (RFC 8446 §5.5): our keys seal at most records_per_key records

namespace {

// What the client saw of our records: how many came under each generation of our keys.
struct Generations {
    std::vector<int> records{0};  // per generation; the last one still open
    static void on_message(int write_p, int, int type, const void* b, size_t len, SSL*, void* arg) {
        auto* g = static_cast<Generations*>(arg);
        if (write_p) return;
        if (type == SSL3_RT_HEADER) ++g->records.back();
        if (type == SSL3_RT_HANDSHAKE && len > 0 && *static_cast<const uint8_t*>(b) == 24) g->records.push_back(0);
    }
};

// A TLS 1.3 connection to a server whose keys seal at most limit records.
struct LimitedPair {
    TlsStats stats;
    TlsTransport server;
    SSL_CTX* sctx = server_ctx();
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL* client;
    int sv[2];
    Generations seen;
    uint8_t buf[65536];
    explicit LimitedPair(uint64_t limit) : server(stats, true, limit) {
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        EXPECT_TRUE(server.attach(2, sv[0], sctx));
        client = SSL_new(cctx);
        SSL_set_fd(client, sv[1]);
        SSL_set_connect_state(client);
        drive_handshake(server, 2, client, buf, sizeof buf);
        EXPECT_TRUE(server.own_records(2));
        // Counting starts with the first record under our application keys (the ticket).
        SSL_set_msg_callback(client, Generations::on_message);
        SSL_set_msg_callback_arg(client, &seen);
    }
    ~LimitedPair() {
        server.release(2);
        SSL_free(client);
        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
        close(sv[0]);
        close(sv[1]);
    }
    std::string client_reads() { return read_available(client); }
};

}  // namespace

TEST(TlsTransportOwn, KeysAreUpdatedBeforeTheirRecordLimit) {
    LimitedPair p(4);
    std::string expect;
    for (int i = 0; i < 20; ++i) {  // one record a write
        std::string m = "message " + std::to_string(i) + ";";
        iovec v{m.data(), m.size()};
        ASSERT_EQ(p.server.write(2, &v, 1), ssize_t(m.size()));
        expect += m;
    }
    EXPECT_EQ(p.client_reads(), expect);
    // 21 records (the ticket and 20 messages) under keys of 4 records each, one a KeyUpdate.
    ASSERT_GE(p.seen.records.size(), 7u);
    for (int n : p.seen.records) EXPECT_LE(n, 4);
    EXPECT_EQ(SSL_get_key_update_type(p.client), SSL_KEY_UPDATE_NONE);  // we asked nothing of it
    // The client's own keys did not move: it still writes and we still read.
    size_t n = 0;
    ASSERT_EQ(SSL_write_ex(p.client, "still", 5, &n), 1);
    size_t got = 0;
    p.server.read(2, p.buf, sizeof p.buf, &got);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(p.buf), got), "still");
}

// Batches with KeyUpdates inside them, cut by a small socket buffer: the records taken back
// must take their KeyUpdates back too, or the client would see a gap (bad_record_mac).
TEST(TlsTransportOwn, KeyUpdatesInsideBlockedBatchesKeepTheStream) {
    LimitedPair p(3);
    int small = 4096;
    setsockopt(p.sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    std::string payload(600000, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char('a' + (i * 7 + i / 1000) % 26);
    std::vector<iovec> frames;
    for (size_t at = 0; at < payload.size(); at += 1000 + at % 23000)  // frames of mixed sizes
        frames.push_back({payload.data() + at, std::min<size_t>(1000 + at % 23000, payload.size() - at)});
    // The queue: what was taken leaves it; a blocked record's bytes stay (committed).
    size_t taken = 0;
    std::string got;
    int rounds = 0;
    while (taken < payload.size() && rounds++ < 100000) {
        std::vector<iovec> queue;
        size_t skip = taken;
        for (auto& f : frames) {
            if (skip >= f.iov_len) {
                skip -= f.iov_len;
                continue;
            }
            queue.push_back({static_cast<char*>(f.iov_base) + skip, f.iov_len - skip});
            skip = 0;
        }
        ssize_t w = p.server.write(2, queue.data(), int(queue.size()));
        ASSERT_GE(w, 0);
        taken += size_t(w);
        got += p.client_reads();
    }
    for (int i = 0; i < 100 && got.size() < payload.size(); ++i) got += p.client_reads();
    ASSERT_EQ(got.size(), payload.size());
    EXPECT_TRUE(got == payload);
    EXPECT_GE(p.seen.records.size(), 20u);
    for (int n : p.seen.records) EXPECT_LE(n, 3);
}

// ---- what else a client may try after the handshake

// TLS 1.3 lets a client send only KeyUpdate after the handshake (we request no certificate):
// any other handshake message, a KeyUpdate that shares its record or is split over two, or a
// bad request_update value ends the connection (§4.6.3, §5.1).
TEST(TlsTransportOwn, PostHandshakeMessagesOtherThanAWholeKeyUpdateFail) {
    const std::string cases[] = {
        std::string("\x04\x00\x00\x04" "abcd", 8),          // NewSessionTicket from a client
        std::string("\x0b\x00\x00\x00", 4),                  // Certificate never asked for
        std::string("\x18\x00\x00\x01\x00" "data", 9),      // a KeyUpdate and more in one record
        std::string("\x18\x00\x00\x01", 4),                  // the first part of a split KeyUpdate
        std::string("\x18\x00\x00\x01\x02", 5),              // request_update 2
        std::string("\x18\x00\x00\x02\x00\x00", 6),          // a KeyUpdate of the wrong length
    };
    for (const std::string& message : cases) {
        CraftingPair p;
        p.client_reads();
        p.send_raw(p.seal_inner(inner(message, 22, 0)));
        TlsRead r;
        EXPECT_EQ(server_reads(p, &r), "");
        EXPECT_EQ(r, TlsRead::Failed) << message.size();
        EXPECT_EQ(p.stats.key_updates, 0u);
    }
}

// A flood of KeyUpdates, each asking for ours, costs us one KDF each and no memory; we answer
// with one KeyUpdate before our next data, and the client reads that data under our new keys.
TEST(TlsTransportOwn, KeyUpdateFloodIsAnsweredOnce) {
    CraftingPair p;
    p.client_reads();
    static int updates_seen;
    updates_seen = 0;
    SSL_set_msg_callback(p.client, [](int write_p, int, int type, const void* b, size_t len, SSL*, void*) {
        if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 && *static_cast<const uint8_t*>(b) == 24) ++updates_seen;
    });
    std::string wire;
    for (int i = 0; i < 5000; ++i) {
        wire += p.seal_inner(inner(std::string("\x18\x00\x00\x01\x01", 5), 22, 0));
        ASSERT_TRUE(tls13::next_generation(tls13::Suite::Aes128Gcm, &p.keys));
        if (wire.size() > 60000) {
            p.send_raw(wire);
            wire.clear();
            TlsRead r;
            EXPECT_EQ(server_reads(p, &r), "");
            ASSERT_EQ(r, TlsRead::Drained);
        }
    }
    wire += p.seal_inner(inner("after the flood", 23, 0));
    p.send_raw(wire);
    EXPECT_EQ(server_reads(p), "after the flood");
    EXPECT_EQ(p.stats.key_updates, 5000u);
    ASSERT_EQ(server_writes(p, "answer"), 6);
    EXPECT_EQ(p.client_reads(), "answer");
    EXPECT_EQ(updates_seen, 1);
}

// A client that tries 0-RTT on a ticket: we accept no early data, so OpenSSL skips those
// records during the handshake; they must not count as records of the client's application keys.
TEST(TlsTransportOwn, RejectedEarlyDataKeepsTheRecordCounts) {
    Ticket ticket;
    ASSERT_TRUE(SSL_SESSION_set_max_early_data(ticket.session, 16384));  // the client believes it may
    Stepped c(ticket.sctx, 3, ticket.session);
    size_t n = 0;
    std::string early(3000, 'E');
    ASSERT_EQ(SSL_write_early_data(c.client, early.data(), early.size(), &n), 1);
    ASSERT_EQ(SSL_write_early_data(c.client, early.data(), early.size(), &n), 1);
    c.handshake();  // early data is never delivered
    EXPECT_EQ(SSL_get_early_data_status(c.client), SSL_EARLY_DATA_REJECTED);
    EXPECT_TRUE(c.server.own_records(3));
    c.round_trip("one-rtt");
}

// RFC 6066 max_fragment_length (small clients ask for it; OpenSSL grants it in TLS 1.3 too):
// every record we send then carries at most that much plaintext, or the client refuses it
// (record_overflow).
TEST_P(BothLayers, NegotiatedMaxFragmentLengthBoundsOurRecords) {
    Pair p(GetParam(), [](SSL_CTX*, SSL* c) { SSL_set_tlsext_max_fragment_length(c, TLSEXT_max_fragment_length_512); });
    ASSERT_EQ(SSL_SESSION_get_max_fragment_length(SSL_get_session(p.client)), TLSEXT_max_fragment_length_512);
    p.client_reads();
    std::vector<std::string> parts{std::string(3000, 'm'), std::string(100, 'n'), std::string(700, 'o')};
    auto iov = iovecs(parts);
    ASSERT_EQ(p.server.write(7, iov.data(), 3), 3800);
    std::string got;
    for (int i = 0; i < 100 && got.size() < 3800; ++i) got += p.client_reads();
    EXPECT_EQ(got.size(), 3800u);
    EXPECT_TRUE(got == parts[0] + parts[1] + parts[2]);
    EXPECT_EQ(ERR_peek_error(), 0ul);
    ERR_clear_error();
}

// Several megabytes each way through one connection, interleaved, as a big --max-message
// allows: every byte arrives, in order, with the sockets blocking both ways again and again.
TEST_P(BothLayers, SeveralMegabytesBothWays) {
    Pair p(GetParam());
    SSL_set_mode(p.client, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    std::string up(5 << 20, '\0'), down(6 << 20, '\0');
    for (size_t i = 0; i < up.size(); ++i) up[i] = char(i * 31 + i / 4099);
    for (size_t i = 0; i < down.size(); ++i) down[i] = char(i * 17 + i / 5003);
    size_t up_sent = 0, down_taken = 0;
    std::string up_got, down_got;
    down_got.reserve(down.size());
    up_got.reserve(up.size());
    for (int round = 0; round < 200000 && (up_got.size() < up.size() || down_got.size() < down.size()); ++round) {
        size_t n = 0;
        if (up_sent < up.size() &&
            SSL_write_ex(p.client, up.data() + up_sent, std::min<size_t>(up.size() - up_sent, 100000), &n) == 1)
            up_sent += n;
        if (down_taken < down.size()) {
            // The queue: frames of 70000 bytes (the first one's rest), as the server passes them.
            std::vector<iovec> q;
            for (size_t at = down_taken; at < down.size() && q.size() < 8; at = (at / 70000 + 1) * 70000)
                q.push_back({down.data() + at, std::min((at / 70000 + 1) * 70000, down.size()) - at});
            ssize_t w = p.server.write(7, q.data(), int(q.size()));
            ASSERT_GE(w, 0);
            down_taken += size_t(w);
        }
        size_t got = 0;
        TlsRead r;
        do {
            r = p.server.read(7, p.buf, sizeof p.buf, &got);
            up_got.append(reinterpret_cast<char*>(p.buf), got);
        } while (r == TlsRead::Full);
        ASSERT_EQ(r, TlsRead::Drained);
        down_got += p.client_reads();
    }
    ASSERT_EQ(up_got.size(), up.size());
    ASSERT_EQ(down_got.size(), down.size());
    EXPECT_TRUE(up_got == up);
    EXPECT_TRUE(down_got == down);
    EXPECT_EQ(p.stats.record_failures, 0u);
}

// Released with a partial record carried and a cut record's tail unsent (a reap mid-stream):
// both buffers are freed (ASan's leak check) and nothing is written.
TEST(TlsTransportOwn, ReleaseWithCarryAndTailPendingFreesBoth) {
    Pair p;
    p.client_reads();
    int small = 4096;
    setsockopt(p.sfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    std::string big(200000, 'T');
    ssize_t w = server_writes(p, big);
    ASSERT_GE(w, 0);
    ASSERT_LT(size_t(w), big.size());
    ASSERT_GT(p.server.committed(7), 0u);  // a record cut: its rest is in our tail
    // Half a client record: the server carries it.
    client_writes(p, std::string(10000, 'c'));
    std::string wire(20000, '\0');
    ssize_t n = recv(p.sfd, wire.data(), wire.size(), 0);
    ASSERT_GT(n, 100);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    ASSERT_EQ(dup2(sv[0], p.sfd), p.sfd);
    ASSERT_EQ(send(sv[1], wire.data(), size_t(n) / 2, 0), n / 2);
    TlsRead r;
    EXPECT_EQ(server_reads(p, &r), "");
    EXPECT_EQ(r, TlsRead::Drained);
    p.server.release(7);
    EXPECT_FALSE(p.server.own_records(7));
    char b[16];
    EXPECT_EQ(recv(sv[1], b, sizeof b, MSG_DONTWAIT), -1);  // nothing written at release
    close(sv[0]);
    close(sv[1]);
}
