#include "auth/token_minter.h"

#include <cstdio>

#include "auth/base64url.h"

namespace wspush::auth {

std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    out += '"';
    return out;
}

std::string mint_hs256_raw(const JwtKey& key, std::string_view header_json, std::string_view claims_json) {
    if (key.alg() != JwtAlg::HS256) return {};
    std::string token;
    base64url_encode(header_json.data(), header_json.size(), token);
    token += '.';
    base64url_encode(claims_json.data(), claims_json.size(), token);
    uint8_t mac[32];
    if (!key.hmac(reinterpret_cast<const uint8_t*>(token.data()), token.size(), mac)) return {};
    token += '.';
    base64url_encode(mac, sizeof mac, token);
    return token;
}

std::string mint_hs256(const JwtKey& key, const MintClaims& c) {
    std::string claims = "{\"sub\":" + json_quote(c.sub) + ",\"iat\":" + std::to_string(c.iat) +
                         ",\"exp\":" + std::to_string(c.exp);
    if (!c.send.empty()) claims += ",\"send\":" + json_quote(c.send);
    if (!c.audience.empty()) claims += ",\"aud\":" + json_quote(c.audience);
    if (!c.issuer.empty()) claims += ",\"iss\":" + json_quote(c.issuer);
    claims += '}';
    return mint_hs256_raw(key, R"({"alg":"HS256","typ":"JWT"})", claims);
}

}  // namespace wspush::auth
