#include "server/http_api.h"

#include <openssl/crypto.h>

#include "server/push_service.h"

namespace wspush::server {

HttpApi::HttpApi(PushService& service, std::string api_key) : service_(service), api_key_(std::move(api_key)) {}
HttpApi::~HttpApi() = default;

// Constant-time comparison of the presented key (CRYPTO_memcmp), so response timing does not
// reveal how many leading bytes were right.
bool HttpApi::authorized(const codec::HttpRequest& req) const {
    if (api_key_.empty()) return true;
    std::string_view auth = req.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() != kBearer.size() + api_key_.size() || !codec::ascii_iequals(auth.substr(0, 7), kBearer))
        return false;
    return CRYPTO_memcmp(auth.data() + kBearer.size(), api_key_.data(), api_key_.size()) == 0;
}

void HttpApi::handle(engine::Connection& c, const codec::HttpRequest& req, uint8_t*, size_t) {
    engine::Server& server = service_.server();
    if (req.path == "/healthz") return server.respond(c, 200, "application/json", "{\"status\":\"ok\"}\n");
    if (!authorized(req))
        return server.respond(c, 401, "application/json", "{\"error\":\"missing or wrong API key\"}\n",
                              "WWW-Authenticate: Bearer\r\n");
    server.respond(c, 404, "application/json", "{\"error\":\"unknown route\"}\n");
}

}  // namespace wspush::server
