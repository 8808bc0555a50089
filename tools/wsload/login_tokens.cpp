#include "tools/wsload/login_tokens.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "auth/base64url.h"
#include "auth/token_minter.h"

namespace wsload {

namespace {

constexpr int64_t kTokenTtl = 3600;  // s: outlives any run (--timeout caps runs well below)

bool read_file(const std::string& path, std::string* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return true;
}

std::string claims_for(uint32_t index, int64_t now) {
    return "{\"sub\":\"u" + std::to_string(index) + "\",\"iat\":" + std::to_string(now) +
           ",\"exp\":" + std::to_string(now + kTokenTtl) + "}";
}

// RS256 or ES256 with a private key (the key type decides), JOSE signature encoding.
bool sign_with_private_key(EVP_PKEY* key, const std::string& claims, std::string* token) {
    bool ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
    std::string header = ec ? R"({"alg":"ES256","typ":"JWT"})" : R"({"alg":"RS256","typ":"JWT"})";
    token->clear();
    wspush::auth::base64url_encode(header.data(), header.size(), *token);
    *token += '.';
    wspush::auth::base64url_encode(claims.data(), claims.size(), *token);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t n = 0;
    const auto* msg = reinterpret_cast<const unsigned char*>(token->data());
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &n, msg, token->size()) != 1)
        return false;
    std::string sig(n, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, msg, token->size()) != 1)
        return false;
    sig.resize(n);
    if (ec) {  // DER -> r||s (RFC 7518 3.4)
        const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        if (!es) return false;
        unsigned char rs[64];
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        sig.assign(reinterpret_cast<char*>(rs), 64);
    }
    *token += '.';
    wspush::auth::base64url_encode(sig.data(), sig.size(), *token);
    return true;
}

}  // namespace

bool mint_login_tokens(LoadOptions& o, std::string* error) {
    if (o.token_secret_file.empty() && o.token_key_file.empty()) return true;
    const std::string& path = o.token_secret_file.empty() ? o.token_key_file : o.token_secret_file;
    std::string bytes;
    if (!read_file(path, &bytes)) return *error = "cannot read " + path, false;
    int64_t now = time(nullptr);
    o.tokens.resize(o.connections);
    if (!o.token_secret_file.empty()) {
        while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.pop_back();
        std::unique_ptr<wspush::auth::JwtKey> key = wspush::auth::JwtKey::hmac_secret(bytes, error);
        if (!key) return false;
        for (uint32_t i = 0; i < o.connections; ++i)
            o.tokens[i] = wspush::auth::mint_hs256_raw(*key, R"({"alg":"HS256","typ":"JWT"})", claims_for(i, now));
        return true;
    }
    BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!key) return *error = path + ": no PEM private key (RSA or EC P-256)", false;
    bool ok = true;
    for (uint32_t i = 0; ok && i < o.connections; ++i) ok = sign_with_private_key(key, claims_for(i, now), &o.tokens[i]);
    EVP_PKEY_free(key);
    if (!ok) *error = path + ": signing failed";
    return ok;
}

}  // namespace wsload
