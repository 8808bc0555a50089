// ApiRoutes: which endpoint of the push API a request names, with its path parameters
// percent-decoded. Stateless apart from the caller's scratch strings; no allocation once
// those have grown to the longest parameter seen.
//
// Return contract of match_route(): always fills `m`.
//   m.route == ApiRoute::Unknown      no such path                    -> 404
//   m.route known, !m.method_allowed  path exists, method does not    -> 405 with "Allow: m.allow"
//   m.route known, !m.params_ok       a parameter is empty, holds bad percent-encoding or
//                                     decodes to bytes that are not UTF-8                -> 400
//   otherwise                         m.group / m.uid are the decoded segments (views into scratch)
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace wspush::api {

enum class ApiRoute : uint8_t {
    Unknown,
    Healthz,           // GET  /healthz
    Metrics,           // GET  /metrics
    Push,              // POST /v1/push
    PushBatch,         // POST /v1/push/batch
    Broadcast,         // POST /v1/broadcast
    Stats,             // GET  /v1/stats
    Presence,          // POST /v1/presence
    UserGet,           // GET  /v1/users/{uid}
    UserDisconnect,    // POST /v1/users/{uid}/disconnect
    GroupGet,          // GET  /v1/groups/{group}
    GroupDelete,       // DELETE /v1/groups/{group}
    GroupPush,         // POST /v1/groups/{group}/push
    GroupMemberAdd,    // POST /v1/groups/{group}/members
    GroupMemberRemove, // DELETE /v1/groups/{group}/members/{uid}
    kCount,
};

// Short stable name for metrics labels: "push", "group_push", ...
const char* api_route_name(ApiRoute r);
// Whether the route pushes messages (its handling time goes into the push latency histogram).
bool api_route_pushes(ApiRoute r);

struct RouteMatch {
    ApiRoute route = ApiRoute::Unknown;
    bool method_allowed = false;
    bool params_ok = true;
    const char* allow = "";   // methods the path accepts, for the Allow header of a 405
    std::string_view group;   // decoded {group}
    std::string_view uid;     // decoded {uid}
};

void match_route(std::string_view method, std::string_view path, RouteMatch& m, std::string& group_scratch,
                 std::string& uid_scratch);

// RFC 3986 2.1 percent-decoding of one path segment into out (cleared first). '+' stays '+'
// (that is a form-encoding rule, not a path one). False on a '%' not followed by two hex digits.
bool percent_decode(std::string_view in, std::string& out);

// The value of `name` in a query string "a=1&b=2" (not decoded: the API's query values are
// numbers); empty when absent.
std::string_view query_param(std::string_view query, std::string_view name);

}  // namespace wspush::api
