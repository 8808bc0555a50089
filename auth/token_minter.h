// Minting HS256 tokens: for `wspush token` (tests, operations) and the unit tests. A backend
// mints its own with its language's JWT library (README "Security").
//
// Return contract: the compact token "header.claims.signature", or "" when the key is not an
// HS256 key (or OpenSSL failed).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/jwt_key.h"

namespace wspush::auth {

struct MintClaims {
    std::string_view sub;
    int64_t iat = 0;
    int64_t exp = 0;
    std::string_view send;      // empty: no "send" claim
    std::string_view audience;  // empty: no "aud"
    std::string_view issuer;    // empty: no "iss"
};

std::string mint_hs256(const JwtKey& key, const MintClaims& claims);

// header_json and claims_json taken as they are (base64url-encoded, then MAC'd): for tests
// that need tokens no well-behaved minter would write.
std::string mint_hs256_raw(const JwtKey& key, std::string_view header_json, std::string_view claims_json);

// s as a JSON string literal, quotes included (RFC 8259 7: '"', '\\' and controls escaped).
std::string json_quote(std::string_view s);

}  // namespace wspush::auth
