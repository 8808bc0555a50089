#include "tools/wsload/client_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace wsload {

SSL_CTX* tls_client_context(const TlsClientOptions& o, std::string* error) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        *error = "SSL_CTX_new failed";
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Buffers kept (no SSL_MODE_RELEASE_BUFFERS): a load generator spends CPU, not memory, and
    // releasing them costs two 17 KB malloc/free pairs per read and write of a quiet
    // connection (bench_tls: an SSL_read of a 64-byte record 5x slower). The same client
    // measures every server.
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    if (o.insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        int ok = o.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                   : SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr);
        if (ok != 1) {
            char buf[256];
            ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
            *error = "--tls-ca " + o.ca_file + ": " + buf;
            SSL_CTX_free(ctx);
            return nullptr;
        }
    }
    // No client cache: --tls-resume keeps its one session itself (SSL_get1_session/SSL_set_session).
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

SSL* tls_client_new(SSL_CTX* ctx, int fd, const std::string& host) {
    SSL* ssl = SSL_new(ctx);
    if (!ssl) return nullptr;
    SSL_set_fd(ssl, fd);
    SSL_set_connect_state(ssl);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {  // a name, not an IP
        ERR_clear_error();
        SSL_set_tlsext_host_name(ssl, host.c_str());
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
    return ssl;
}

int tls_handshake(SSL* ssl, bool* want_write) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) return 1;
    int e = SSL_get_error(ssl, r);
    *want_write = e == SSL_ERROR_WANT_WRITE;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    ERR_clear_error();
    return -1;
}

ssize_t tls_read(SSL* ssl, uint8_t* buf, size_t cap) {
    size_t n = 0;
    if (SSL_read_ex(ssl, buf, cap, &n) == 1) return static_cast<ssize_t>(n);
    int e = SSL_get_error(ssl, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    ERR_clear_error();
    return -1;
}

ssize_t tls_write(SSL* ssl, const uint8_t* data, size_t len) {
    size_t n = 0;
    if (SSL_write_ex(ssl, data, len, &n) == 1) return static_cast<ssize_t>(n);
    int e = SSL_get_error(ssl, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    ERR_clear_error();
    return -1;
}

}  // namespace wsload
