// A server SSL_CTX with a fresh self-signed P-256 certificate, made in memory (no files), for
// tests and benchmarks of the TLS code. Header-only: each user links libssl anyway.
#pragma once
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace wspush::test {

// A fresh P-256 key and a self-signed certificate for it (CN=test, valid for an hour); the
// caller frees both.
inline X509* self_signed_cert(EVP_PKEY** key_out) {
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
    *key_out = key;
    return cert;
}

inline SSL_CTX* self_signed_server_ctx() {
    EVP_PKEY* key = nullptr;
    X509* cert = self_signed_cert(&key);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}

}  // namespace wspush::test
