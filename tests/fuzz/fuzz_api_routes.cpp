// libFuzzer target for api/api_routes: match_route, percent_decode and query_param.
// Input: byte 0 picks the method (GET, POST, DELETE, PUT, or a lower-case "get"); the rest is
// the request path (also used as a query string and as one raw segment).
// Invariants (abort on violation):
//   match_route agrees with a reference router (the path split on '/', compared segment by
//     segment with a table of the documented routes) on the route, whether the method is
//     allowed, the Allow list and whether the parameters are good;
//   a good parameter is exactly the reference percent-decoding of its segment (so it holds no
//     byte that the input does not spell), is non-empty UTF-8, lives in the caller's scratch,
//     and survives JsonWriter -> simdjson unchanged (responses echo it);
//   percent_decode agrees with the reference on any bytes; query_param returns a view into
//     the query that is the value of a "name=" pair starting the query or following '&'.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_json_writer.h"
#include "api/api_routes.h"

using namespace wspush::api;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

namespace {

// Reference percent-decoding (RFC 3986 2.1), one input byte at a time with strtol on the pair.
bool reference_decode(std::string_view in, std::string* out) {
    out->clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out->push_back(in[i]);
            continue;
        }
        if (in.size() - i < 3 || !isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !isxdigit(static_cast<unsigned char>(in[i + 2])))
            return false;
        char pair[3] = {in[i + 1], in[i + 2], 0};
        out->push_back(static_cast<char>(strtol(pair, nullptr, 16)));
        i += 2;
    }
    return true;
}

