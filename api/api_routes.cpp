#include "api/api_routes.h"

#include "codec/utf8.h"

namespace wspush::api {

namespace {

constexpr const char* kRouteNames[] = {
    "unknown", "healthz", "metrics", "push", "push_batch", "broadcast", "stats", "presence", "user_get",
    "user_disconnect", "group_get", "group_delete", "group_push", "group_member_add", "group_member_remove",
};
static_assert(sizeof kRouteNames / sizeof kRouteNames[0] == static_cast<size_t>(ApiRoute::kCount));

int hex_value(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

// The path below "/v1/" split on '/': fills segs[0..min(n, kMaxSegments)) and returns n, the
// number of segments ("users/a/" is three: "users", "a", ""), stopping at kMaxSegments + 1
// since no route has more. An empty segment is kept: in a parameter's place it is a 400.
constexpr size_t kMaxSegments = 4;  // groups/{group}/members/{uid}
size_t split_segments(std::string_view rest, std::string_view (&segs)[kMaxSegments]) {
    size_t n = 0;
    for (;;) {
        if (n == kMaxSegments) return n + 1;
        size_t slash = rest.find('/');
        segs[n++] = rest.substr(0, slash);
        if (slash == std::string_view::npos) return n;
        rest.remove_prefix(slash + 1);
    }
}

// One fixed-path route: exact path, one method.
void fixed(RouteMatch& m, ApiRoute r, std::string_view method, const char* want) {
    m.route = r;
    m.allow = want;
    m.method_allowed = method == want;
}

// A parameter must decode to 1+ bytes of UTF-8: responses echo it inside JSON strings, which
// RFC 8259 8.1 requires to be UTF-8, and no client could have logged in with anything else.
bool decode_param(std::string_view seg, std::string& scratch, std::string_view& out) {
    if (seg.empty() || !percent_decode(seg, scratch) || scratch.empty()) return false;
    if (!codec::utf8_valid(reinterpret_cast<const uint8_t*>(scratch.data()), scratch.size())) return false;
    out = scratch;
    return true;
}

// users/{uid}[/disconnect]
void match_users(std::string_view method, const std::string_view (&s)[kMaxSegments], size_t n, RouteMatch& m,
                 std::string& uid_scratch) {
    if (n == 2) {
        fixed(m, ApiRoute::UserGet, method, "GET");
    } else if (n == 3 && s[2] == "disconnect") {
        fixed(m, ApiRoute::UserDisconnect, method, "POST");
    } else {
        return;
    }
    m.params_ok = decode_param(s[1], uid_scratch, m.uid);
}

// groups/{group}[/push | /members | /members/{uid}]
void match_groups(std::string_view method, const std::string_view (&s)[kMaxSegments], size_t n, RouteMatch& m,
                  std::string& group_scratch, std::string& uid_scratch) {
    if (n == 2) {
        m.route = method == "DELETE" ? ApiRoute::GroupDelete : ApiRoute::GroupGet;
        m.allow = "GET, DELETE";
        m.method_allowed = method == "GET" || method == "DELETE";
    } else if (n == 3 && s[2] == "push") {
        fixed(m, ApiRoute::GroupPush, method, "POST");
    } else if (n == 3 && s[2] == "members") {
        fixed(m, ApiRoute::GroupMemberAdd, method, "POST");
    } else if (n == 4 && s[2] == "members") {
        fixed(m, ApiRoute::GroupMemberRemove, method, "DELETE");
        m.params_ok = decode_param(s[3], uid_scratch, m.uid);
    } else {
        return;
    }
    m.params_ok = m.params_ok && decode_param(s[1], group_scratch, m.group);
}

}  // namespace

const char* api_route_name(ApiRoute r) { return kRouteNames[static_cast<size_t>(r)]; }

bool api_route_pushes(ApiRoute r) {
    return r == ApiRoute::Push || r == ApiRoute::PushBatch || r == ApiRoute::Broadcast || r == ApiRoute::GroupPush;
}

void match_route(std::string_view method, std::string_view path, RouteMatch& m, std::string& group_scratch,
                 std::string& uid_scratch) {
    m = RouteMatch{};
    if (path == "/healthz") return fixed(m, ApiRoute::Healthz, method, "GET");
    if (path == "/metrics") return fixed(m, ApiRoute::Metrics, method, "GET");
    constexpr std::string_view kV1 = "/v1/";
    if (path.substr(0, kV1.size()) != kV1) return;
    std::string_view rest = path.substr(kV1.size());
    if (rest == "push") return fixed(m, ApiRoute::Push, method, "POST");
    if (rest == "push/batch") return fixed(m, ApiRoute::PushBatch, method, "POST");
    if (rest == "broadcast") return fixed(m, ApiRoute::Broadcast, method, "POST");
    if (rest == "stats") return fixed(m, ApiRoute::Stats, method, "GET");
    if (rest == "presence") return fixed(m, ApiRoute::Presence, method, "POST");
    std::string_view segs[kMaxSegments];
    size_t n = split_segments(rest, segs);
    if (segs[0] == "users") return match_users(method, segs, n, m, uid_scratch);
    if (segs[0] == "groups") return match_groups(method, segs, n, m, group_scratch, uid_scratch);
}

bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi << 4 | lo);
        i += 2;
    }
    return true;
}

std::string_view query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
            return pair.substr(name.size() + 1);
    }
    return {};
}

}  // namespace wspush::api
