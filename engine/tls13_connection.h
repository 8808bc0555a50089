// TlsTransport::Own: one TLS 1.3 connection on our record layer, and the secrets it collects
// from OpenSSL during the handshake. Internal to tls_transport*.cpp.
//
// Memory: 256 bytes (allocated at accept, with the SSL object; the SSL object goes, this
// stays). A partial record (carry) or unsent ciphertext (tail) is allocated only while one
// exists, at its exact size: an idle connection holds neither.
#pragma once
#include <cstdint>
#include <cstdlib>

#include "engine/tls13_records.h"
#include "engine/tls_transport.h"

namespace wspush::engine {

struct TlsTransport::Own {
    tls13::TrafficKeys rx;  // the client's: we open its records
    tls13::TrafficKeys tx;  // ours: we seal
    // Collected during the handshake (set by OpenSSL's callbacks).
    enum : uint8_t { kClientSecret = 1, kServerSecret = 2, kCountingRx = 4, kCountingTx = 8, kAll = 15 };
    uint8_t collected = 0;
    tls13::Suite suite = tls13::Suite::Aes128Gcm;
    bool update_owed = false;  // the client asked for a KeyUpdate: ours goes before our next record
    uint8_t head_len = 0;      // bytes of a record header that arrived alone
    uint8_t head[tls13::kHeader] = {};
    // The most plaintext a record of ours may carry: 2^14, or what the client asked for with
    // max_fragment_length (RFC 6066; OpenSSL grants it in TLS 1.3 too): 512..4096.
    uint16_t max_plain = tls13::kMaxPlaintext;
    int fd = -1;
    uint32_t carry_len = 0, carry_need = 0;  // a record begun: header + ciphertext so far, of carry_need
    uint8_t* carry = nullptr;
    uint32_t tail_off = 0, tail_len = 0;     // sealed bytes that the socket did not take yet
    uint8_t* tail = nullptr;

    ~Own() {
        free(carry);
        free(tail);
        tls13::wipe(&rx);
        tls13::wipe(&tx);
    }
};

}  // namespace wspush::engine
