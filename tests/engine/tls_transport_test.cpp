// TlsTransport against an OpenSSL client over a socketpair: the record coalescing, the blocked
// write's retry contract and the read draining that the edge-triggered loop relies on.
#include "engine/tls_transport.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

using wspush::engine::TlsRead;
using wspush::engine::TlsStats;
using wspush::engine::TlsTransport;

namespace {

// A server SSL_CTX with a fresh self-signed P-256 certificate (no files involved).
SSL_CTX* server_ctx() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_sign(cert, key, EVP_sha256());
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}

struct Pair {
    TlsStats stats;
    TlsTransport server{stats};
    SSL_CTX* sctx = server_ctx();
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL* client = nullptr;
    int sfd = -1, cfd = -1;
    uint8_t buf[256 * 1024];

    Pair() {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
        sfd = sv[0];
        cfd = sv[1];
        EXPECT_TRUE(server.attach(7, sfd, sctx));
        SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, nullptr);
        client = SSL_new(cctx);
        SSL_set_fd(client, cfd);
        SSL_set_connect_state(client);
        for (int i = 0; i < 20 && !(server.established(7) && SSL_is_init_finished(client)); ++i) {
            SSL_do_handshake(client);
            size_t got = 0;
            server.read(7, buf, sizeof buf, &got);
        }
        EXPECT_TRUE(server.established(7));
        EXPECT_EQ(stats.handshakes, 1u);
    }
    ~Pair() {
        server.release(7);
        SSL_free(client);
        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
        close(sfd);
        close(cfd);
    }
    // Everything the client can decrypt now.
    std::string client_reads() {
        std::string out;
        char b[65536];
        size_t n = 0;
        while (SSL_read_ex(client, b, sizeof b, &n) == 1) out.append(b, n);
        return out;
    }
};

std::vector<iovec> iovecs(std::vector<std::string>& parts) {
    std::vector<iovec> v;
    for (auto& p : parts) v.push_back({p.data(), p.size()});
    return v;
}

}  // namespace

TEST(TlsTransport, CoalescesQueuedFramesIntoOneRecord) {
    Pair p;
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

TEST(TlsTransport, SplitsLargeOutputIntoFullRecords) {
    Pair p;
    p.client_reads();
    std::vector<std::string> parts{std::string(40000, 'x'), std::string(10, 'y')};
    auto iov = iovecs(parts);
    ASSERT_EQ(p.server.write(7, iov.data(), 2), 40010);
    EXPECT_EQ(p.client_reads(), parts[0] + parts[1]);
}

TEST(TlsTransport, BlockedWriteKeepsItsBytesCommittedUntilRetried) {
    Pair p;
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

TEST(TlsTransport, ReadFillsTheBufferThenReportsDrained) {
    Pair p;
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

TEST(TlsTransport, PeerCloseIsClosed) {
    Pair p;
    SSL_shutdown(p.client);
    size_t got = 0;
    EXPECT_EQ(p.server.read(7, p.buf, sizeof p.buf, &got), TlsRead::Closed);
}