// Reference UTF-8 check (RFC 3629 table 3-7 ranges), by code point.
bool reference_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
        uint8_t c = b(0);
        size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (n == 0 || s.size() - i < n) return false;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k < n; ++k) {
            if ((b(k) & 0xc0) != 0x80) return false;
            cp = cp << 6 | (b(k) & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

struct RouteSpec {
    const char* pattern;  // '/'-separated segments; "{uid}" and "{group}" are parameters
    ApiRoute route;
    const char* method;
    const char* allow;
};

// The documented routes (README.md, "HTTP push API"). GET and DELETE of a group share a path.
const RouteSpec kRoutes[] = {
    {"healthz", ApiRoute::Healthz, "GET", "GET"},
    {"metrics", ApiRoute::Metrics, "GET", "GET"},
    {"v1/push", ApiRoute::Push, "POST", "POST"},
    {"v1/push/batch", ApiRoute::PushBatch, "POST", "POST"},
    {"v1/broadcast", ApiRoute::Broadcast, "POST", "POST"},
    {"v1/stats", ApiRoute::Stats, "GET", "GET"},
    {"v1/presence", ApiRoute::Presence, "POST", "POST"},
    {"v1/users/{uid}", ApiRoute::UserGet, "GET", "GET"},
    {"v1/users/{uid}/disconnect", ApiRoute::UserDisconnect, "POST", "POST"},
    {"v1/groups/{group}", ApiRoute::GroupGet, "GET", "GET, DELETE"},
    {"v1/groups/{group}", ApiRoute::GroupDelete, "DELETE", "GET, DELETE"},
    {"v1/groups/{group}/push", ApiRoute::GroupPush, "POST", "POST"},
    {"v1/groups/{group}/members", ApiRoute::GroupMemberAdd, "POST", "POST"},
    {"v1/groups/{group}/members/{uid}", ApiRoute::GroupMemberRemove, "DELETE", "DELETE"},
};

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    for (;;) {
        size_t slash = s.find('/');
        out.push_back(s.substr(0, slash));
        if (slash == std::string_view::npos) return out;
        s.remove_prefix(slash + 1);
    }
}

struct Expected {
    ApiRoute route = ApiRoute::Unknown;
    bool method_allowed = false;
    bool params_ok = true;
    std::string allow;
    bool has_group = false, has_uid = false;
    std::string group, uid;  // decoded, when params_ok
};

Expected reference_route(std::string_view method, std::string_view path) {
    Expected e;
    if (path.empty() || path[0] != '/') return e;
    std::vector<std::string_view> segs = split(path.substr(1));
    const RouteSpec* hit = nullptr;
    for (const RouteSpec& r : kRoutes) {
        std::vector<std::string_view> want = split(r.pattern);
        if (want.size() != segs.size()) continue;
        bool same = true;
        for (size_t i = 0; i < want.size() && same; ++i) same = want[i][0] == '{' || want[i] == segs[i];
        if (!same) continue;
        // Of the two group routes on one path, the one whose method matches (else the first).
        if (!hit || (method == r.method && method != hit->method)) hit = &r;
    }
    if (!hit) return e;
    e.route = hit->route;
    e.allow = hit->allow;
    e.method_allowed = method == hit->method;
    std::vector<std::string_view> want = split(hit->pattern);
    for (size_t i = 0; i < want.size(); ++i) {
        if (want[i][0] != '{') continue;
        bool is_uid = want[i] == "{uid}";
        std::string& out = is_uid ? e.uid : e.group;
        (is_uid ? e.has_uid : e.has_group) = true;
        if (!reference_decode(segs[i], &out) || out.empty() || !reference_utf8(out)) e.params_ok = false;
    }
    return e;
}

// The view must lie inside the caller's scratch string (no dangling view into a temporary).
void check_in(std::string_view v, const std::string& scratch) {
    CHECK(v.data() >= scratch.data() && v.data() + v.size() <= scratch.data() + scratch.size());
}

// A parameter echoed in a JSON response reads back as the same bytes.
void check_json_echo(std::string_view v) {
    static simdjson::dom::parser parser;
    std::string json;
    JsonWriter(json).str(v);
    simdjson::padded_string padded(json);
    std::string_view back;
    CHECK(parser.parse(padded).get_string().get(back) == simdjson::SUCCESS);
    CHECK(back == v);
}

void check_route(std::string_view method, std::string_view path) {
    static std::string group_scratch, uid_scratch;  // reused as HttpApi reuses them
    RouteMatch m;
    match_route(method, path, m, group_scratch, uid_scratch);
    Expected e = reference_route(method, path);
    CHECK(m.route == e.route);
    CHECK(m.method_allowed == e.method_allowed);
    CHECK(e.allow == m.allow);
    CHECK(strcmp(api_route_name(m.route), "") != 0);
    if (m.route == ApiRoute::Unknown) return;
    CHECK(m.params_ok == e.params_ok);
    if (!m.params_ok) return;
    CHECK(m.uid.empty() == !e.has_uid && m.group.empty() == !e.has_group);
    if (e.has_uid) {
        CHECK(m.uid == e.uid);
        CHECK(m.uid.size() <= path.size());
        check_in(m.uid, uid_scratch);
        check_json_echo(m.uid);
    }
    if (e.has_group) {
        CHECK(m.group == e.group);
        check_in(m.group, group_scratch);
        check_json_echo(m.group);
    }
}

void check_percent_decode(std::string_view in) {
    std::string out = "junk from before", ref;
    bool ok = percent_decode(in, out);
    CHECK(ok == reference_decode(in, &ref));
    if (ok) CHECK(out == ref && out.size() <= in.size());
}

void check_query_param(std::string_view query, std::string_view name) {
    std::string_view v = query_param(query, name);
    if (v.empty()) return;
    CHECK(v.data() > query.data() && v.data() + v.size() <= query.data() + query.size());
    size_t at = static_cast<size_t>(v.data() - query.data());
    CHECK(at > name.size() && query[at - 1] == '=');
    size_t start = at - 1 - name.size();
    CHECK(query.substr(start, name.size()) == name);
    CHECK(start == 0 || query[start - 1] == '&');
    CHECK(v.find('&') == std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static const char* const kMethods[] = {"GET", "POST", "DELETE", "PUT", "get"};
    std::string_view method = kMethods[data[0] % 5];
    // An exact-size heap copy: ASan catches any read past the end.
    std::vector<char> buf(data + 1, data + size);
    std::string_view path(buf.data(), buf.size());
    check_route(method, path);
    check_percent_decode(path);
    check_query_param(path, "limit");
    check_query_param(path, "offset");
    return 0;
}
