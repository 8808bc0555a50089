// TicketKeys: the keys that seal and open TLS session tickets, rotated every R (the
// --tls-ticket-rotate interval). Return contract: seal() and open() return what OpenSSL's
// ticket_key_evp_cb must return (seal: 1 sealed, 0 no ticket this time, -1 error; open: 1
// opened under the current key, 2 opened under the previous key and the client gets a new
// ticket, 0 unknown key (a full handshake), -1 error); rotate_if_due() returns true when it
// made a new current key.
//
// Why: a session ticket is the session's secrets sealed under the server's ticket key, so
// whoever reads a key (memory, a core dump) opens every ticket sealed under it; for TLS 1.2
// that is the master secret, hence all of the session's traffic. A key that seals for R and
// opens for at most R more bounds what the keys in memory expose to 2R of tickets (TLS 1.2:
// sessions up to 3R old, a renewed ticket carrying its full handshake's). Cloudflare rotates
// hourly; Go's crypto/tls rotates daily but keeps keys for 7 days.
//
// The ring: the current key seals every new ticket; the previous one only opens (and the
// ticket is renewed under the current key). A key made at t seals until t+R and is erased
// (OPENSSL_cleanse) at t+2R at the latest: a ticket stays openable for at least R after it
// was issued and no key lives in memory longer than 2R. Rotation is checked by the event
// loop's tick (so it happens with no handshake at all) and again, lazily, on every seal and
// open (one clock read and a compare), so a late tick never lets a stale key seal.
//
// Keys: a 16-byte name (sent in clear in the ticket; never shared by the two keys), a 32-byte
// HMAC-SHA256 key and a 32-byte AES-256-CBC key, as OpenSSL's own default ticket keys.
// Not thread-safe: one event loop uses it (the callback runs inside SSL_do_handshake there).
#pragma once
#include <cstdint>
#include <functional>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace wspush::engine {

struct TicketStats {
    uint64_t rotations = 0;  // new current keys after the first one
    uint64_t renewed = 0;    // tickets that resumed under the previous key (MAC checked; the client got a new ticket)
    uint64_t refused = 0;    // connections that offered a ticket under a key not in the ring (retired, or never ours)
};

class TicketKeys {
public:
    static constexpr size_t kNameBytes = 16;
    using Clock = std::function<uint64_t()>;  // milliseconds, monotonic
    static uint64_t monotonic_ms();

    // The first key is made now (clock()).
    explicit TicketKeys(uint64_t rotate_every_ms, Clock clock = monotonic_ms);
    ~TicketKeys();  // both keys cleansed
    TicketKeys(const TicketKeys&) = delete;
    TicketKeys& operator=(const TicketKeys&) = delete;

    // A new ticket: its key name, a random IV, and the cipher and MAC set to the current key.
    int seal(unsigned char name[kNameBytes], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
    // A ticket the client offers: the key its name names, if still in the ring.
    int open(const unsigned char name[kNameBytes], const unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);

    // The current key has sealed for R: it becomes the previous one (the one before is erased)
    // and a new current key is made. A previous key that reached 2R is erased too.
    bool rotate_if_due(uint64_t now_ms);
    bool rotate_if_due() { return rotate_if_due(clock_()); }

    // A ticket open() sent for renewal passed OpenSSL's checks and the handshake completed
    // resumed (TlsContext's callbacks call this; open() cannot know: OpenSSL checks the MAC,
    // the session's age and the TLS 1.3 binder after it returns).
    void ticket_renewed() { ++stats_.renewed; }
    // open() returned 0 for a connection: counted once per connection by TlsContext's callback
    // (a TLS 1.3 client offers its ticket again after a HelloRetryRequest, and one ClientHello
    // may carry many PSK identities).
    void ticket_refused() { ++stats_.refused; }

    uint64_t rotate_every_ms() const { return every_ms_; }
    const TicketStats& stats() const { return stats_; }
    // The current key's name (null when none: the random source failed), for tests and logs.
    const unsigned char* current_name() const { return current_.live ? current_.name : nullptr; }
    const unsigned char* previous_name() const { return previous_.live ? previous_.name : nullptr; }

private:
    struct Key {
        unsigned char name[kNameBytes];
        unsigned char hmac[32];
        unsigned char aes[32];
        uint64_t made_ms = 0;
        bool live = false;
    };
    bool make(Key& k, uint64_t now_ms);
    static void erase(Key& k);
    int use(const Key& k, const unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, bool sealing);

    uint64_t every_ms_;
    Clock clock_;
    EVP_CIPHER* aes_ = nullptr;  // AES-256-CBC fetched once, not per handshake
    Key current_, previous_;
    TicketStats stats_;
};

}  // namespace wspush::engine
