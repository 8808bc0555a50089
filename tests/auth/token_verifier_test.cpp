// Every way a token is refused, each with its exact TokenError, and the ways it is accepted.
#include "auth/token_verifier.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/base64url.h"
#include "auth/token_minter.h"
#include "tests/auth/token_test_keys.h"

using namespace wspush::auth;
using wspush::auth::test::make_p256;
using wspush::auth::test::make_p384;
using wspush::auth::test::make_rsa;
using wspush::auth::test::public_pem;
using wspush::auth::test::sign_token;

namespace {

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes
constexpr const char* kHs = R"({"alg":"HS256","typ":"JWT"})";

std::unique_ptr<JwtKey> hs_key(const std::string& secret = kSecret) {
    std::string err;
    auto k = JwtKey::hmac_secret(secret, &err);
    EXPECT_TRUE(k) << err;
    return k;
}

std::unique_ptr<JwtKey> pem_key(EVP_PKEY* k) {
    std::string err;
    auto key = JwtKey::public_key_pem(public_pem(k), &err);
    EXPECT_TRUE(key) << err;
    return key;
}

std::string claims(std::string_view extra = "", int64_t exp = kNow + 60) {
    std::string c = R"({"sub":"alice","exp":)" + std::to_string(exp);
    if (!extra.empty()) c += "," + std::string(extra);
    return c + "}";
}

std::string hs(std::string_view claims_json, std::string_view header = kHs) {
    auto k = hs_key();
    return mint_hs256_raw(*k, header, claims_json);
}

struct Verify {
    TokenVerifier v;
    explicit Verify(std::unique_ptr<JwtKey> k, VerifyOptions o = {}) : v(std::move(k), std::move(o)) {}
    TokenError operator()(std::string_view token, int64_t now = kNow) {
        TokenClaims c;
        return v.verify(token, now, &c);
    }
};

std::string b64(std::string_view s) {
    std::string out;
    base64url_encode(s.data(), s.size(), out);
    return out;
}

}  // namespace

// ------------------------------------------------------------------- accepted

TEST(TokenVerifier, AcceptsHs256AndReturnsSubAndExp) {
    TokenVerifier v(hs_key(), {});
    TokenClaims c;
    ASSERT_EQ(v.verify(hs(claims()), kNow, &c), TokenError::Ok);
    EXPECT_EQ(c.sub, "alice");
    EXPECT_EQ(c.exp, kNow + 60);
    EXPECT_FALSE(c.has_send);
}

TEST(TokenVerifier, AcceptsTheRfc7515AppendixA1Signature) {
    // RFC 7515 A.1: a 64-byte HMAC key and a token with \r\n inside its JSON. It has no "sub",
    // so a valid signature shows as BadSubject before exp and Expired after it.
    const char* jwk_k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    uint8_t secret[64];
    ASSERT_EQ(base64url_decode(jwk_k, secret), 64);
    const char* token =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    Verify v(hs_key(std::string(reinterpret_cast<char*>(secret), 64)));
    EXPECT_EQ(v(token, 1300819379), TokenError::BadSubject);
    EXPECT_EQ(v(token, 1300819380), TokenError::Expired);
    std::string spoiled = token;
    spoiled[spoiled.size() - 2] = spoiled[spoiled.size() - 2] == 'X' ? 'Y' : 'X';
    EXPECT_EQ(v(spoiled, 1300819379), TokenError::BadSignature);
}

TEST(TokenVerifier, AcceptsRs256WithAnRsaPublicKey) {
    EVP_PKEY* k = make_rsa();
    Verify v(pem_key(k));
    EXPECT_EQ(v.v.key().alg(), JwtAlg::RS256);
    EXPECT_EQ(v(sign_token(k, R"({"alg":"RS256"})", claims())), TokenError::Ok);
    EVP_PKEY_free(k);
}

TEST(TokenVerifier, AcceptsEs256WithAP256PublicKey) {
    EVP_PKEY* k = make_p256();
    Verify v(pem_key(k));
    EXPECT_EQ(v.v.key().alg(), JwtAlg::ES256);
    for (int i = 0; i < 20; ++i)  // r or s with leading zero bytes must convert too
        EXPECT_EQ(v(sign_token(k, R"({"alg":"ES256","typ":"JWT"})", claims())), TokenError::Ok);
    EVP_PKEY_free(k);
}

