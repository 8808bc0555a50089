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

// Each SSL_CTX holds a std::shared_ptr<TicketKeys> in this ex_data slot; OpenSSL deletes it when
// the context is freed (the last connection opened under an old context included).
void free_ticket_keys(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<std::shared_ptr<TicketKeys>*>(ptr);
}

int ticket_keys_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_ticket_keys);
    return index;
}

// A connection's marks (SSL ex_data, non-null when set): its ticket decrypted under the
// previous key (renewing); a ticket it offered was refused (counted once per connection).
int renewing_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}
int refused_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

TicketKeys* ticket_keys_of(SSL* ssl) {
    auto* keys = static_cast<std::shared_ptr<TicketKeys>*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_keys_index()));
    return keys ? keys->get() : nullptr;
}

// OpenSSL's ticket_key_evp_cb: once per ticket a handshake issues (enc = 1) or is offered
// (enc = 0); never per record.
int ticket_key_cb(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
    TicketKeys* keys = ticket_keys_of(ssl);
    if (!keys) return 0;  // not ours: no ticket (enc) or a full handshake
    if (enc) return keys->seal(name, iv, cipher, mac);
    int r = keys->open(name, iv, cipher, mac);
    if (r == 0 && !SSL_get_ex_data(ssl, refused_index())) {
        SSL_set_ex_data(ssl, refused_index(), ssl);
        keys->ticket_refused();
    }
    return r;
}

// OpenSSL's decrypt_ticket_cb: called after the MAC check and decryption with their outcome.
// Each status gets the answer OpenSSL gives without this callback (use it; renew when asked);
// a ticket renewed under the previous key is only marked here: OpenSSL may still refuse the
// session after this (its age; a TLS 1.3 binder that fails: a replayed ticket), so it counts
// as renewed when the handshake completes resumed (ticket_handshake_done).
SSL_TICKET_RETURN ticket_decrypted(SSL* ssl, SSL_SESSION*, const unsigned char*, size_t, SSL_TICKET_STATUS status,
                                   void*) {
    switch (status) {
    case SSL_TICKET_SUCCESS:
        return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW:
        SSL_set_ex_data(ssl, renewing_index(), ssl);  // any non-null value
        return SSL_TICKET_RETURN_USE_RENEW;
    default:  // empty, or not ours / forged / unreadable: a full handshake and a new ticket
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    }
}

void ticket_handshake_done(const SSL* cssl, int where, int) {
    if (!(where & SSL_CB_HANDSHAKE_DONE)) return;
    SSL* ssl = const_cast<SSL*>(cssl);
    if (!SSL_get_ex_data(ssl, renewing_index())) return;
    SSL_set_ex_data(ssl, renewing_index(), nullptr);  // once per connection
    if (TicketKeys* keys = ticket_keys_of(ssl); keys && SSL_session_reused(ssl)) keys->ticket_renewed();
}

SSL_CTX* build(const std::string& cert_file, const std::string& key_file, const std::shared_ptr<TicketKeys>& tickets,
               std::string* error) {
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
    // The lifetime hint clients see, and OpenSSL's own age limit of a ticket's session: R, which
    // the key that sealed it outlives (TicketKeys keeps it openable for at least R).
    SSL_CTX_set_timeout(ctx, static_cast<long>((tickets->rotate_every_ms() + 999) / 1000));
    auto* ref = new std::shared_ptr<TicketKeys>(tickets);
    if (ticket_keys_index() < 0 || SSL_CTX_set_ex_data(ctx, ticket_keys_index(), ref) != 1) {
        delete ref;
        return fail("TLS session-ticket keys");
    }
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb) != 1 ||
        SSL_CTX_set_session_ticket_cb(ctx, nullptr, ticket_decrypted, nullptr) != 1 || renewing_index() < 0 ||
        refused_index() < 0)
        return fail("TLS session-ticket keys");
    SSL_CTX_set_info_callback(ctx, ticket_handshake_done);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    return ctx;
}

}  // namespace

TlsContext::TlsContext(uint64_t ticket_rotate_ms, TicketKeys::Clock clock)
    : tickets_(std::make_shared<TicketKeys>(ticket_rotate_ms, std::move(clock))) {}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

bool TlsContext::load(const std::string& cert_file, const std::string& key_file, std::string* error) {
    SSL_CTX* ctx = build(cert_file, key_file, tickets_, error);
    if (!ctx) return false;
    SSL_CTX_free(ctx_);
    ctx_ = ctx;
    cert_file_ = cert_file;
    key_file_ = key_file;
    return true;
}

bool TlsContext::reload(std::string* error) {
    SSL_CTX* fresh = build(cert_file_, key_file_, tickets_, error);  // the same ticket keys
    if (!fresh) return false;
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
