// TLS 1.3 record cost: wspush's record layer (engine/tls13_records: seal/open over OpenSSL's
// EVP AEAD) against OpenSSL's own record layer (SSL_write/SSL_read on an established TLS 1.3
// connection), in the same run. Decides "our records or OpenSSL's" for the CPU side (the
// memory side, ~15 KB per idle connection with OpenSSL's, is the reason for ours: make bench,
// tls_connect_ec).
//
// Method: single thread, AES-128-GCM (what clients with AES hardware pick), record sizes of a
// small message (64 B) and a full record (16 KiB). "rotating": 1000 connections used in turn,
// as a server writing to many clients does; ours runs with the server's lanes (1024 AEAD
// contexts a direction shared by fd, so 1000 busy connections keep theirs), OpenSSL with its
// context per connection. "one": the same connection every time.
// Ours copies the plaintext into the record first (what its write path does to gather frames),
// then seals in place. OpenSSL writes through a BIO pair and the benchmark reads the record
// out again: two copies of the record that a socket BIO would replace by the kernel's copy
// (~5 ns at 64 B, ~0.5 us at 16 KiB each). Reads, rotating only: ours opens a record sealed
// beforehand (copied in first, as read(2) would, the sequence number wound back each time);
// OpenSSL's SSL_read takes records its client wrote with the timer paused (once per 64).
// OpenSSL runs with wspush's settings (SSL_MODE_RELEASE_BUFFERS: an idle connection gives its
// 2 x ~17 KB buffers back, so each read and write of a connection that was idle allocates them
// again; that is part of the price of OpenSSL's records at low memory).
// At the end: OpenSSL's CPU time / ours per case (medians when repeated).
// Run: build/bench_tls --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench/median_reporter.h"
#include "engine/tls13_records.h"
#include "tests/engine/self_signed.h"

using namespace wspush::engine::tls13;

