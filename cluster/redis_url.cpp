#include "cluster/redis_url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/un.h>

#include <charconv>

namespace wspush::cluster {
namespace {

constexpr size_t kMaxHost = 253;
constexpr size_t kMaxCredential = 512;
constexpr size_t kMaxShards = 64;

bool number(std::string_view s, uint32_t max, uint32_t* out) {
    if (s.empty() || s.size() > 10) return false;
    uint64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v > max) return false;
    *out = static_cast<uint32_t>(v);
    return true;
}

// %XX in user and password (a password may hold '@' or ':').
bool percent_decode(std::string_view s, std::string* out) {
    out->clear();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out->push_back(s[i]);
            continue;
        }
        uint32_t v = 0;
        if (i + 2 >= s.size()) return false;
        auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (r.ec != std::errc() || r.ptr != s.data() + i + 3) return false;
        out->push_back(static_cast<char>(v));
        i += 2;
    }
    return true;
}

// "[user]:password" or "password"; false on a bad %-escape or an empty password.
bool parse_auth(std::string_view auth, RedisEndpoint* ep) {
    if (auth.size() > 2 * kMaxCredential) return false;
    size_t colon = auth.find(':');
    std::string_view user = colon == std::string_view::npos ? std::string_view{} : auth.substr(0, colon);
    std::string_view pass = colon == std::string_view::npos ? auth : auth.substr(colon + 1);
    return percent_decode(user, &ep->user) && percent_decode(pass, &ep->password) && !ep->password.empty();
}

bool fail(std::string* error, std::string_view url, const char* why) {
    *error = "--redis '" + std::string(url.substr(0, 200)) + "': " + why;
    return false;
}

bool parse_one(std::string_view url, RedisEndpoint* ep, std::string* error) {
    constexpr std::string_view kTcp = "redis://", kUnix = "unix://";
    if (url.empty()) return fail(error, url, "empty URL in the list (a stray comma?)");
    if (url.substr(0, kUnix.size()) == kUnix) {
        std::string_view rest = url.substr(kUnix.size());
        size_t at = rest.find('@');
        if (at != std::string_view::npos && at < rest.find('/')) {  // unix://[user]:password@/path
            if (!parse_auth(rest.substr(0, at), ep)) return fail(error, url, "bad user:password@ before the path");
            rest = rest.substr(at + 1);
        }
        size_t q = rest.find('?');
        std::string_view path = rest.substr(0, q);
        if (path.empty() || path[0] != '/') return fail(error, url, "a Unix socket URL is unix:///absolute/path");
        if (path.size() >= sizeof(sockaddr_un::sun_path)) return fail(error, url, "socket path too long");
        if (q != std::string_view::npos) {
            std::string_view query = rest.substr(q + 1);
            if (query.substr(0, 3) != "db=" || !number(query.substr(3), 65535, &ep->db))
                return fail(error, url, "the only query is ?db=N (0-65535)");
        }
        ep->unix_path = std::string(path);
        ep->display = "unix://" + std::string(ep->password.empty() ? "" : "***@") + std::string(rest);
        return true;
    }
    if (url.substr(0, kTcp.size()) != kTcp)
        return fail(error, url, "expected redis://[user:password@]host[:port][/db] or unix:///path");
    std::string_view rest = url.substr(kTcp.size());
    std::string_view auth;
    size_t at = rest.rfind('@');
    if (at != std::string_view::npos) {
        auth = rest.substr(0, at);
        rest = rest.substr(at + 1);
    }
    size_t slash = rest.find('/');
    std::string_view hostport = rest.substr(0, slash);
    if (slash != std::string_view::npos && !number(rest.substr(slash + 1), 65535, &ep->db))
        return fail(error, url, "the database after '/' must be a number 0-65535");
    std::string_view host = hostport, port;
    if (!hostport.empty() && hostport[0] == '[') {  // [v6]:port
        size_t close = hostport.find(']');
        if (close == std::string_view::npos) return fail(error, url, "unterminated [IPv6] host");
        host = hostport.substr(1, close - 1);
        std::string_view after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return fail(error, url, "expected :port after ]");
            port = after.substr(1);
            if (port.empty()) return fail(error, url, "empty port");
        }
    } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
        if (port.empty()) return fail(error, url, "empty port");
    }
    if (host.empty()) return fail(error, url, "missing host");
    if (host.size() > kMaxHost) return fail(error, url, "host name too long");
    for (char ch : host)
        if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' || ch == '_'))
            return fail(error, url, "bad character in host");
    uint32_t p = 6379;
    if (!port.empty() && (!number(port, 65535, &p) || p == 0)) return fail(error, url, "port must be 1-65535");
    if (!auth.empty() && !parse_auth(auth, ep))
        return fail(error, url, "bad or empty password (%-escape '@', ':' and '%' in it)");
    ep->host = std::string(host);
    ep->port = static_cast<uint16_t>(p);
    ep->display = "redis://" + std::string(auth.empty() ? "" : "***@") + std::string(hostport) +
                  (ep->db ? "/" + std::to_string(ep->db) : "");
    return true;
}

}  // namespace

bool parse_redis_urls(std::string_view list, std::vector<RedisEndpoint>* out, std::string* error) {
    out->clear();
    if (list.empty()) return fail(error, list, "empty");
    size_t start = 0;
    for (;;) {
        size_t comma = list.find(',', start);
        std::string_view url = list.substr(start, comma == std::string_view::npos ? comma : comma - start);
        if (out->size() == kMaxShards) return fail(error, list, "more than 64 shards");
        RedisEndpoint ep;
        if (!parse_one(url, &ep, error)) return false;
        for (const RedisEndpoint& other : *out)
            if (other.host == ep.host && other.port == ep.port && other.unix_path == ep.unix_path)
                return fail(error, url, "the same Redis is listed twice (shards must be distinct servers)");
        out->push_back(std::move(ep));
        if (comma == std::string_view::npos) return true;
        start = comma + 1;
    }
}

bool resolve_endpoint(RedisEndpoint& ep, std::string* error) {
    if (!ep.unix_path.empty()) return true;
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(AF_INET, ep.host.c_str(), buf) == 1 || inet_pton(AF_INET6, ep.host.c_str(), buf) == 1) return true;
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(ep.host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        *error = "cannot resolve Redis host '" + ep.host + "': " + gai_strerror(rc);
        return false;
    }
    char text[INET6_ADDRSTRLEN] = "";
    if (res->ai_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, text, sizeof text);
    else
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, text, sizeof text);
    freeaddrinfo(res);
    ep.host = text;
    return true;
}

}  // namespace wspush::cluster
