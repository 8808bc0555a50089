// Session-ticket key rotation (engine/ticket_keys.h) through TlsContext, with an OpenSSL client
// resuming over a socketpair and a clock the test moves (no sleeping): a ticket resumes under
// the current key, is renewed under the previous one, and is refused after two rotations; a
// reload keeps the keys; the loop's tick rotates with no handshake; keys never share a name and
// never live past 2R.
#include "engine/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "engine/server.h"
#include "engine/tls_transport.h"
#include "tests/engine/self_signed.h"

using namespace wspush::engine;

namespace {

constexpr uint64_t kR = 3600 * 1000;  // ms: the default interval

// A self-signed P-256 certificate and key in PEM files (TlsContext reads files), removed after.
struct CertFiles {
    std::string dir, cert, key;
    CertFiles() {
        char tmpl[] = "/tmp/wspush-ticket-test-XXXXXX";
        dir = mkdtemp(tmpl);
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        EVP_PKEY* pkey = nullptr;
        X509* x = wspush::test::self_signed_cert(&pkey);
        FILE* f = fopen(cert.c_str(), "w");
        PEM_write_X509(f, x);
        fclose(f);
        f = fopen(key.c_str(), "w");
        PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        fclose(f);
        X509_free(x);
        EVP_PKEY_free(pkey);
    }
    ~CertFiles() {
        unlink(cert.c_str());
        unlink(key.c_str());
        rmdir(dir.c_str());
    }
};

// A TlsContext whose ticket keys read `now` (ms) instead of the monotonic clock.
struct Context {
    CertFiles files;
    uint64_t now = 5'000'000;
    std::unique_ptr<TlsContext> tls = std::make_unique<TlsContext>(kR, [this] { return now; });
    Context() {
        std::string error;
        EXPECT_TRUE(tls->load(files.cert, files.key, &error)) << error;
    }
    const TicketStats& stats() const { return tls->ticket_keys().stats(); }
    std::string current() const { return name(tls->ticket_keys().current_name()); }
    std::string previous() const { return name(tls->ticket_keys().previous_name()); }
    static std::string name(const unsigned char* n) {
        return n ? std::string(reinterpret_cast<const char*>(n), TicketKeys::kNameBytes) : "";
    }
};

// The key name a ticket was sealed under: its first 16 bytes.
std::string ticket_name(SSL_SESSION* s) {
    const unsigned char* tick = nullptr;
    size_t len = 0;
    SSL_SESSION_get0_ticket(s, &tick, &len);
    return len >= TicketKeys::kNameBytes ? std::string(reinterpret_cast<const char*>(tick), TicketKeys::kNameBytes) : "";
}

struct Outcome {
    bool reused = false;
    SSL_SESSION* session = nullptr;  // the client's session after the connection (its newest ticket)
    ~Outcome() { SSL_SESSION_free(session); }
};

// One connection from an OpenSSL client (TLS `version`, offering `offer` if any) to sctx, on
// OpenSSL's record layer; the client reads what follows the handshake (a TLS 1.3 ticket).
// `groups`: the client's key-exchange groups, in its order of preference (a group the server
// lacks first makes a TLS 1.3 HelloRetryRequest).
std::unique_ptr<Outcome> connect(SSL_CTX* sctx, int version, SSL_SESSION* offer = nullptr,
                                 const char* groups = nullptr) {
    TlsStats stats;
    TlsTransport server(stats, false);
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    EXPECT_TRUE(server.attach(1, sv[0], sctx));
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_max_proto_version(cctx, version);
    if (groups) {
        EXPECT_EQ(SSL_CTX_set1_groups_list(cctx, groups), 1);
    }
    SSL* client = SSL_new(cctx);
    if (offer) SSL_set_session(client, offer);
    SSL_set_fd(client, sv[1]);
    SSL_set_connect_state(client);
    uint8_t buf[16384];
    for (int i = 0; i < 20 && !(server.established(1) && SSL_is_init_finished(client)); ++i) {
        SSL_do_handshake(client);
        size_t got = 0;
        server.read(1, buf, sizeof buf, &got);
    }
    EXPECT_TRUE(server.established(1));
    size_t n = 0;
    while (SSL_read_ex(client, buf, sizeof buf, &n) == 1) {
    }
    auto out = std::make_unique<Outcome>();
    out->reused = SSL_session_reused(client);
    out->session = SSL_get1_session(client);
    SSL_shutdown(client);  // freed without it, OpenSSL marks the session not resumable
    server.release(1);
    SSL_free(client);
    SSL_CTX_free(cctx);
    close(sv[0]);
    close(sv[1]);
    return out;
}

class EachVersion : public ::testing::TestWithParam<int> {};

}  // namespace

