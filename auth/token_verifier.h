// TokenVerifier: a JWT connection token (RFC 7519, JWS compact serialization RFC 7515) in,
// the claims wspush uses out. Pure: bytes, the configured key and the current time in; no I/O.
//
// Return contract: verify() returns TokenError::Ok and fills *out, or the first reason the
// token is refused (out is then unspecified). Checks run cheapest first, and nothing the token
// says is trusted before its signature is:
//   1. length <= kMaxTokenBytes, else TooLong (before any decoding)
//   2. three base64url parts; the header a JSON object with "alg" exactly the key's algorithm
//      (so "none", another algorithm and RS/HS confusion are refused), "typ" absent or "JWT",
//      no "crit"; else Malformed / WrongAlgorithm
//   3. the signature, with the key parsed once at start; else BadSignature
//   4. the claims, a JSON object: "exp" required (MissingExpiry), now >= exp is Expired (no
//      leeway: a connection is closed at its exp, so a token is not honoured past it);
//      now < nbf - leeway is NotYetValid (leeway: a backend clock a little ahead of ours must
//      not refuse a token it has just minted); "aud" must contain the configured audience, and
//      a token that names an audience is refused when none is configured (RFC 7519 4.1.3: it
//      was minted for someone else); "iss" equal to the configured issuer when one is set;
//      "sub" the uid, by the uid rules (1..max_uid_len bytes, no ':'); "send" optional, one of
//      "all", "uid", "none". A claim of the wrong JSON type, or one of these named twice, is
//      BadClaim (a duplicate could be read differently by the backend's library).
//
// Cost (build/bench_auth, 2-vCPU EPYC VM, OpenSSL 3.0, CPU time): HS256 ~0.5 us for a
// 150-byte token, RS256-2048 ~20 us, ES256 ~75 us (the signature checks dominate); no
// allocation after the first call. Chosen over Debian's libjwt 1.10.2 by that benchmark:
// libjwt takes 3.7 / 330 / 400 us (jansson allocations; a PEM parse per RS/ES verify) and
// would still need the algorithm pinned and every claim checked by hand.
// Not thread-safe: one verifier per event loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt_key.h"

namespace wspush::auth {

// A connection token is a few hundred bytes; 4 KiB leaves room for custom claims and bounds
// the work an unauthenticated client can ask for.
constexpr size_t kMaxTokenBytes = 4096;

enum class TokenError : uint8_t {
    Ok,
    TooLong,         // over kMaxTokenBytes
    Malformed,       // not header.payload.signature of base64url, or not JSON objects
    WrongAlgorithm,  // header alg is not the configured key's ("none" included)
    BadSignature,
    Expired,         // now >= exp
    NotYetValid,     // now < nbf - leeway
    MissingExpiry,   // no exp claim
    WrongAudience,
    WrongIssuer,
    BadSubject,      // sub missing, empty, too long or containing ':'
    BadClaim,        // a claim of the wrong type, an unknown "send", a duplicate claim
    kCount,
};

// Short snake_case names, for logs and metrics labels.
const char* token_error_name(TokenError e);

// What a client may send. Ordered: a token can only narrow the server's setting (min).
enum class SendScope : uint8_t { None = 0, Uid = 1, All = 2 };

struct TokenClaims {
    std::string_view sub;    // the uid; points into the verifier: valid until the next verify()
    int64_t exp = 0;         // Unix seconds (a fractional NumericDate is rounded down)
    bool has_send = false;   // a "send" claim was present
    SendScope send = SendScope::All;
};

struct VerifyOptions {
    std::string audience;    // empty: tokens must carry no "aud"
    std::string issuer;      // empty: "iss" not checked
    size_t max_sub_len = 256;
    int64_t nbf_leeway_s = 5;
};

class TokenVerifier {
public:
    TokenVerifier(std::unique_ptr<JwtKey> key, VerifyOptions options);
    ~TokenVerifier();

    TokenError verify(std::string_view token, int64_t now_s, TokenClaims* out);

    const JwtKey& key() const { return *key_; }
    const VerifyOptions& options() const { return options_; }

private:
    struct Json;
    std::unique_ptr<JwtKey> key_;
    VerifyOptions options_;
    std::unique_ptr<Json> json_;  // parser and padded scratch, sized for kMaxTokenBytes once
};

}  // namespace wspush::auth
