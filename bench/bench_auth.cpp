// Token verification: auth/TokenVerifier against Debian's libjwt 1.10.2 in the same run, for
// the three algorithms wspush accepts. Decides "our code or libjwt" (issue #10) and gives the
// per-login cost of each algorithm.
//
// Method: single thread; one 2-claim token (sub, exp) of ~150 bytes per algorithm, verified
// again and again with the key loaded once. libjwt is used as its best user would: jwt_decode
// with the key, then jwt_get_alg to pin the algorithm (libjwt has no expected-alg parameter)
// and jwt_get_grant/jwt_get_grant_int for sub and exp (it checks no claims itself). libjwt
// re-parses a PEM key on every RS/ES decode (PEM_read_bio_PUBKEY): that is its API, not our
// choice. BM_RawHmac is the floor: one-shot HMAC() plus CRYPTO_memcmp, no parsing at all.
// At the end: libjwt CPU time / ours per algorithm (medians when repeated; CPU time, not wall
// time, because this machine is shared and a neighbour steals wall time from either side).
// Run: build/bench_auth --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <string>

#include "auth/token_minter.h"
#include "bench/median_reporter.h"
#include "auth/token_verifier.h"
#include "tests/auth/token_test_keys.h"

using namespace wspush::auth;

namespace {

const std::string kSecret = "bench secret: 32 bytes or longer, random in production";

struct Keys {
    EVP_PKEY* rsa = test::make_rsa();
    EVP_PKEY* ec = test::make_p256();
    std::string rsa_pem = test::public_pem(rsa), ec_pem = test::public_pem(ec);
    int64_t exp = time(nullptr) + 3600;
    std::string claims = "{\"sub\":\"user-1234567\",\"exp\":" + std::to_string(exp) + "}";
    std::string hs, rs, es;
    Keys() {
        std::string err;
        auto k = JwtKey::hmac_secret(kSecret, &err);
        hs = mint_hs256_raw(*k, R"({"alg":"HS256","typ":"JWT"})", claims);
        rs = test::sign_token(rsa, R"({"alg":"RS256","typ":"JWT"})", claims);
        es = test::sign_token(ec, R"({"alg":"ES256","typ":"JWT"})", claims);
    }
};
Keys& keys() {
    static Keys k;
    return k;
}

void run_ours(benchmark::State& state, std::unique_ptr<JwtKey> key, const std::string& token) {
    TokenVerifier v(std::move(key), {});
    int64_t now = time(nullptr);
    TokenClaims c;
    for (auto _ : state) {
        if (v.verify(token, now, &c) != TokenError::Ok) state.SkipWithError("refused");
        benchmark::DoNotOptimize(c.sub.data());
    }
}

void run_libjwt(benchmark::State& state, const std::string& key, jwt_alg_t alg, const std::string& token) {
    for (auto _ : state) {
        jwt_t* jwt = nullptr;
        if (jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                       static_cast<int>(key.size())) != 0 ||
            jwt_get_alg(jwt) != alg) {
            state.SkipWithError("refused");
        } else {
            const char* sub = jwt_get_grant(jwt, "sub");
            long exp = jwt_get_grant_int(jwt, "exp");
            if (!sub || exp <= time(nullptr)) state.SkipWithError("claims");
            benchmark::DoNotOptimize(sub);
        }
        jwt_free(jwt);
    }
}

void BM_Wspush_HS256(benchmark::State& s) {
    std::string e;
    run_ours(s, JwtKey::hmac_secret(kSecret, &e), keys().hs);
}
void BM_Libjwt_HS256(benchmark::State& s) { run_libjwt(s, kSecret, JWT_ALG_HS256, keys().hs); }
void BM_Wspush_RS256(benchmark::State& s) {
    std::string e;
    run_ours(s, JwtKey::public_key_pem(keys().rsa_pem, &e), keys().rs);
}
void BM_Libjwt_RS256(benchmark::State& s) { run_libjwt(s, keys().rsa_pem, JWT_ALG_RS256, keys().rs); }
void BM_Wspush_ES256(benchmark::State& s) {
    std::string e;
    run_ours(s, JwtKey::public_key_pem(keys().ec_pem, &e), keys().es);
}
void BM_Libjwt_ES256(benchmark::State& s) { run_libjwt(s, keys().ec_pem, JWT_ALG_ES256, keys().es); }

// The floor for HS256: MAC the signing input and compare, nothing decoded or parsed.
void BM_RawHmac_HS256(benchmark::State& state) {
    const std::string& t = keys().hs;
    size_t dot = t.rfind('.');
    uint8_t expect[32], mac[32];
    unsigned len = 32;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()), reinterpret_cast<const uint8_t*>(t.data()),
         dot, expect, &len);
    for (auto _ : state) {
        HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
             reinterpret_cast<const uint8_t*>(t.data()), dot, mac, &len);
        if (CRYPTO_memcmp(mac, expect, 32) != 0) state.SkipWithError("mismatch");
    }
}

BENCHMARK(BM_RawHmac_HS256);
BENCHMARK(BM_Wspush_HS256);
BENCHMARK(BM_Libjwt_HS256);
BENCHMARK(BM_Wspush_RS256);
BENCHMARK(BM_Libjwt_RS256);
BENCHMARK(BM_Wspush_ES256);
BENCHMARK(BM_Libjwt_ES256);

// Prints ns per verify of each, and libjwt's time over ours per algorithm.
class RatioReporter : public wspush::bench::MedianReporter {
public:
    void Finalize() override {
        MedianReporter::Finalize();
        printf("\nratio libjwt / wspush per token verify (CPU ns each; how many times slower libjwt is)\n");
        for (const char* alg : {"HS256", "RS256", "ES256"}) {
            double ours = ns("BM_Wspush_" + std::string(alg)), theirs = ns("BM_Libjwt_" + std::string(alg));
            if (ours > 0 && theirs > 0)
                printf("  %s  wspush %8.0f ns  libjwt %8.0f ns  ratio %.1fx\n", alg, ours, theirs, theirs / ours);
        }
        if (ns("BM_RawHmac_HS256") > 0)
            printf("  HS256 floor (one-shot HMAC + memcmp, no parsing): %.0f ns\n", ns("BM_RawHmac_HS256"));
    }
};

}  // namespace

int main(int argc, char** argv) { return wspush::bench::run_with<RatioReporter>(argc, argv); }
