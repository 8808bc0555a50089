// HttpApi: the push API for backends, on its own listener (--api-listen). Requests arrive
// whole from the engine (keep-alive, pipelining, Content-Length and chunked bodies are the
// engine's job); this class authenticates, routes, and answers with Server::respond().
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/http_request.h"
#include "engine/connection.h"

namespace wspush::server {

class PushService;

class HttpApi {
public:
    // api_key empty: no authentication (only allowed on loopback; main.cpp enforces it).
    HttpApi(PushService& service, std::string api_key);
    ~HttpApi();
    void handle(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len);

private:
    bool authorized(const codec::HttpRequest& req) const;

    PushService& service_;
    std::string api_key_;
};

}  // namespace wspush::server