TEST(TokenVerifier, ReadsTheSendClaim) {
    TokenVerifier v(hs_key(), {});
    TokenClaims c;
    ASSERT_EQ(v.verify(hs(claims(R"("send":"uid")")), kNow, &c), TokenError::Ok);
    EXPECT_TRUE(c.has_send);
    EXPECT_EQ(c.send, SendScope::Uid);
    ASSERT_EQ(v.verify(hs(claims(R"("send":"none")")), kNow, &c), TokenError::Ok);
    EXPECT_EQ(c.send, SendScope::None);
    ASSERT_EQ(v.verify(hs(claims(R"("send":"all")")), kNow, &c), TokenError::Ok);
    EXPECT_EQ(c.send, SendScope::All);
}

TEST(TokenVerifier, RoundsAFractionalExpDown) {
    TokenVerifier v(hs_key(), {});
    TokenClaims c;
    ASSERT_EQ(v.verify(hs(R"({"sub":"a","exp":1800000060.9})"), kNow, &c), TokenError::Ok);
    EXPECT_EQ(c.exp, kNow + 60);
}

TEST(TokenVerifier, IgnoresUnknownClaimsAndHeaderFields) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(R"("iat":1,"jti":"x","info":{"a":[1,2]})"), R"({"alg":"HS256","kid":"k1"})")),
              TokenError::Ok);
}

TEST(TokenVerifier, AcceptsTypInAnyCase) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(), R"({"typ":"jwt","alg":"HS256"})")), TokenError::Ok);
}

// ------------------------------------------------------------------- length and shape

TEST(TokenVerifier, RefusesATokenOverTheLengthBoundBeforeDecoding) {
    Verify v(hs_key());
    std::string token(kMaxTokenBytes + 1, 'A');
    EXPECT_EQ(v(token), TokenError::TooLong);
    // Exactly at the bound it is decoded (and found malformed, not too long).
    EXPECT_EQ(v(token.substr(0, kMaxTokenBytes)), TokenError::Malformed);
}

TEST(TokenVerifier, RefusesAnythingButThreeParts) {
    Verify v(hs_key());
    std::string t = hs(claims());
    EXPECT_EQ(v(""), TokenError::Malformed);
    EXPECT_EQ(v("alice"), TokenError::Malformed);
    EXPECT_EQ(v(t.substr(0, t.rfind('.'))), TokenError::Malformed);
    EXPECT_EQ(v(t + ".x"), TokenError::Malformed);
    EXPECT_EQ(v(t + "."), TokenError::Malformed);
}

TEST(TokenVerifier, RefusesBadBase64InAnyPart) {
    Verify v(hs_key());
    std::string t = hs(claims());
    size_t d1 = t.find('.'), d2 = t.rfind('.');
    EXPECT_EQ(v("*" + t.substr(1)), TokenError::Malformed);
    EXPECT_EQ(v(t.substr(0, d2) + ".+" + t.substr(d2 + 2)), TokenError::Malformed);
    EXPECT_EQ(v(t + "=="), TokenError::Malformed);
    // The payload is only decoded after the signature, so a spoiled payload is a bad signature.
    std::string p = t;
    p[d1 + 1] = '*';
    EXPECT_EQ(v(p), TokenError::BadSignature);
}

TEST(TokenVerifier, RefusesAHeaderThatIsNotAJsonObject) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(), "[\"HS256\"]")), TokenError::Malformed);
    EXPECT_EQ(v(hs(claims(), "{\"alg\":\"HS256\"")), TokenError::Malformed);
    EXPECT_EQ(v(hs(claims(), "")), TokenError::Malformed);
}

TEST(TokenVerifier, RefusesClaimsThatAreNotAJsonObjectEvenWhenSigned) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs("\"alice\"")), TokenError::Malformed);
    EXPECT_EQ(v(hs("{\"sub\":\"alice\",")), TokenError::Malformed);
    EXPECT_EQ(v(hs("{\"sub\":\"\xff\",\"exp\":9999999999}")), TokenError::Malformed);  // not UTF-8
}

