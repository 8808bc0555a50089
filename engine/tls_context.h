// TlsContext: the server's certificate, key and TLS settings as one OpenSSL SSL_CTX, and its
// reload. Return contract: load() and reload() return true, or false with *error set to a
// sentence fit for the log ("--tls-key k.pem: does not match the certificate in c.pem").
//
// Settings (why): TLS 1.2 and 1.3 only, Mozilla's "intermediate" ciphers and groups (what
// every current browser and client library speaks); ALPN http/1.1 (the only protocol served);
// stateless session tickets, one per full handshake, and no server-side session cache (a
// resuming client costs no server memory, and a reconnect storm skips the key exchange's
// signature); renegotiation refused; SSL_MODE_RELEASE_BUFFERS (an idle connection gives its
// 2 x ~17 KiB record buffers back); read-ahead (one read(2) takes every record the socket holds).
//
// Session tickets are sealed with TicketKeys (engine/ticket_keys.h): keys rotated every R
// (--tls-ticket-rotate), the previous one still opening tickets; the lifetime hint clients see
// (and OpenSSL's own age check of a session) is R. rotate_ticket_keys_if_due() is for the
// event loop's tick, so keys rotate with no handshake at all.
//
// Reload: a new SSL_CTX is built from the same files and swapped in for new connections; it
// shares the same TicketKeys, so tickets issued before the reload still resume. Connections
// already open keep the context they started with (OpenSSL reference-counts it); each context
// holds a reference to the TicketKeys (SSL_CTX ex_data), so the keys live as long as any
// context that may open a ticket, whatever the order they are freed in.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/ticket_keys.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace wspush::engine {

// Counters of the TLS listeners (one event loop owns them).
struct TlsStats {
    uint64_t handshakes = 0;          // completed
    uint64_t resumed = 0;             // ... of which resumed a session (ticket)
    uint64_t handshake_failures = 0;  // bad ClientHello, no common cipher, garbage (plain HTTP included)
    uint64_t plain_http = 0;          // ... of which an HTTP request sent in clear (answered 400 in clear)
    uint64_t handshake_aborted = 0;   // the client closed or reset mid-handshake
    uint64_t own_records = 0;         // TLS 1.3 connections moved to our record layer (SSL freed)
    uint64_t key_updates = 0;         // KeyUpdate messages received from clients
    uint64_t record_failures = 0;     // established connections closed for a bad record (MAC, type, size)
    uint64_t reloads = 0;             // SIGHUP reloads that took effect
    uint64_t reload_failures = 0;     // ... that failed (old certificate kept)
    uint64_t ticket_key_rotations = 0;  // new session-ticket keys (TicketStats, summed over contexts)
    uint64_t tickets_renewed = 0;       // handshakes resumed from a ticket under the previous key (renewed)
    uint64_t tickets_refused = 0;       // tickets under a key no longer (or never) in the ring
};

class TlsContext {
public:
    static constexpr uint64_t kDefaultTicketRotateMs = 3600 * 1000;  // the service passes its Config's
    explicit TlsContext(uint64_t ticket_rotate_ms = kDefaultTicketRotateMs,
                        TicketKeys::Clock clock = TicketKeys::monotonic_ms);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // Reads the certificate (chain) and key files; checks they match.
    bool load(const std::string& cert_file, const std::string& key_file, std::string* error);
    // Builds a new context from the same files; on failure the old one stays in use.
    bool reload(std::string* error);

    // For new connections. Valid until the next reload (SSL_new takes its own reference).
    SSL_CTX* get() const { return ctx_; }
    const std::string& cert_file() const { return cert_file_; }
    // The leaf certificate's subject and expiry, for the start-up log line.
    std::string describe() const;

    // The event loop's tick: rotates the ticket keys when R has passed (cheap otherwise: one
    // clock read and a compare). True when a new key was made.
    bool rotate_ticket_keys_if_due() { return tickets_->rotate_if_due(); }
    const TicketKeys& ticket_keys() const { return *tickets_; }

private:
    SSL_CTX* ctx_ = nullptr;
    std::shared_ptr<TicketKeys> tickets_;  // one more reference in each SSL_CTX built
    std::string cert_file_, key_file_;
};

}  // namespace wspush::engine
