// JwtKey: the one key a server verifies tokens with, and so the one algorithm it accepts.
//
// The algorithm is a property of the configured key, never of the token: an HMAC secret
// accepts HS256 only, an RSA public key RS256 only, a P-256 public key ES256 only. So
// `alg: none`, another algorithm, or the RS256->HS256 confusion (a token MAC'd with the
// public key's PEM bytes as an HMAC secret, libjwt issue #200) can never select a check
// that passes. Keys are parsed once, at start (a PEM parse costs ~240 us; a verify 2-43 us).
//
// Return contract: the factories return a key, or null with *error saying what is wrong
// with the bytes given (for a start-up message). verify() returns true only for a valid
// signature. Not thread-safe (scratch contexts inside): one key per event loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wspush::auth {

enum class JwtAlg : uint8_t { HS256, RS256, ES256 };

// "HS256", "RS256", "ES256": the JOSE names (RFC 7518 section 3.1).
std::string_view jwt_alg_name(JwtAlg alg);

// RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
constexpr size_t kMinHmacSecretBytes = 32;
// RSA keys under 2048 bits are refused (NIST SP 800-131A; RFC 7518 3.3 requires >= 2048).
constexpr int kMinRsaBits = 2048;

class JwtKey {
public:
    ~JwtKey();
    JwtKey(const JwtKey&) = delete;
    JwtKey& operator=(const JwtKey&) = delete;

    // HS256 with a shared secret (raw bytes, at least kMinHmacSecretBytes).
    static std::unique_ptr<JwtKey> hmac_secret(std::string_view secret, std::string* error);
    // RS256 (an RSA key of >= 2048 bits) or ES256 (an EC key on P-256) from a PEM
    // "PUBLIC KEY" block (SubjectPublicKeyInfo, as `openssl pkey -pubout` writes it).
    static std::unique_ptr<JwtKey> public_key_pem(std::string_view pem, std::string* error);

    JwtAlg alg() const { return alg_; }
    // Bytes of a valid signature for this algorithm (HS256 32, ES256 64 = r||s, RS256 the
    // modulus size). A signature of another length is refused before any crypto.
    size_t signature_size() const { return sig_size_; }

    // True when sig is a valid signature of msg under this key and algorithm. HS256 compares
    // the raw 32-byte MACs with CRYPTO_memcmp (time independent of where they differ).
    bool verify(const uint8_t* msg, size_t len, const uint8_t* sig, size_t sig_len) const;
    // HS256 keys only: the MAC of msg (to mint tokens). False on an internal OpenSSL error.
    bool hmac(const uint8_t* msg, size_t len, uint8_t out[32]) const;

private:
    struct Impl;
    JwtKey(JwtAlg alg, size_t sig_size, std::unique_ptr<Impl> impl);
    JwtAlg alg_;
    size_t sig_size_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wspush::auth