INSTANTIATE_TEST_SUITE_P(TicketKeys, EachVersion, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const ::testing::TestParamInfo<int>& i) {
                             return std::string(i.param == TLS1_2_VERSION ? "Tls12" : "Tls13");
                         });

TEST_P(EachVersion, TicketResumesUnderTheCurrentKey) {
    Context c;
    auto first = connect(c.tls->get(), GetParam());
    ASSERT_FALSE(first->reused);
    EXPECT_EQ(ticket_name(first->session), c.current());
    auto again = connect(c.tls->get(), GetParam(), first->session);
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(c.stats().renewed, 0u);
    EXPECT_EQ(c.stats().refused, 0u);
}

// After one rotation the ticket is under the previous key: it resumes, and the client gets a
// ticket under the new key, which resumes after one more rotation.
TEST_P(EachVersion, TicketUnderThePreviousKeyResumesAndIsRenewedUnderTheCurrentOne) {
    Context c;
    auto first = connect(c.tls->get(), GetParam());
    const std::string old_key = c.current();
    c.now += kR;
    EXPECT_TRUE(c.tls->rotate_ticket_keys_if_due());
    EXPECT_EQ(c.previous(), old_key);
    auto second = connect(c.tls->get(), GetParam(), first->session);
    EXPECT_TRUE(second->reused);
    EXPECT_EQ(c.stats().renewed, 1u);
    EXPECT_EQ(ticket_name(second->session), c.current());  // TLS 1.2: only because the callback said "renew"
    EXPECT_NE(c.current(), old_key);
    c.now += kR;
    EXPECT_TRUE(c.tls->rotate_ticket_keys_if_due());
    auto third = connect(c.tls->get(), GetParam(), second->session);
    EXPECT_TRUE(third->reused);
    EXPECT_EQ(c.stats().refused, 0u);
}

TEST_P(EachVersion, TicketIsRefusedAfterTwoRotations) {
    Context c;
    auto first = connect(c.tls->get(), GetParam());
    c.now += kR;
    c.tls->rotate_ticket_keys_if_due();
    c.now += kR;
    c.tls->rotate_ticket_keys_if_due();
    EXPECT_EQ(c.stats().rotations, 2u);
    auto late = connect(c.tls->get(), GetParam(), first->session);
    EXPECT_FALSE(late->reused);  // a full handshake, and a fresh ticket under the current key
    EXPECT_EQ(c.stats().refused, 1u);
    EXPECT_EQ(ticket_name(late->session), c.current());
}

// No tick at all: the handshake itself notices the current key is due before sealing with it.
TEST_P(EachVersion, StaleKeyNeverSealsEvenWithoutATick) {
    Context c;
    const std::string old_key = c.current();
    c.now += kR;
    auto first = connect(c.tls->get(), GetParam());
    EXPECT_EQ(c.stats().rotations, 1u);
    EXPECT_NE(ticket_name(first->session), old_key);
    EXPECT_EQ(ticket_name(first->session), c.current());
}

TEST_P(EachVersion, ReloadBetweenIssueAndResumptionKeepsResumption) {
    Context c;
    auto first = connect(c.tls->get(), GetParam());
    SSL_CTX* before = c.tls->get();
    std::string error;
    ASSERT_TRUE(c.tls->reload(&error)) << error;
    ASSERT_NE(c.tls->get(), before);
    auto again = connect(c.tls->get(), GetParam(), first->session);
    EXPECT_TRUE(again->reused);
    // And a rotation after the reload renews it as before: both contexts share one ring.
    c.now += kR;
    auto renewed = connect(c.tls->get(), GetParam(), again->session);
    EXPECT_TRUE(renewed->reused);
    EXPECT_EQ(c.stats().renewed, 1u);
}