TEST(TokenVerifier, RefusesADuplicateOrNonStringAlg) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(), R"({"alg":"HS256","alg":"HS256"})")), TokenError::Malformed);
    EXPECT_EQ(v(hs(claims(), R"({"alg":256})")), TokenError::Malformed);
}

TEST(TokenVerifier, RefusesATypOtherThanJwtAndAnyCrit) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(), R"({"alg":"HS256","typ":"at+jwt"})")), TokenError::Malformed);
    EXPECT_EQ(v(hs(claims(), R"({"alg":"HS256","crit":["exp"]})")), TokenError::Malformed);
}

// ------------------------------------------------------------------- algorithm pinning

TEST(TokenVerifier, RefusesAlgNone) {
    Verify v(hs_key());
    std::string unsigned_token = b64(R"({"alg":"none"})") + "." + b64(claims()) + ".";
    EXPECT_EQ(v(unsigned_token), TokenError::WrongAlgorithm);
    EXPECT_EQ(v(b64(R"({"alg":"None"})") + "." + b64(claims()) + "."), TokenError::WrongAlgorithm);
}

TEST(TokenVerifier, RefusesAMissingAlg) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(), R"({"typ":"JWT"})")), TokenError::WrongAlgorithm);
}

TEST(TokenVerifier, RefusesAnotherHmacAlgorithmWithTheRightKey) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(), R"({"alg":"HS384"})")), TokenError::WrongAlgorithm);
    EXPECT_EQ(v(hs(claims(), R"({"alg":"hs256"})")), TokenError::WrongAlgorithm);
}

TEST(TokenVerifier, RefusesAnRs256TokenUnderAnHmacKey) {
    EVP_PKEY* k = make_rsa();
    Verify v(hs_key());
    EXPECT_EQ(v(sign_token(k, R"({"alg":"RS256"})", claims())), TokenError::WrongAlgorithm);
    EVP_PKEY_free(k);
}

TEST(TokenVerifier, RefusesHs256MacdWithThePublicKeyPem) {
    // The classic confusion: the attacker knows the public key and uses its PEM as an HMAC
    // secret. Under an RSA or EC key, HS256 is simply not an algorithm this verifier knows.
    for (EVP_PKEY* k : {make_rsa(), make_p256()}) {
        std::string pem = public_pem(k);
        std::string err;
        auto as_secret = JwtKey::hmac_secret(pem, &err);
        ASSERT_TRUE(as_secret);
        std::string forged = mint_hs256_raw(*as_secret, kHs, claims());
        Verify v(pem_key(k));
        EXPECT_EQ(v(forged), TokenError::WrongAlgorithm);
        EVP_PKEY_free(k);
    }
}

