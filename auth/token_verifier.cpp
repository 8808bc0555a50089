#include "auth/token_verifier.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>

#include "auth/base64url.h"

namespace wspush::auth {

namespace dom = simdjson::dom;

namespace {

// Each part decodes to at most 3/4 of kMaxTokenBytes.
constexpr size_t kMaxDecoded = kMaxTokenBytes / 4 * 3 + 3;

// A NumericDate (RFC 7519 2): an integer or fractional number of seconds, rounded down.
bool numeric_date(dom::element v, int64_t* out) {
    int64_t i;
    uint64_t u;
    double d;
    if (v.get_int64().get(i) == simdjson::SUCCESS) {
        *out = i;
    } else if (v.get_uint64().get(u) == simdjson::SUCCESS) {
        *out = INT64_MAX;  // past 2^63: never
    } else if (v.get_double().get(d) == simdjson::SUCCESS) {
        if (d >= 9.2e18) *out = INT64_MAX;
        else if (d <= -9.2e18) *out = INT64_MIN;
        else *out = static_cast<int64_t>(std::floor(d));
    } else {
        return false;
    }
    return true;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

}  // namespace

const char* token_error_name(TokenError e) {
    static const char* const names[] = {"ok",          "too_long",      "malformed",      "wrong_algorithm",
                                        "bad_signature", "expired",     "not_yet_valid",  "missing_expiry",
                                        "wrong_audience", "wrong_issuer", "bad_subject",  "bad_claim"};
    static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(TokenError::kCount));
    return names[static_cast<size_t>(e)];
}

struct TokenVerifier::Json {
    dom::parser parser;
    uint8_t scratch[kMaxDecoded + simdjson::SIMDJSON_PADDING];
    uint8_t sig[kMaxDecoded];
    Json() {
        simdjson::error_code e = parser.allocate(kMaxDecoded);  // once: no allocation per token
        (void)e;  // a failure here resurfaces as a parse error (refused token), never a crash
    }

    // Decodes one base64url part into scratch and parses it as a JSON object.
    bool object(std::string_view part, dom::object* out) {
        long n = base64url_decode(part, scratch);
        if (n < 0) return false;
        memset(scratch + n, 0, simdjson::SIMDJSON_PADDING);
        dom::element doc;
        if (parser.parse(scratch, static_cast<size_t>(n), false).get(doc) != simdjson::SUCCESS) return false;
        return doc.get_object().get(*out) == simdjson::SUCCESS;
    }
};

TokenVerifier::TokenVerifier(std::unique_ptr<JwtKey> key, VerifyOptions options)
    : key_(std::move(key)), options_(std::move(options)), json_(std::make_unique<Json>()) {}
TokenVerifier::~TokenVerifier() = default;

TokenError TokenVerifier::verify(std::string_view token, int64_t now_s, TokenClaims* out) {
    if (token.size() > kMaxTokenBytes) return TokenError::TooLong;
    size_t dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return TokenError::Malformed;
    size_t dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return TokenError::Malformed;
    std::string_view header = token.substr(0, dot1);
    std::string_view payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
    std::string_view signature = token.substr(dot2 + 1);

    // Header: the algorithm must be the key's. Parsed before the signature check because it
    // is what says which check applies; it is small and nothing else in it is acted on.
    dom::object obj;
    if (!json_->object(header, &obj)) return TokenError::Malformed;
    bool seen_alg = false, seen_typ = false;
    for (dom::key_value_pair kv : obj) {
        std::string_view s;
        if (kv.key == "alg") {
            if (seen_alg) return TokenError::Malformed;
            seen_alg = true;
            if (kv.value.get_string().get(s) != simdjson::SUCCESS) return TokenError::Malformed;
            if (s != jwt_alg_name(key_->alg())) return TokenError::WrongAlgorithm;
        } else if (kv.key == "typ") {
            if (seen_typ) return TokenError::Malformed;
            seen_typ = true;
            if (kv.value.get_string().get(s) != simdjson::SUCCESS || !ascii_iequals(s, "JWT"))
                return TokenError::Malformed;
        } else if (kv.key == "crit") {
            return TokenError::Malformed;  // RFC 7515 4.1.11: we understand no extension
        }
    }
    if (!seen_alg) return TokenError::WrongAlgorithm;

    long sig_len = base64url_decode(signature, json_->sig);
    if (sig_len < 0) return TokenError::Malformed;
    if (!key_->verify(reinterpret_cast<const uint8_t*>(token.data()), dot2, json_->sig, static_cast<size_t>(sig_len)))
        return TokenError::BadSignature;

    // Claims: signed by our key holder, still checked for shape.
    if (!json_->object(payload, &obj)) return TokenError::Malformed;
    bool seen_exp = false, seen_nbf = false, seen_sub = false, seen_aud = false, seen_iss = false, seen_send = false;
    bool aud_match = false, iss_match = false;
    int64_t nbf = 0;
    *out = TokenClaims{};
    for (dom::key_value_pair kv : obj) {
        const std::string_view k = kv.key;
        if (k == "exp") {
            if (seen_exp || !numeric_date(kv.value, &out->exp)) return TokenError::BadClaim;
            seen_exp = true;
        } else if (k == "nbf") {
            if (seen_nbf || !numeric_date(kv.value, &nbf)) return TokenError::BadClaim;
            seen_nbf = true;
        } else if (k == "sub") {
            if (seen_sub || kv.value.get_string().get(out->sub) != simdjson::SUCCESS) return TokenError::BadClaim;
            seen_sub = true;
        } else if (k == "iss") {
            std::string_view s;
            if (seen_iss || kv.value.get_string().get(s) != simdjson::SUCCESS) return TokenError::BadClaim;
            seen_iss = true;
            iss_match = s == options_.issuer;
        } else if (k == "aud") {
            if (seen_aud) return TokenError::BadClaim;
            seen_aud = true;
            std::string_view s;
            dom::array arr;
            if (kv.value.get_string().get(s) == simdjson::SUCCESS) {
                aud_match = s == options_.audience;
            } else if (kv.value.get_array().get(arr) == simdjson::SUCCESS) {
                for (dom::element a : arr) {
                    if (a.get_string().get(s) != simdjson::SUCCESS) return TokenError::BadClaim;
                    aud_match = aud_match || s == options_.audience;
                }
            } else {
                return TokenError::BadClaim;
            }
        } else if (k == "send") {
            std::string_view s;
            if (seen_send || kv.value.get_string().get(s) != simdjson::SUCCESS) return TokenError::BadClaim;
            seen_send = true;
            out->has_send = true;
            if (s == "all") out->send = SendScope::All;
            else if (s == "uid") out->send = SendScope::Uid;
            else if (s == "none") out->send = SendScope::None;
            else return TokenError::BadClaim;
        }
    }
    if (!seen_exp) return TokenError::MissingExpiry;
    if (now_s >= out->exp) return TokenError::Expired;
    if (seen_nbf && now_s < nbf - options_.nbf_leeway_s) return TokenError::NotYetValid;
    if (options_.audience.empty() ? seen_aud : !aud_match) return TokenError::WrongAudience;
    if (!options_.issuer.empty() && !iss_match) return TokenError::WrongIssuer;
    if (!seen_sub || out->sub.empty() || out->sub.size() > options_.max_sub_len ||
        out->sub.find(':') != std::string_view::npos)
        return TokenError::BadSubject;
    return TokenError::Ok;
}

}  // namespace wspush::auth
