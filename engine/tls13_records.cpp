#include "engine/tls13_records.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstring>

namespace wspush::engine::tls13 {

namespace {

size_t key_len(Suite s) { return s == Suite::Aes128Gcm ? 16 : 32; }
const char* digest_name(Suite s) { return s == Suite::Aes256Gcm ? "SHA384" : "SHA256"; }

// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1) through OpenSSL's TLS13-KDF, the
// code OpenSSL's own key schedule runs.
bool expand_label(Suite s, const uint8_t* secret, const char* label, uint8_t* out, size_t len) {
    static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr);
    if (!kdf) return false;
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    if (!ctx) return false;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    static char prefix[] = "tls13 ";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest_name(s)), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret), secret_len(s)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix, sizeof prefix - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, const_cast<char*>(label), strlen(label)),
        OSSL_PARAM_construct_end(),
    };
    bool ok = EVP_KDF_derive(ctx, out, len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok;
}

// nonce = iv XOR the 64-bit sequence number, left-padded to 12 bytes (RFC 8446 §5.3).
void make_nonce(const TrafficKeys& k, uint8_t* nonce) {
    memcpy(nonce, k.iv, 12);
    for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(k.seq >> (8 * i));
}

}  // namespace

bool suite_from_id(uint16_t id, Suite* out) {
    switch (id) {
        case 0x1301: *out = Suite::Aes128Gcm; return true;
        case 0x1302: *out = Suite::Aes256Gcm; return true;
        case 0x1303: *out = Suite::Chacha20Poly1305; return true;
        default: return false;
    }
}

size_t secret_len(Suite s) { return s == Suite::Aes256Gcm ? 48 : 32; }

bool derive_keys(Suite s, const uint8_t* secret, TrafficKeys* out) {
    if (out->secret != secret) memcpy(out->secret, secret, secret_len(s));
    out->seq = 0;
    return expand_label(s, out->secret, "key", out->key, key_len(s)) && expand_label(s, out->secret, "iv", out->iv, 12);
}

bool next_generation(Suite s, TrafficKeys* k) {
    uint8_t next[48];
    if (!expand_label(s, k->secret, "traffic upd", next, secret_len(s))) return false;
    bool ok = derive_keys(s, next, k);
    OPENSSL_cleanse(next, sizeof next);
    return ok;
}

void wipe(TrafficKeys* k) { OPENSSL_cleanse(k, sizeof *k); }

Header parse_header(const uint8_t* p) {
    const size_t len = size_t(p[3]) << 8 | p[4];
    // After the handshake every record is protected, so its outer type is application_data
    // (§5.2); a change_cipher_spec is legal only before the Finished (§5), a clear alert never.
    // The legacy version "MUST be ignored for all purposes" (§5.1).
    if (p[0] != kApplicationData) return {false, kUnexpectedMessage, len};
    if (len > kMaxCiphertext) return {false, kRecordOverflow, len};
    if (len < kTag + 1) return {false, kDecodeError, len};  // not even a content type and a tag
    return {true, 0, len};
}

Inner parse_inner(const uint8_t* p, size_t n) {
    // §5.4: the whole TLSInnerPlaintext (content, type and padding) MUST NOT exceed 2^14 + 1
    // bytes; the record header's limit (2^14 + 256) only bounds the ciphertext.
    if (n > kMaxPlaintext + 1) return {false, kRecordOverflow, 0, 0};
    size_t i = n;
    while (i > 0 && p[i - 1] == 0) --i;  // padding: zeros after the type
    if (i == 0) return {false, kUnexpectedMessage, 0, 0};
    if (i - 1 > kMaxPlaintext) return {false, kRecordOverflow, 0, 0};
    return {true, 0, p[i - 1], i - 1};
}

PostHandshake read_post_handshake(const uint8_t* p, size_t n) {
    constexpr uint8_t kKeyUpdate = 24;
    if (n < 4) return {false, kUnexpectedMessage, false, false};  // empty or a message split over records
    const size_t body = size_t(p[1]) << 16 | size_t(p[2]) << 8 | p[3];
    if (p[0] != kKeyUpdate) return {false, kUnexpectedMessage, false, false};
    if (body != 1) return {false, kDecodeError, false, false};
    if (n != 5) return {false, kUnexpectedMessage, false, false};  // a KeyUpdate must end its record
    if (p[4] > 1) return {false, kIllegalParameter, false, false};
    return {true, 0, true, p[4] == 1};
}

struct RecordCipher::Ciphers {
    EVP_CIPHER* by_suite[3];
};

RecordCipher::RecordCipher(size_t lanes) : seal_(lanes ? lanes : 1), open_(lanes ? lanes : 1) {
    static const Ciphers ciphers = {{EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
                                     EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr),
                                     EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr)}};
    ciphers_ = &ciphers;
    ciphers_ok_ = ciphers.by_suite[0] && ciphers.by_suite[1] && ciphers.by_suite[2];
}