TEST_P(EachVersion, TicketFromAnotherServerIsRefusedAndCounted) {
    Context a, b;
    auto from_a = connect(a.tls->get(), GetParam());
    auto at_b = connect(b.tls->get(), GetParam(), from_a->session);
    EXPECT_FALSE(at_b->reused);
    EXPECT_EQ(b.stats().refused, 1u);
}

// An old SSL_CTX outlives its TlsContext while connections opened under it are open: the keys
// must live as long (each context holds a reference). ASan sees a use after free otherwise.
TEST_P(EachVersion, KeysLiveAsLongAsAnyContextThatUsesThem) {
    Context c;
    SSL_CTX* held = c.tls->get();
    SSL_CTX_up_ref(held);
    c.tls.reset();
    auto first = connect(held, GetParam());
    auto again = connect(held, GetParam(), first->session);
    EXPECT_TRUE(again->reused);
    SSL_CTX_free(held);
}

TEST(TicketKeys, LifetimeHintIsTheRotationInterval) {
    Context c;
    EXPECT_EQ(SSL_CTX_get_timeout(c.tls->get()), 3600);
    auto first = connect(c.tls->get(), TLS1_3_VERSION);
    EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(first->session), 3600u);
}

TEST(TicketKeys, TickRotatesWithNoHandshake) {
    Context c;
    const std::string old_key = c.current();
    EXPECT_FALSE(c.tls->rotate_ticket_keys_if_due());
    c.now += kR - 1;
    EXPECT_FALSE(c.tls->rotate_ticket_keys_if_due());
    c.now += 1;
    EXPECT_TRUE(c.tls->rotate_ticket_keys_if_due());
    EXPECT_EQ(c.previous(), old_key);
    EXPECT_EQ(c.stats().rotations, 1u);
}

