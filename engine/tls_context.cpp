#include "engine/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wspush::engine {

namespace {

// Mozilla server-side TLS, "intermediate" (guidelines v5.7): TLS 1.2 ciphers; TLS 1.3 uses
// OpenSSL's default suites, which are the same three.
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr const char* kCiphers13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr int kTicketKeyBytes = 80;  // OpenSSL's name (16) + HMAC (32) + AES (32) keys

// The OpenSSL error queue as one line (and emptied, so the next caller starts clean).
std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

bool readable(const std::string& flag, const std::string& path, std::string* error) {
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) {
        *error = flag + " " + path + ": cannot read it: " + strerror(errno);
        return false;
    }
    fclose(f);
    return true;
}

// ALPN: http/1.1 when the client offers it; a client offering only other protocols (h2)
// goes on without ALPN rather than failing (it may still speak HTTP/1.1).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void*) {
    static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

SSL_CTX* build(const std::string& cert_file, const std::string& key_file, std::string* error) {
    if (!readable("--tls-cert", cert_file, error) || !readable("--tls-key", key_file, error)) return nullptr;
    ERR_clear_error();
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *error = "SSL_CTX_new: " + openssl_errors();
        return nullptr;
    }
    auto fail = [&](std::string what) {
        *error = std::move(what) + ": " + openssl_errors();
        SSL_CTX_free(ctx);
        return nullptr;
    };
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1)
        return fail("--tls-cert " + cert_file + ": not a PEM certificate (chain)");
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        return fail("--tls-key " + key_file + ": not a PEM private key (or encrypted)");
    if (SSL_CTX_check_private_key(ctx) != 1) {
        // OpenSSL's own words here ("no certificate assigned") would only confuse.
        ERR_clear_error();
        *error = "--tls-key " + key_file + ": does not match the certificate in " + cert_file;
        SSL_CTX_free(ctx);
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, kCiphers12) != 1 || SSL_CTX_set_ciphersuites(ctx, kCiphers13) != 1 ||
        SSL_CTX_set1_groups_list(ctx, kGroups) != 1)
        return fail("TLS cipher settings");
    SSL_CTX_set_dh_auto(ctx, 1);  // the DHE-RSA suites of the intermediate list need a group
    // Mozilla intermediate: the client picks (it knows whether it has AES hardware).
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    // Tickets only: the session lives in the client's ticket, not in a server cache that
    // would hold ~1 KB per client for minutes.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    return ctx;
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

bool TlsContext::load(const std::string& cert_file, const std::string& key_file, std::string* error) {
    SSL_CTX* ctx = build(cert_file, key_file, error);
    if (!ctx) return false;
    SSL_CTX_free(ctx_);
    ctx_ = ctx;
    cert_file_ = cert_file;
    key_file_ = key_file;
    return true;
}

bool TlsContext::reload(std::string* error) {
    SSL_CTX* fresh = build(cert_file_, key_file_, error);
    if (!fresh) return false;
    unsigned char keys[kTicketKeyBytes];
    if (SSL_CTX_get_tlsext_ticket_keys(ctx_, keys, sizeof keys) != 1 ||
        SSL_CTX_set_tlsext_ticket_keys(fresh, keys, sizeof keys) != 1) {
        OPENSSL_cleanse(keys, sizeof keys);
        *error = "carrying the session-ticket keys over: " + openssl_errors();
        SSL_CTX_free(fresh);
        return false;
    }
    OPENSSL_cleanse(keys, sizeof keys);
    SSL_CTX_free(ctx_);  // open connections hold their own references
    ctx_ = fresh;
    return true;
}

std::string TlsContext::describe() const {
    X509* cert = ctx_ ? SSL_CTX_get0_certificate(ctx_) : nullptr;
    if (!cert) return "no certificate";
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    std::string out = subject;
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (key) out += std::string(", ") + OBJ_nid2sn(EVP_PKEY_get_base_id(key)) + " " + std::to_string(EVP_PKEY_get_bits(key));
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio) {
        ASN1_TIME_print(bio, X509_get0_notAfter(cert));
        char* p = nullptr;
        long n = BIO_get_mem_data(bio, &p);
        out += ", expires " + std::string(p, static_cast<size_t>(n));
        BIO_free(bio);
    }
    return out;
}

}  // namespace wspush::engine