RecordCipher::~RecordCipher() {
    for (auto* lanes : {&seal_, &open_}) {
        for (Lane& l : *lanes) {
            EVP_CIPHER_CTX_free(l.ctx);
            OPENSSL_cleanse(l.key, sizeof l.key);
        }
    }
}

// The lane's context, set up for k's next record (its nonce); nullptr if OpenSSL failed.
EVP_CIPHER_CTX* RecordCipher::ready(Lane& lane, Suite s, const TrafficKeys& k, int enc) {
    if (!lane.ctx && !(lane.ctx = EVP_CIPHER_CTX_new())) return nullptr;
    uint8_t nonce[12];
    make_nonce(k, nonce);
    const size_t klen = key_len(s);
    int ok;
    if (lane.keyed && lane.suite == s && memcmp(lane.key, k.key, klen) == 0) {
        ok = EVP_CipherInit_ex(lane.ctx, nullptr, nullptr, nullptr, nonce, enc);  // same key: the nonce only
    } else {
        // The cipher is passed only when it changes: passing it again resets the context.
        const EVP_CIPHER* c = lane.keyed && lane.suite == s ? nullptr : ciphers_->by_suite[int(s)];
        ok = EVP_CipherInit_ex(lane.ctx, c, nullptr, k.key, nonce, enc);
        lane.keyed = ok == 1;
        lane.suite = s;
        memcpy(lane.key, k.key, klen);
    }
    return ok == 1 ? lane.ctx : nullptr;
}

// The tag moves through the provider's parameters directly: EVP_CIPHER_CTX_ctrl() would build
// the same OSSL_PARAM array on every call after a lookup by name.
namespace {
bool get_tag(EVP_CIPHER_CTX* ctx, uint8_t* tag) {
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kTag),
                           OSSL_PARAM_construct_end()};
    return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}
bool set_tag(EVP_CIPHER_CTX* ctx, uint8_t* tag) {
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kTag),
                           OSSL_PARAM_construct_end()};
    return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}
}  // namespace

size_t RecordCipher::seal(Suite s, TrafficKeys& k, uint8_t type, const uint8_t* data, size_t len, uint8_t* out,
                          uint32_t lane) {
    const size_t clen = len + 1 + kTag;
    out[0] = kApplicationData;
    out[1] = 3;
    out[2] = 3;
    out[3] = static_cast<uint8_t>(clen >> 8);
    out[4] = static_cast<uint8_t>(clen);
    EVP_CIPHER_CTX* ctx = ready(seal_[lane % seal_.size()], s, k, 1);
    if (!ctx) return 0;
    ++k.seq;
    uint8_t* p = out + kHeader;
    int n = 0;
    if (EVP_EncryptUpdate(ctx, nullptr, &n, out, kHeader) != 1) return 0;  // the header is the AAD
    if (data == p) {  // in place: the type byte joins the data, one pass
        p[len] = type;
        if (EVP_EncryptUpdate(ctx, p, &n, p, static_cast<int>(len + 1)) != 1) return 0;
        p += n;
    } else {
        if (len > 0) {
            if (EVP_EncryptUpdate(ctx, p, &n, data, static_cast<int>(len)) != 1) return 0;
            p += n;
        }
        if (EVP_EncryptUpdate(ctx, p, &n, &type, 1) != 1) return 0;
        p += n;
    }
    if (EVP_EncryptFinal_ex(ctx, p, &n) != 1) return 0;
    p += n;
    if (!get_tag(ctx, p)) return 0;
    p += kTag;
    return static_cast<size_t>(p - out) == kHeader + clen ? kHeader + clen : 0;
}

bool RecordCipher::open(Suite s, TrafficKeys& k, uint8_t* rec, size_t ciphertext_len, size_t* plain_len,
                        uint32_t lane) {
    EVP_CIPHER_CTX* ctx = ready(open_[lane % open_.size()], s, k, 0);
    if (!ctx) return false;
    ++k.seq;
    const size_t body = ciphertext_len - kTag;
    uint8_t* p = rec + kHeader;
    int n = 0, fin = 0;
    if (EVP_DecryptUpdate(ctx, nullptr, &n, rec, kHeader) != 1) return false;
    if (EVP_DecryptUpdate(ctx, p, &n, p, static_cast<int>(body)) != 1) return false;
    if (!set_tag(ctx, p + body)) return false;
    if (EVP_DecryptFinal_ex(ctx, p + n, &fin) != 1) return false;
    *plain_len = static_cast<size_t>(n + fin);
    return *plain_len == body;
}

}  // namespace wspush::engine::tls13