// The engine's loop checks the keys about once a second with no connection at all.
TEST(TicketKeys, ServerLoopRotatesWithNoConnection) {
    struct Idle final : ServerHandler {
        void on_open(Connection&, const wspush::codec::Upgrade&) override {}
        void on_message(Connection&, wspush::codec::Opcode, uint8_t*, size_t) override {}
        void on_close(Connection&) override {}
        void on_http(Connection&, const wspush::codec::HttpRequest&, uint8_t*, size_t) override {}
        bool on_tick(uint32_t now_ms) override {
            if (!stopped && (keys->stats().rotations > 0 || now_ms > 10'000)) {
                stopped = true;
                server->stop();
            }
            return false;
        }
        Server* server = nullptr;
        const TicketKeys* keys = nullptr;
        bool stopped = false;
    } idle;
    Context c;
    ServerConfig cfg;
    cfg.shutdown_timeout_ms = 10;
    Server server(cfg, idle);
    idle.server = &server;
    idle.keys = &c.tls->ticket_keys();
    ListenerSpec spec;
    spec.host = "127.0.0.1";
    spec.tls = c.tls.get();
    std::string error;
    ASSERT_NE(server.listen(spec, &error), 0) << error;
    c.now += kR;  // due; nothing but the loop's tick can notice
    server.run();
    EXPECT_EQ(c.stats().rotations, 1u);
    ASSERT_NE(server.tls_stats(), nullptr);
    EXPECT_EQ(server.tls_stats()->ticket_key_rotations, 1u);
}

TEST(TicketKeys, TwoKeysNeverShareAName) {
    uint64_t now = 0;
    TicketKeys keys(1000, [&] { return now; });
    std::set<std::string> seen{Context::name(keys.current_name())};
    for (int i = 0; i < 1000; ++i) {
        const std::string before = Context::name(keys.current_name());
        now += 1000;
        ASSERT_TRUE(keys.rotate_if_due(now));
        EXPECT_EQ(Context::name(keys.previous_name()), before);
        EXPECT_NE(Context::name(keys.current_name()), before);
        EXPECT_TRUE(seen.insert(Context::name(keys.current_name())).second);
    }
    EXPECT_EQ(keys.stats().rotations, 1000u);
}

// A tick that comes late (the loop stalled) must not let the previous key live past 2R.
TEST(TicketKeys, PreviousKeyIsErasedAtTwiceTheIntervalEvenAfterALateRotation) {
    uint64_t now = 0;
    TicketKeys keys(1000, [&] { return now; });
    now = 1500;  // rotation due since 1000, done at 1500: the first key (made at 0) is previous
    ASSERT_TRUE(keys.rotate_if_due(now));
    now = 1999;
    EXPECT_FALSE(keys.rotate_if_due(now));
    EXPECT_NE(keys.previous_name(), nullptr);
    now = 2000;  // the first key is 2R old; the current one (made at 1500) is not due
    EXPECT_FALSE(keys.rotate_if_due(now));
    EXPECT_EQ(keys.previous_name(), nullptr);
    EXPECT_NE(keys.current_name(), nullptr);
}

TEST(TicketKeys, RotationAfterALongStallKeepsNoStaleKey) {
    uint64_t now = 0;
    TicketKeys keys(1000, [&] { return now; });
    now = 2000;  // the current key is 2R old: not worth keeping even as the previous one
    ASSERT_TRUE(keys.rotate_if_due(now));
    EXPECT_EQ(keys.previous_name(), nullptr);
    EXPECT_NE(keys.current_name(), nullptr);
}

namespace {
// OpenSSL's random source failing (RAND_bytes and RAND_priv_bytes return 0) while alive.
// RAND_set_rand_method is deprecated in 3.0 but still honoured by RAND_bytes_ex.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct FailingRandom {
    static int fail(unsigned char*, int) { return 0; }
    RAND_METHOD method{nullptr, fail, nullptr, nullptr, fail, nullptr};
    const RAND_METHOD* saved = RAND_get_rand_method();
    FailingRandom() { RAND_set_rand_method(&method); }
    ~FailingRandom() { RAND_set_rand_method(saved); }
};
#pragma GCC diagnostic pop
}  // namespace

// A rotation whose new key cannot be made leaves no current key (no tickets are sealed) but
// must keep the previous key until its own 2R: a retry one tick later must not erase it.
TEST(TicketKeys, FailedRotationKeepsThePreviousKeyForItsFullTime) {
    uint64_t now = 0;
    TicketKeys keys(1000, [&] { return now; });
    const std::string first = Context::name(keys.current_name());
    now = 1000;
    {
        FailingRandom broken;
        EXPECT_FALSE(keys.rotate_if_due(now));
        EXPECT_EQ(keys.current_name(), nullptr);
        EXPECT_EQ(Context::name(keys.previous_name()), first);
        now = 1001;  // the next tick, still failing
        EXPECT_FALSE(keys.rotate_if_due(now));
        EXPECT_EQ(Context::name(keys.previous_name()), first);
    }
    now = 1002;  // the random source is back
    EXPECT_TRUE(keys.rotate_if_due(now));
    EXPECT_NE(keys.current_name(), nullptr);
    EXPECT_EQ(Context::name(keys.previous_name()), first);  // tickets sealed under it still open
    now = 1999;
    EXPECT_FALSE(keys.rotate_if_due(now));
    EXPECT_EQ(Context::name(keys.previous_name()), first);
    now = 2000;  // 2R after it was made
    EXPECT_FALSE(keys.rotate_if_due(now));
    EXPECT_EQ(keys.previous_name(), nullptr);
}

namespace {
// The client's session with the last byte of its ticket (the HMAC) flipped: a forgery naming
// the key the real ticket was sealed under.
SSL_SESSION* with_forged_mac(SSL_SESSION* s) {
    const unsigned char* tick = nullptr;
    size_t len = 0;
    SSL_SESSION_get0_ticket(s, &tick, &len);
    EXPECT_GT(len, 48u);
    std::string ticket(reinterpret_cast<const char*>(tick), len);
    int der_len = i2d_SSL_SESSION(s, nullptr);
    std::string der(static_cast<size_t>(der_len), '\0');
    unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
    i2d_SSL_SESSION(s, &p);
    size_t at = der.find(ticket);
    EXPECT_NE(at, std::string::npos);
    der[at + len - 1] ^= 1;
    const unsigned char* q = reinterpret_cast<const unsigned char*>(der.data());
    return d2i_SSL_SESSION(nullptr, &q, der_len);
}
}  // namespace

