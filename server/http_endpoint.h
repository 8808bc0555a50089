// HttpEndpoint: what PushService hands a whole HTTP request to when it arrived on a listener
// that is not the WebSocket port (the push API, api/http_api.h). The interface lives here so
// that the push service never includes the layer above it: main.cpp wires the two together.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/http_request.h"
#include "engine/connection.h"

namespace wspush::server {

class HttpEndpoint {
public:
    virtual ~HttpEndpoint() = default;
    // The request's head is in, its body not read (engine::ServerHandler::on_http_head): true
    // to go on; false after answering with engine::Server::respond(), and the connection closes.
    virtual bool admit(engine::Connection& c, const codec::HttpRequest& req) = 0;
    // Answers the request with engine::Server::respond(); body is the decoded body (len bytes).
    virtual void handle(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) = 0;
};

}  // namespace wspush::server
