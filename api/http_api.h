// HttpApi: the push API for backends, on its own listener (--api-listen). Requests arrive
// whole from the engine (keep-alive, pipelining, Content-Length and chunked bodies, 408/411/
// 413/431 are the engine's job); this class authenticates, routes, validates the whole
// request, acts, and answers with Server::respond(). Endpoints: docs/api.md.
//
// Contract of every endpoint handler (int handler(...)): returns the HTTP status and leaves
// the JSON body in out_. A handler parses and checks everything before it changes anything, so
// an error status means nothing was applied.
//
// The handlers live in three files by subject: api_push.cpp (push, batch, broadcast, group
// push), api_groups.cpp (membership), api_users.cpp (presence, kick); this file holds the
// dispatch, authentication, /healthz, /metrics and /v1/stats.
//
// Per-request cost once warm: no allocation but the response frame and, per pushed message, the
// one shared frame the router encodes; the buffers below are reused.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/http_request.h"
#include "engine/connection.h"
#include "registry/uid_table.h"
#include "api/api_metrics.h"
#include "api/api_request_parser.h"
#include "api/api_routes.h"
#include "server/http_endpoint.h"

namespace wspush::api {

class HttpApi final : public server::HttpEndpoint {
public:
    // api_key empty: no authentication (only allowed on loopback; main.cpp enforces it).
    HttpApi(PushService& service, std::string api_key);
    ~HttpApi() override;
    // Before the body: a wrong key is 401 and, with no key, a browser's request (Origin) or a
    // non-loopback Host is 403 (CSRF, DNS rebinding); the connection closes after the answer.
    bool admit(engine::Connection& c, const codec::HttpRequest& req) override;
    void handle(engine::Connection& c, const codec::HttpRequest& req, uint8_t* body, size_t len) override;

    const ApiMetrics& metrics() const { return metrics_; }

private:
    bool authorized(const codec::HttpRequest& req) const;
    // 0 when the request may go on, else the status it gets (out_ and extra set).
    int vet(const codec::HttpRequest& req, char* extra, size_t extra_cap);
    int dispatch(const codec::HttpRequest& req, const uint8_t* body, size_t len);
    int error(int status, std::string_view message);
    int error(const ApiError& err);

    // http_api.cpp
    int get_metrics();
    int get_stats();
    // api_push.cpp
    int push_one(const uint8_t* body, size_t len, PushTargetsAllowed targets, PushTarget route, std::string_view name);
    int push(const uint8_t* body, size_t len);
    int push_batch(const codec::HttpRequest& req, const uint8_t* body, size_t len);
    int broadcast(const uint8_t* body, size_t len);
    int group_push(const uint8_t* body, size_t len);
    size_t deliver(const PushItem& item);
    // api_groups.cpp
    int group_get(const codec::HttpRequest& req);
    int group_delete();
    int group_member_add(const uint8_t* body, size_t len);
    int group_member_remove();
    // api_users.cpp
    int user_get();
    int user_disconnect(const uint8_t* body, size_t len);
    int presence(const uint8_t* body, size_t len);

    PushService& service_;
    bool has_key_;
    unsigned char key_digest_[32];  // SHA-256 of the key: compared in constant time, length included
    ApiRequestParser parser_;
    ApiMetrics metrics_;
    RouteMatch match_;                        // the request being handled
    std::string group_scratch_, uid_scratch_; // decoded path parameters
    PushBatch batch_;
    std::vector<std::string_view> uids_;      // presence lists, group pages, a push's uids
    std::vector<registry::ConnSpan> spans_;   // presence: the connections of each of uids_
    std::vector<size_t> results_;             // per item of a batch
    std::string out_;                         // response body
    bool out_is_json_ = true;
};

}  // namespace wspush::api
