// Test keys and signers for RS256 and ES256 (the server only verifies; tests must sign).
#pragma once
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>
#include <string_view>

#include "auth/base64url.h"

namespace wspush::auth::test {

// A fresh private key: "RSA" (bits) or "EC" (P-256).
inline EVP_PKEY* make_rsa(size_t bits = 2048) { return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits); }
inline EVP_PKEY* make_p256() { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); }
inline EVP_PKEY* make_p384() { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); }

inline std::string public_pem(EVP_PKEY* k) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    char* p;
    long n = BIO_get_mem_data(b, &p);
    std::string s(p, static_cast<size_t>(n));
    BIO_free(b);
    return s;
}

// header.claims signed with k (RS256 or ES256 as the key's type says), JOSE-encoded.
inline std::string sign_token(EVP_PKEY* k, std::string_view header_json, std::string_view claims_json) {
    std::string t;
    base64url_encode(header_json.data(), header_json.size(), t);
    t += '.';
    base64url_encode(claims_json.data(), claims_json.size(), t);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t n = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, k);
    EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const uint8_t*>(t.data()), t.size());
    std::string sig(n, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<uint8_t*>(sig.data()), &n, reinterpret_cast<const uint8_t*>(t.data()),
                   t.size());
    sig.resize(n);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) {  // DER -> r||s, 32 bytes each
        const uint8_t* p = reinterpret_cast<const uint8_t*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        uint8_t rs[64];
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        sig.assign(reinterpret_cast<char*>(rs), 64);
    }
    t += '.';
    base64url_encode(sig.data(), sig.size(), t);
    return t;
}

}  // namespace wspush::auth::test