TEST(TokenVerifier, RefusesEs256UnderAnRsaKeyAndRs256UnderAnEcKey) {
    EVP_PKEY* rsa = make_rsa();
    EVP_PKEY* ec = make_p256();
    Verify under_rsa(pem_key(rsa)), under_ec(pem_key(ec));
    EXPECT_EQ(under_rsa(sign_token(ec, R"({"alg":"ES256"})", claims())), TokenError::WrongAlgorithm);
    EXPECT_EQ(under_ec(sign_token(rsa, R"({"alg":"RS256"})", claims())), TokenError::WrongAlgorithm);
    // The right alg name over the other key's signature: a bad signature.
    EXPECT_EQ(under_rsa(sign_token(ec, R"({"alg":"RS256"})", claims())), TokenError::BadSignature);
    EXPECT_EQ(under_ec(sign_token(rsa, R"({"alg":"ES256"})", claims())), TokenError::BadSignature);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

// ------------------------------------------------------------------- signature

TEST(TokenVerifier, RefusesATokenSignedWithAnotherSecret) {
    Verify v(hs_key());
    auto other = hs_key("another secret of at least 32 bytes!");
    EXPECT_EQ(v(mint_hs256_raw(*other, kHs, claims())), TokenError::BadSignature);
}

TEST(TokenVerifier, RefusesAnAlteredPayload) {
    Verify v(hs_key());
    std::string t = hs(claims());
    size_t d1 = t.find('.'), d2 = t.rfind('.');
    std::string forged = t.substr(0, d1 + 1) + b64(R"({"sub":"root","exp":1800000060})") + t.substr(d2);
    EXPECT_EQ(v(forged), TokenError::BadSignature);
}

TEST(TokenVerifier, RefusesASignatureOfTheWrongLength) {
    Verify v(hs_key());
    std::string t = hs(claims());
    EXPECT_EQ(v(t.substr(0, t.size() - 3)), TokenError::BadSignature);  // 31 bytes
    EXPECT_EQ(v(t.substr(0, t.rfind('.') + 1)), TokenError::BadSignature);  // empty
}

TEST(TokenVerifier, RefusesAnEs256SignatureWithAnotherKey) {
    EVP_PKEY* k = make_p256();
    EVP_PKEY* other = make_p256();
    Verify v(pem_key(k));
    EXPECT_EQ(v(sign_token(other, R"({"alg":"ES256"})", claims())), TokenError::BadSignature);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

// ------------------------------------------------------------------- time

TEST(TokenVerifier, RefusesAnExpiredTokenFromTheSecondOfItsExp) {
    Verify v(hs_key());
    std::string t = hs(claims("", kNow));
    EXPECT_EQ(v(t, kNow - 1), TokenError::Ok);
    EXPECT_EQ(v(t, kNow), TokenError::Expired);
    EXPECT_EQ(v(t, kNow + 3600), TokenError::Expired);
}

TEST(TokenVerifier, RefusesATokenWithoutExp) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(R"({"sub":"alice"})")), TokenError::MissingExpiry);
}

TEST(TokenVerifier, RefusesANonNumericExpOrNbf) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(R"({"sub":"alice","exp":"1900000000"})")), TokenError::BadClaim);
    EXPECT_EQ(v(hs(claims(R"("nbf":null)"))), TokenError::BadClaim);
}

TEST(TokenVerifier, HonoursNbfWithFiveSecondsOfLeeway) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims("\"nbf\":" + std::to_string(kNow + 5)))), TokenError::Ok);
    EXPECT_EQ(v(hs(claims("\"nbf\":" + std::to_string(kNow + 6)))), TokenError::NotYetValid);
    EXPECT_EQ(v(hs(claims("\"nbf\":" + std::to_string(kNow - 100)))), TokenError::Ok);
}

// ------------------------------------------------------------------- audience and issuer

TEST(TokenVerifier, RequiresTheConfiguredAudience) {
    VerifyOptions o;
    o.audience = "wspush";
    Verify v(hs_key(), o);
    EXPECT_EQ(v(hs(claims(R"("aud":"wspush")"))), TokenError::Ok);
    EXPECT_EQ(v(hs(claims(R"("aud":["billing","wspush"])"))), TokenError::Ok);
    EXPECT_EQ(v(hs(claims(R"("aud":"billing")"))), TokenError::WrongAudience);
    EXPECT_EQ(v(hs(claims(R"("aud":["billing"])"))), TokenError::WrongAudience);
    EXPECT_EQ(v(hs(claims())), TokenError::WrongAudience);
    EXPECT_EQ(v(hs(claims(R"("aud":7)"))), TokenError::BadClaim);
    EXPECT_EQ(v(hs(claims(R"("aud":["wspush",7])"))), TokenError::BadClaim);
}

TEST(TokenVerifier, RefusesATokenForSomeAudienceWhenNoneIsConfigured) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(R"("aud":"billing")"))), TokenError::WrongAudience);
}