// "renewed" counts tickets that resumed under the previous key, not forgeries that merely name
// it: an attacker must not be able to inflate it with tickets whose MAC fails.
TEST_P(EachVersion, ForgedTicketNamingThePreviousKeyIsNotCountedAsRenewed) {
    Context c;
    auto first = connect(c.tls->get(), GetParam());
    c.now += kR;
    ASSERT_TRUE(c.tls->rotate_ticket_keys_if_due());
    ASSERT_EQ(ticket_name(first->session), c.previous());
    SSL_SESSION* forged = with_forged_mac(first->session);
    ASSERT_NE(forged, nullptr);
    auto attempt = connect(c.tls->get(), GetParam(), forged);
    SSL_SESSION_free(forged);
    EXPECT_FALSE(attempt->reused);
    EXPECT_EQ(c.stats().renewed, 0u);
    auto genuine = connect(c.tls->get(), GetParam(), first->session);  // the real one still resumes
    EXPECT_TRUE(genuine->reused);
    EXPECT_EQ(c.stats().renewed, 1u);
}

// OpenSSL refuses a session older than its timeout (R, wall clock, whole seconds) after the
// ticket decrypted: a ticket under the previous key whose session expired is a full handshake
// and must not count as renewed. Waits 1-2 s of wall clock (time(NULL) is what OpenSSL reads).
TEST(TicketKeys, ExpiredSessionUnderThePreviousKeyIsNotCountedAsRenewed) {
    CertFiles files;
    uint64_t now = 0;
    TlsContext tls(1000, [&] { return now; });
    std::string error;
    ASSERT_TRUE(tls.load(files.cert, files.key, &error)) << error;
    auto first = connect(tls.get(), TLS1_2_VERSION);
    const time_t issued = time(nullptr);  // the session's time (whole seconds) is at most this
    now += 1000;
    ASSERT_TRUE(tls.rotate_ticket_keys_if_due());
    ASSERT_EQ(Context::name(tls.ticket_keys().previous_name()), ticket_name(first->session));
    while (time(nullptr) < issued + 2) usleep(50'000);  // older than R = 1 s by OpenSSL's count
    auto late = connect(tls.get(), TLS1_2_VERSION, first->session);
    EXPECT_FALSE(late->reused);
    EXPECT_EQ(tls.ticket_keys().stats().renewed, 0u);
}

// docs/tls.md: a TLS 1.2 ticket renewed on resumption carries no lifetime hint (OpenSSL sends 0
// when resuming; the session keeps the age of its full handshake); a TLS 1.3 one carries R.
TEST_P(EachVersion, RenewedTicketLifetimeHint) {
    Context c;
    auto first = connect(c.tls->get(), GetParam());
    EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(first->session), 3600u);
    c.now += kR;
    auto renewed = connect(c.tls->get(), GetParam(), first->session);
    ASSERT_TRUE(renewed->reused);
    EXPECT_EQ(ticket_name(renewed->session), c.current());
    EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(renewed->session), GetParam() == TLS1_2_VERSION ? 0u : 3600u);
}

// A ticket is counted once per connection: a TLS 1.3 client sent a HelloRetryRequest offers it
// again in its second ClientHello, and one ClientHello may carry many PSK identities.
TEST(TicketKeys, RefusedTicketCountsOncePerConnectionAcrossAHelloRetryRequest) {
    Context a, b;
    auto from_a = connect(a.tls->get(), TLS1_3_VERSION);
    auto at_b = connect(b.tls->get(), TLS1_3_VERSION, from_a->session, "X448:P-256");
    EXPECT_FALSE(at_b->reused);
    EXPECT_EQ(b.stats().refused, 1u);
}
