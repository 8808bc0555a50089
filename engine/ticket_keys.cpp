#include "engine/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <time.h>

#include <cstring>

namespace wspush::engine {

uint64_t TicketKeys::monotonic_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

TicketKeys::TicketKeys(uint64_t rotate_every_ms, Clock clock)
    : every_ms_(rotate_every_ms ? rotate_every_ms : 1), clock_(std::move(clock)) {
    aes_ = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    make(current_, clock_());
}

TicketKeys::~TicketKeys() {
    erase(current_);
    erase(previous_);
    EVP_CIPHER_free(aes_);
}

// The secrets from OpenSSL's private DRBG (as its own ticket keys), the name from the public one.
// The name never equals the previous key's: a ticket must name exactly one key.
bool TicketKeys::make(Key& k, uint64_t now_ms) {
    for (int tries = 0; tries < 4; ++tries) {
        if (RAND_bytes(k.name, sizeof k.name) != 1) break;
        if (previous_.live && &k != &previous_ && memcmp(k.name, previous_.name, sizeof k.name) == 0) continue;
        if (RAND_priv_bytes(k.hmac, sizeof k.hmac) != 1 || RAND_priv_bytes(k.aes, sizeof k.aes) != 1) break;
        k.made_ms = now_ms;
        k.live = true;
        return true;
    }
    erase(k);  // no key rather than a weak one: no tickets until the next tick succeeds
    return false;
}

void TicketKeys::erase(Key& k) {
    OPENSSL_cleanse(&k, sizeof k);  // name, secrets, time and the live flag
}

bool TicketKeys::rotate_if_due(uint64_t now_ms) {
    // A previous key is erased at 2R after it was made, even when the current one is not due
    // (it became previous late, after a stalled tick).
    if (previous_.live && now_ms - previous_.made_ms >= 2 * every_ms_) erase(previous_);
    if (current_.live && now_ms - current_.made_ms < every_ms_) return false;
    // No current key (the last make() failed): only a retry. The previous key is the one that
    // sealed last and keeps opening its tickets until its own 2R above.
    if (current_.live) {
        erase(previous_);
        if (now_ms - current_.made_ms < 2 * every_ms_) previous_ = current_;
        erase(current_);
    }
    // After the first key, each new one is a rotation (a failed one is retried at the next tick).
    if (!make(current_, now_ms)) return false;
    ++stats_.rotations;
    return true;
}

int TicketKeys::use(const Key& k, const unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, bool sealing) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.hmac), sizeof k.hmac);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    const EVP_CIPHER* aes = aes_ ? aes_ : EVP_aes_256_cbc();
    int ok = sealing ? EVP_EncryptInit_ex(cipher, aes, nullptr, k.aes, iv)
                     : EVP_DecryptInit_ex(cipher, aes, nullptr, k.aes, iv);
    return ok == 1 ? 1 : -1;
}

int TicketKeys::seal(unsigned char name[kNameBytes], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) {
    rotate_if_due();
    if (!current_.live) return 0;  // the random source failed: no ticket, the handshake goes on
    // OpenSSL hands an EVP_MAX_IV_LENGTH buffer and uses the cipher's IV length (16 for CBC).
    if (RAND_bytes(iv, 16) != 1) return -1;
    memcpy(name, current_.name, kNameBytes);
    return use(current_, iv, cipher, mac, true);
}

int TicketKeys::open(const unsigned char name[kNameBytes], const unsigned char* iv, EVP_CIPHER_CTX* cipher,
                     EVP_MAC_CTX* mac) {
    rotate_if_due();
    // Names are public (they travel in clear): a plain compare.
    if (current_.live && memcmp(name, current_.name, kNameBytes) == 0) return use(current_, iv, cipher, mac, false);
    if (previous_.live && memcmp(name, previous_.name, kNameBytes) == 0) {
        // Not counted here: the MAC is checked after this returns, and a forgery naming the
        // previous key must not count as renewed (see ticket_renewed()).
        int r = use(previous_, iv, cipher, mac, false);
        return r == 1 ? 2 : r;
    }
    return 0;  // counted by the caller, once per connection (ticket_refused())
}

}  // namespace wspush::engine
