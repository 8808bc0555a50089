// TLS 1.3 record protection (RFC 8446 §5) after a handshake that OpenSSL completed: the keys,
// sealing and opening of records, and the reading of what a client may send once the handshake
// is over. Pure: no sockets; the TlsTransport moves the bytes.
//
// Why our own record layer: OpenSSL 3.0 keeps an SSL object of ~8.6 KB per connection plus the
// ~5 KB the handshake leaves behind (session, cipher contexts, handshake buffers), whatever the
// connection does afterwards; kernel TLS, which would free it, needs the tls ULP that this kind
// of host often lacks (here: TCP_ULP "tls" is ENOENT). After the handshake a TLS 1.3 connection
// needs only its two traffic secrets, keys, IVs and sequence numbers: TrafficKeys below, 104
// bytes a direction. OpenSSL still does everything hard (the handshake, certificates, tickets,
// the AEAD itself through EVP); this file only frames records, which RFC 8446 specifies to the
// byte. TLS 1.2 connections stay on OpenSSL's record layer.
//
// Return contracts:
//   derive_keys()/next_generation(): false only if OpenSSL's KDF failed (out of memory).
//   RecordCipher::seal_*: write one record into out; see the functions.
//   RecordCipher::open(): true and the inner plaintext's bounds, or false (bad_record_mac).
//   parse_inner(): the content type and length of a decrypted record, or Bad.
//   read_post_handshake(): what a client's handshake record after the handshake asks for.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace wspush::engine::tls13 {

constexpr size_t kHeader = 5;                     // type, legacy version (2), length (2)
constexpr size_t kTag = 16;                       // all three suites' AEAD tags
constexpr size_t kMaxPlaintext = 16384;           // 2^14
constexpr size_t kMaxCiphertext = kMaxPlaintext + 256;  // RFC 8446 §5.2: the limit a receiver enforces
constexpr size_t kMaxRecord = kHeader + kMaxCiphertext;
constexpr size_t kOverhead = kHeader + 1 + kTag;  // what one sealed record adds (no padding)

enum ContentType : uint8_t { kChangeCipherSpec = 20, kAlert = 21, kHandshake = 22, kApplicationData = 23 };
// Alert descriptions we send (RFC 8446 §6).
enum AlertCode : uint8_t {
    kCloseNotify = 0,
    kUnexpectedMessage = 10,
    kBadRecordMac = 20,
    kRecordOverflow = 22,
    kIllegalParameter = 47,
    kDecodeError = 50,
};

// The three TLS 1.3 suites every client offers; anything else stays with OpenSSL.
enum class Suite : uint8_t { Aes128Gcm, Aes256Gcm, Chacha20Poly1305 };
// By IANA id (SSL_CIPHER_get_protocol_id): false for a suite not listed above.
bool suite_from_id(uint16_t id, Suite* out);
size_t secret_len(Suite s);  // the hash length: 48 for AES-256-GCM (SHA-384), else 32

// One direction's keys. The secret is kept for KeyUpdate (the next generation derives from it).
struct TrafficKeys {
    uint8_t secret[48];
    uint8_t key[32];
    uint8_t iv[12];
    uint64_t seq = 0;  // the next record's sequence number
};

// key and iv from secret (HKDF-Expand-Label "key"/"iv", through OpenSSL's TLS13-KDF); seq = 0.
bool derive_keys(Suite s, const uint8_t* secret, TrafficKeys* out);
// KeyUpdate: secret = HKDF-Expand-Label(secret, "traffic upd", "", Hash.length), new key/iv, seq = 0.
bool next_generation(Suite s, TrafficKeys* k);
// Wipes the keys (OPENSSL_cleanse).
void wipe(TrafficKeys* k);

// The record header of a received record. Ok: a protected record's header (outer type
// application_data, length 17..kMaxCiphertext); else the alert to send before closing.
struct Header {
    bool ok;
    uint8_t alert;
    size_t length;  // the ciphertext's length (what follows the 5 header bytes)
};
Header parse_header(const uint8_t* p);

// Inner plaintext: content || type || zeros. Finds the type (the last non-zero byte).
struct Inner {
    bool ok;          // false: all zeros (unexpected_message) or more than 2^14 + 1 bytes, padding
                      // included (record_overflow, §5.4)
    uint8_t alert;
    uint8_t type;
    size_t length;    // the content's length, at the start of the plaintext
};
Inner parse_inner(const uint8_t* p, size_t n);

// A handshake record received after the handshake. TLS 1.3 lets a client send only KeyUpdate
// then (post-handshake authentication is never requested), and a KeyUpdate must end its record
// (§5.1: no message spans a key change). Messages split over records are refused: the only
// legal one is 5 bytes, and no client fragments it.
struct PostHandshake {
    bool ok;          // false: send alert, close
    uint8_t alert;
    bool key_update;  // the client's next records use its next generation of keys
    bool update_requested;  // ... and it asks us to update ours
};
PostHandshake read_post_handshake(const uint8_t* p, size_t n);

// The AEAD contexts of a loop: `lanes` of them for sealing and as many for opening, chosen by
// the caller's lane number (the connection's fd) modulo lanes, created on first use. A context
// whose last record was this connection's only takes the next nonce; another connection's
// key costs a re-key (an AES key schedule and GHASH table, ~150 ns). So a loop with up to
// `lanes` busy connections rarely re-keys, and an idle connection holds no cipher state at all
// (a context is 1168 bytes in OpenSSL 3.0: 2.3 KB per connection if each had its own two).
class RecordCipher {
public:
    explicit RecordCipher(size_t lanes = 1);
    ~RecordCipher();
    RecordCipher(const RecordCipher&) = delete;
    RecordCipher& operator=(const RecordCipher&) = delete;
    bool ok() const { return ciphers_ok_; }

    // Seals data[0..len) (len <= kMaxPlaintext) plus the content type as one record into out,
    // which has room for len + kOverhead; data may be out + kHeader (sealed in place) or apart.
    // Returns the record's size (len + kOverhead), or 0 if OpenSSL failed. k.seq advances.
    size_t seal(Suite s, TrafficKeys& k, uint8_t type, const uint8_t* data, size_t len, uint8_t* out,
                uint32_t lane = 0);
    // Opens the record at rec (header + ciphertext, as parse_header() accepted) in place: on
    // true the inner plaintext is rec[kHeader, kHeader + *plain_len). k.seq advances either way
    // (a failure closes the connection).
    bool open(Suite s, TrafficKeys& k, uint8_t* rec, size_t ciphertext_len, size_t* plain_len, uint32_t lane = 0);

private:
    struct Lane {  // a context and the key it holds now (an address would be reused: keep the bytes)
        EVP_CIPHER_CTX* ctx = nullptr;
        uint8_t key[32] = {};
        Suite suite = Suite::Aes128Gcm;
        bool keyed = false;
    };
    EVP_CIPHER_CTX* ready(Lane& lane, Suite s, const TrafficKeys& k, int enc);
    struct Ciphers;  // the three fetched once (an EVP_aes_*() per init would fetch every time)
    const Ciphers* ciphers_;
    bool ciphers_ok_ = false;
    std::vector<Lane> seal_, open_;
};

}  // namespace wspush::engine::tls13