TEST(TokenVerifier, RequiresTheConfiguredIssuer) {
    VerifyOptions o;
    o.issuer = "https://shop.example";
    Verify v(hs_key(), o);
    EXPECT_EQ(v(hs(claims(R"("iss":"https://shop.example")"))), TokenError::Ok);
    EXPECT_EQ(v(hs(claims(R"("iss":"https://evil.example")"))), TokenError::WrongIssuer);
    EXPECT_EQ(v(hs(claims())), TokenError::WrongIssuer);
    EXPECT_EQ(v(hs(claims(R"("iss":1)"))), TokenError::BadClaim);
}

TEST(TokenVerifier, IgnoresIssWhenNoIssuerIsConfigured) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(R"("iss":"anyone")"))), TokenError::Ok);
}

// ------------------------------------------------------------------- subject and claims

TEST(TokenVerifier, RefusesAMissingEmptyOrColonSubject) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(R"({"exp":1800000060})")), TokenError::BadSubject);
    EXPECT_EQ(v(hs(R"({"sub":"","exp":1800000060})")), TokenError::BadSubject);
    EXPECT_EQ(v(hs(R"({"sub":"a:b","exp":1800000060})")), TokenError::BadSubject);
    EXPECT_EQ(v(hs(R"({"sub":42,"exp":1800000060})")), TokenError::BadClaim);
}

TEST(TokenVerifier, LimitsTheSubjectToMaxSubLenBytes) {
    VerifyOptions o;
    o.max_sub_len = 4;
    Verify v(hs_key(), o);
    EXPECT_EQ(v(hs(R"({"sub":"abcd","exp":1800000060})")), TokenError::Ok);
    EXPECT_EQ(v(hs(R"({"sub":"abcde","exp":1800000060})")), TokenError::BadSubject);
    EXPECT_EQ(v(hs(R"({"sub":"\u00e9\u00e9\u00e9","exp":1800000060})")), TokenError::BadSubject);  // 6 bytes
}

TEST(TokenVerifier, RefusesADuplicateClaim) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(R"({"sub":"alice","sub":"root","exp":1800000060})")), TokenError::BadClaim);
    EXPECT_EQ(v(hs(R"({"sub":"alice","exp":1800000060,"exp":1900000000})")), TokenError::BadClaim);
    EXPECT_EQ(v(hs(claims(R"("send":"none","send":"all")"))), TokenError::BadClaim);
}

TEST(TokenVerifier, RefusesAnUnknownSendScope) {
    Verify v(hs_key());
    EXPECT_EQ(v(hs(claims(R"("send":"everyone")"))), TokenError::BadClaim);
    EXPECT_EQ(v(hs(claims(R"("send":true)"))), TokenError::BadClaim);
}

// ------------------------------------------------------------------- keys

TEST(JwtKey, RefusesAShortHmacSecret) {
    std::string err;
    EXPECT_FALSE(JwtKey::hmac_secret(std::string(31, 'x'), &err));
    EXPECT_NE(err.find("at least 32"), std::string::npos) << err;
}

TEST(JwtKey, RefusesTextThatIsNotAPemPublicKey) {
    std::string err;
    EXPECT_FALSE(JwtKey::public_key_pem("hello", &err));
    EXPECT_NE(err.find("BEGIN PUBLIC KEY"), std::string::npos) << err;
}

TEST(JwtKey, RefusesAnEcKeyOffP256) {
    EVP_PKEY* k = make_p384();
    std::string err;
    EXPECT_FALSE(JwtKey::public_key_pem(public_pem(k), &err));
    EXPECT_NE(err.find("P-256"), std::string::npos) << err;
    EVP_PKEY_free(k);
}

TEST(JwtKey, RefusesAnRsaKeyUnder2048Bits) {
    EVP_PKEY* k = make_rsa(1024);
    std::string err;
    EXPECT_FALSE(JwtKey::public_key_pem(public_pem(k), &err));
    EXPECT_NE(err.find("2048"), std::string::npos) << err;
    EVP_PKEY_free(k);
}

TEST(TokenMinter, MintsTokensTheVerifierAccepts) {
    auto k = hs_key();
    MintClaims m;
    m.sub = "b\"ob";
    m.iat = kNow;
    m.exp = kNow + 10;
    m.send = "uid";
    TokenVerifier v(hs_key(), {});
    TokenClaims c;
    ASSERT_EQ(v.verify(mint_hs256(*k, m), kNow, &c), TokenError::Ok);
    EXPECT_EQ(c.sub, "b\"ob");
    EXPECT_EQ(c.send, SendScope::Uid);
}
