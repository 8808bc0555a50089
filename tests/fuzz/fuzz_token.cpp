// libFuzzer target for auth/token_verifier (the JWT a client sends before it is anyone).
// Input: byte 0 picks a mode; the rest is
//   mode 0  a token, verified under an HS256 secret (attacker bytes straight in)
//   mode 1  "<header JSON>\n<claims JSON>", MAC'd with the secret and then verified: every
//           input passes the signature, so the claims checks see arbitrary signed JSON
//   mode 2  a token, verified under an ES256 public key (r||s of any 64 bytes to DER)
// Invariants (abort on violation): over kMaxTokenBytes is TooLong; a token with fewer than two
// dots is never Ok; an accepted token has exp > now, and a sub of 1..max_sub_len bytes
// without ':' that lies inside the token's decoded claims; the same input gives the same
// answer twice (no state leaks from one verify to the next).
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_minter.h"
#include "auth/token_verifier.h"

using namespace wspush::auth;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

constexpr int64_t kNow = 1'800'000'000;

std::string es256_public_pem() {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    char* p;
    long n = BIO_get_mem_data(b, &p);
    std::string s(p, static_cast<size_t>(n));
    BIO_free(b);
    EVP_PKEY_free(k);
    return s;
}

struct Fixture {
    std::unique_ptr<JwtKey> minter;
    std::unique_ptr<TokenVerifier> hs, es;
    Fixture() {
        std::string err, secret = "fuzzing secret, 32 bytes or more";
        minter = JwtKey::hmac_secret(secret, &err);
        VerifyOptions o;
        o.max_sub_len = 16;
        o.audience = "wspush";
        hs = std::make_unique<TokenVerifier>(JwtKey::hmac_secret(secret, &err), o);
        es = std::make_unique<TokenVerifier>(JwtKey::public_key_pem(es256_public_pem(), &err), VerifyOptions{});
        CHECK(minter && hs && es);
    }
};

void check(TokenVerifier& v, std::string_view token) {
    TokenClaims c;
    TokenError e = v.verify(token, kNow, &c);
    if (token.size() > kMaxTokenBytes) CHECK(e == TokenError::TooLong);
    size_t dots = 0;
    for (char ch : token) dots += ch == '.';
    if (dots != 2) CHECK(e != TokenError::Ok);
    if (e == TokenError::Ok) {
        CHECK(c.exp > kNow);
        CHECK(!c.sub.empty() && c.sub.size() <= v.options().max_sub_len);
        CHECK(c.sub.find(':') == std::string_view::npos);
    }
    TokenClaims again;
    CHECK(v.verify(token, kNow, &again) == e);
    if (e == TokenError::Ok) CHECK(again.sub == c.sub && again.exp == c.exp && again.send == c.send);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture f;
    if (size < 1) return 0;
    std::vector<char> in(data + 1, data + size);  // exact-size heap copy: ASan sees overreads
    std::string_view view(in.data(), in.size());
    switch (data[0] % 3) {
        case 0: check(*f.hs, view); break;
        case 1: {
            size_t nl = view.find('\n');
            std::string_view header = nl == std::string_view::npos ? std::string_view(R"({"alg":"HS256"})") : view.substr(0, nl);
            std::string_view claims = nl == std::string_view::npos ? view : view.substr(nl + 1);
            std::string token = mint_hs256_raw(*f.minter, header, claims);
            CHECK(!token.empty());
            check(*f.hs, token);
            break;
        }
        default: check(*f.es, view); break;
    }
    return 0;
}
