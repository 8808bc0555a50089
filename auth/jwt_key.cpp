#include "auth/jwt_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>

namespace wspush::auth {

// HS256: an EVP_MAC context keyed once. Re-initialising it with a null key (EVP_MAC_init)
// restarts from the precomputed inner/outer pad state: no allocation and no key schedule per
// token. RS256/ES256: the parsed public key and one digest context reused for every verify.
struct JwtKey::Impl {
    EVP_MAC* mac = nullptr;
    EVP_MAC_CTX* mac_ctx = nullptr;
    EVP_PKEY* pkey = nullptr;
    EVP_MD_CTX* md_ctx = nullptr;
    ~Impl() {
        EVP_MAC_CTX_free(mac_ctx);
        EVP_MAC_free(mac);
        EVP_PKEY_free(pkey);
        EVP_MD_CTX_free(md_ctx);
    }
};

std::string_view jwt_alg_name(JwtAlg alg) {
    switch (alg) {
        case JwtAlg::HS256: return "HS256";
        case JwtAlg::RS256: return "RS256";
        case JwtAlg::ES256: return "ES256";
    }
    return "?";
}

JwtKey::JwtKey(JwtAlg alg, size_t sig_size, std::unique_ptr<Impl> impl)
    : alg_(alg), sig_size_(sig_size), impl_(std::move(impl)) {}
JwtKey::~JwtKey() = default;

std::unique_ptr<JwtKey> JwtKey::hmac_secret(std::string_view secret, std::string* error) {
    if (secret.size() < kMinHmacSecretBytes) {
        *error = "the HS256 secret is " + std::to_string(secret.size()) + " bytes; it must be at least " +
                 std::to_string(kMinHmacSecretBytes) + " (RFC 7518 3.2), e.g. `openssl rand -hex 32`";
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    impl->mac_ctx = impl->mac ? EVP_MAC_CTX_new(impl->mac) : nullptr;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (!impl->mac_ctx ||
        EVP_MAC_init(impl->mac_ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1) {
        *error = "OpenSSL has no HMAC-SHA256";
        ERR_clear_error();
        return nullptr;
    }
    return std::unique_ptr<JwtKey>(new JwtKey(JwtAlg::HS256, 32, std::move(impl)));
}

std::unique_ptr<JwtKey> JwtKey::public_key_pem(std::string_view pem, std::string* error) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey) {
        *error = "no PEM public key found (want -----BEGIN PUBLIC KEY-----, e.g. from `openssl pkey -pubout`)";
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->pkey = pkey;
    impl->md_ctx = EVP_MD_CTX_new();
    if (!impl->md_ctx) {
        *error = "out of memory";
        return nullptr;
    }
    int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < kMinRsaBits) {
            *error = "the RSA key has " + std::to_string(bits) + " bits; RS256 needs at least " + std::to_string(kMinRsaBits);
            return nullptr;
        }
        size_t size = static_cast<size_t>(EVP_PKEY_get_size(pkey));
        return std::unique_ptr<JwtKey>(new JwtKey(JwtAlg::RS256, size, std::move(impl)));
    }
    if (id == EVP_PKEY_EC) {
        char group[64] = {};
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) != 1 ||
            strcmp(group, "prime256v1") != 0) {
            ERR_clear_error();
            *error = std::string("the EC key is on curve '") + group + "'; ES256 needs P-256 (prime256v1)";
            return nullptr;
        }
        return std::unique_ptr<JwtKey>(new JwtKey(JwtAlg::ES256, 64, std::move(impl)));
    }
    *error = "the public key is neither RSA (RS256) nor EC P-256 (ES256)";
    return nullptr;
}

bool JwtKey::hmac(const uint8_t* msg, size_t len, uint8_t out[32]) const {
    if (alg_ != JwtAlg::HS256) return false;
    size_t n = 0;
    EVP_MAC_CTX* ctx = impl_->mac_ctx;
    if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx, msg, len) != 1 ||
        EVP_MAC_final(ctx, out, &n, 32) != 1 || n != 32) {
        ERR_clear_error();
        return false;
    }
    return true;
}

namespace {

// JOSE carries an ECDSA signature as r||s, 32 bytes each (RFC 7518 3.4); OpenSSL wants DER.
// Returns the DER length, 0 on failure. der must hold 72 bytes (2 x (32 + 1 sign + 2) + 2).
int es256_der(const uint8_t* sig, uint8_t* der) {
    ECDSA_SIG* s = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(sig, 32, nullptr);
    BIGNUM* ss = BN_bin2bn(sig + 32, 32, nullptr);
    if (!s || !r || !ss || ECDSA_SIG_set0(s, r, ss) != 1) {
        BN_free(r);
        BN_free(ss);
        ECDSA_SIG_free(s);
        return 0;
    }
    uint8_t* p = der;
    int n = i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);  // frees r and ss too
    return n > 0 ? n : 0;
}

}  // namespace

bool JwtKey::verify(const uint8_t* msg, size_t len, const uint8_t* sig, size_t sig_len) const {
    if (sig_len != sig_size_) return false;
    if (alg_ == JwtAlg::HS256) {
        uint8_t mac[32];
        return hmac(msg, len, mac) && CRYPTO_memcmp(mac, sig, 32) == 0;
    }
    const uint8_t* check = sig;
    size_t check_len = sig_len;
    uint8_t der[80];
    if (alg_ == JwtAlg::ES256) {
        int n = es256_der(sig, der);
        if (n <= 0) return false;
        check = der;
        check_len = static_cast<size_t>(n);
    }
    EVP_MD_CTX* ctx = impl_->md_ctx;
    EVP_MD_CTX_reset(ctx);
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->pkey) == 1 &&
              EVP_DigestVerify(ctx, check, check_len, msg, len) == 1;
    ERR_clear_error();
    return ok;
}

}  // namespace wspush::auth