namespace {

constexpr int kConns = 1000;

SSL_CTX* server_ctx() {
    SSL_CTX* ctx = wspush::test::self_signed_server_ctx();
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // as wspush's context
    return ctx;
}

// One established TLS 1.3 connection in memory: server and client, each on a BIO pair whose
// "network" ends the benchmark moves bytes between.
struct MemConn {
    SSL *server = nullptr, *client = nullptr;
    BIO *s_net = nullptr, *c_net = nullptr;
    static void pump(BIO* from, BIO* to) {
        char buf[32768];
        int n;
        while ((n = BIO_read(from, buf, sizeof buf)) > 0) BIO_write(to, buf, n);
    }
    MemConn(SSL_CTX* sctx, SSL_CTX* cctx) {
        BIO *s_in, *c_in;
        BIO_new_bio_pair(&s_in, 40000, &s_net, 40000);
        BIO_new_bio_pair(&c_in, 40000, &c_net, 40000);
        server = SSL_new(sctx);
        client = SSL_new(cctx);
        SSL_set_bio(server, s_in, s_in);
        SSL_set_bio(client, c_in, c_in);
        SSL_set_accept_state(server);
        SSL_set_connect_state(client);
        for (int i = 0; i < 10 && !(SSL_is_init_finished(server) && SSL_is_init_finished(client)); ++i) {
            SSL_do_handshake(client);
            pump(c_net, s_net);
            SSL_do_handshake(server);
            pump(s_net, c_net);
        }
        char b[64];
        SSL_read(client, b, sizeof b);  // the session ticket
    }
};

struct Fixture {
    SSL_CTX* sctx = server_ctx();
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    std::vector<MemConn> conns;
    std::vector<TrafficKeys> keys;
    RecordCipher cipher{1024};  // TlsTransport::kCipherLanes
    Fixture() {
        SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, nullptr);
        conns.reserve(kConns);
        for (int i = 0; i < kConns; ++i) conns.emplace_back(sctx, cctx);
        keys.resize(kConns);
        for (int i = 0; i < kConns; ++i) {
            uint8_t secret[32];
            for (int j = 0; j < 32; ++j) secret[j] = static_cast<uint8_t>(i * 7 + j);
            derive_keys(Suite::Aes128Gcm, secret, &keys[size_t(i)]);
        }
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void BM_Ours_Seal(benchmark::State& state) {
    Fixture& f = fixture();
    const size_t len = size_t(state.range(0));
    const bool rotating = state.range(1);
    std::vector<uint8_t> plain(len, 'p'), rec(len + kOverhead);
    int i = 0;
    for (auto _ : state) {
        TrafficKeys& k = f.keys[size_t(rotating ? i : 0)];
        memcpy(rec.data() + kHeader, plain.data(), len);
        benchmark::DoNotOptimize(
            f.cipher.seal(Suite::Aes128Gcm, k, kApplicationData, rec.data() + kHeader, len, rec.data(), uint32_t(i)));
        if (++i == kConns) i = 0;
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(len));
}

void BM_OpenSsl_Write(benchmark::State& state) {
    Fixture& f = fixture();
    const size_t len = size_t(state.range(0));
    const bool rotating = state.range(1);
    std::vector<uint8_t> plain(len, 'p'), sink(len + 64);
    int i = 0;
    for (auto _ : state) {
        MemConn& c = f.conns[size_t(rotating ? i : 0)];
        size_t n = 0;
        SSL_write_ex(c.server, plain.data(), len, &n);
        benchmark::DoNotOptimize(BIO_read(c.s_net, sink.data(), int(sink.size())));
        if (++i == kConns) i = 0;
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(len));
}

// Reads: a record sealed per connection beforehand, opened again each iteration (the sequence
// number wound back, so the same record verifies every time).
void BM_Ours_Open(benchmark::State& state) {
    Fixture& f = fixture();
    const size_t len = size_t(state.range(0));
    const bool rotating = state.range(1);
    const int used = rotating ? kConns : 1;
    std::vector<std::vector<uint8_t>> recs(size_t(used), std::vector<uint8_t>(len + kOverhead));
    std::vector<uint8_t> plain(len, 'r'), work(len + kOverhead);
    for (int c = 0; c < used; ++c) {
        TrafficKeys k = f.keys[size_t(c)];
        f.cipher.seal(Suite::Aes128Gcm, k, kApplicationData, plain.data(), len, recs[size_t(c)].data(), uint32_t(c));
    }
    int i = 0;
    for (auto _ : state) {
        TrafficKeys& k = f.keys[size_t(i)];
        const uint64_t seq = k.seq;
        memcpy(work.data(), recs[size_t(i)].data(), work.size());  // the read(2) into the loop's buffer
        size_t n = 0;
        if (!f.cipher.open(Suite::Aes128Gcm, k, work.data(), len + 1 + kTag, &n, uint32_t(i))) state.SkipWithError("open failed");
        k.seq = seq;
        if (++i == used) i = 0;
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(len));
}

void BM_OpenSsl_Read(benchmark::State& state) {
    Fixture& f = fixture();
    const size_t len = size_t(state.range(0));
    // The clients write one record to each of the next kBatch connections with the timer
    // paused (once per batch, so the pause costs nothing per record); the server's SSL_reads
    // of those records are what is timed.
    constexpr int kBatch = 64;
    std::vector<uint8_t> plain(len, 'r'), out(len), wire(len + 64);
    int i = 0, ready = 0;
    for (auto _ : state) {
        if (ready == 0) {
            state.PauseTiming();
            for (int j = 0; j < kBatch; ++j) {
                MemConn& c = f.conns[size_t((i + j) % kConns)];
                size_t n = 0;
                SSL_write_ex(c.client, plain.data(), len, &n);
                int w = BIO_read(c.c_net, wire.data(), int(wire.size()));
                BIO_write(c.s_net, wire.data(), w);
            }
            ready = kBatch;
            state.ResumeTiming();
        }
        MemConn& c = f.conns[size_t(i)];
        size_t n = 0;
        SSL_read_ex(c.server, out.data(), len, &n);
        if (n != len) state.SkipWithError("short read");
        --ready;
        if (++i == kConns) i = 0;
    }
    for (; ready > 0; --ready, i = (i + 1) % kConns) {  // records the last batch left: the next run starts clean
        size_t n = 0;
        SSL_read_ex(f.conns[size_t(i)].server, out.data(), len, &n);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(len));
}

void sizes(benchmark::internal::Benchmark* b) {
    for (int64_t len : {64, 16384})
        for (int64_t rotating : {0, 1}) b->Args({len, rotating});
    b->ArgNames({"bytes", "rotating"});
}
BENCHMARK(BM_Ours_Seal)->Apply(sizes);
BENCHMARK(BM_OpenSsl_Write)->Apply(sizes);
BENCHMARK(BM_Ours_Open)->Args({64, 1})->Args({16384, 1})->ArgNames({"bytes", "rotating"});
BENCHMARK(BM_OpenSsl_Read)->Args({64, 1})->Args({16384, 1})->ArgNames({"bytes", "rotating"});

class RatioReporter : public wspush::bench::MedianReporter {
public:
    void Finalize() override {
        MedianReporter::Finalize();
        printf("\nratio OpenSSL record layer / wspush's per record (CPU ns each; above 1: ours is cheaper)\n");
        auto row = [&](const char* what, const std::string& ours_name, const std::string& theirs_name, const char* args) {
            double ours = ns(ours_name + args), theirs = ns(theirs_name + args);
            if (ours > 0 && theirs > 0)
                printf("  %s %-24s wspush %8.0f ns  OpenSSL %8.0f ns  ratio %.2fx\n", what, args, ours, theirs, theirs / ours);
        };
        for (const char* args : {"bytes:64/rotating:0", "bytes:64/rotating:1", "bytes:16384/rotating:0", "bytes:16384/rotating:1"})
            row("write", "BM_Ours_Seal/", "BM_OpenSsl_Write/", args);
        for (const char* args : {"bytes:64/rotating:1", "bytes:16384/rotating:1"})
            row("read ", "BM_Ours_Open/", "BM_OpenSsl_Read/", args);
    }
};

}  // namespace

int main(int argc, char** argv) { return wspush::bench::run_with<RatioReporter>(argc, argv); }
