// TLS for wsload's client connections (--tls): one client SSL_CTX per worker, and the
// non-blocking primitives the worker loop needs. Return contracts:
//   tls_handshake(): 1 done, 0 in progress (*want_write: wait for EPOLLOUT, else EPOLLIN), -1 failed.
//   tls_read():      plaintext bytes (> 0), 0 = nothing more now (WANT_READ), -1 = closed or failed.
//   tls_write():     plaintext bytes taken (a blocked write takes 0; the retry must start with
//                    the same bytes, which the OutputRing keeps), -1 = failed.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace wsload {

struct TlsClientOptions {
    std::string ca_file;     // trust these roots (else the system's)
    bool insecure = false;   // no verification at all (a throwaway certificate, no CA file)
};

// nullptr with *error set on failure.
SSL_CTX* tls_client_context(const TlsClientOptions& o, std::string* error);
// A client SSL on fd that verifies the server as `host` (an IP or a name). Null on failure.
SSL* tls_client_new(SSL_CTX* ctx, int fd, const std::string& host);
int tls_handshake(SSL* ssl, bool* want_write);
ssize_t tls_read(SSL* ssl, uint8_t* buf, size_t cap);
ssize_t tls_write(SSL* ssl, const uint8_t* data, size_t len);

}  // namespace wsload
