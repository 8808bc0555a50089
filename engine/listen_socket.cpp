#include "engine/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wspush::engine {

namespace {

std::string unbracket(const std::string& host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
    return host;
}

}  // namespace

bool parse_port(const std::string& s, uint16_t* port) {
    if (s.empty() || s.size() > 5) return false;
    unsigned v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + static_cast<unsigned>(ch - '0');
    }
    if (v > 65535) return false;
    *port = static_cast<uint16_t>(v);
    return true;
}

bool resolve_listen_address(const std::string& host_in, uint16_t port, ListenAddress* out, std::string* error) {
    std::string host = unbracket(host_in);
    if (host.empty()) {
        *error = "listen address is empty (use 0.0.0.0 for every IPv4 interface, :: for IPv6 and IPv4)";
        return false;
    }
    struct addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) {
        *error = "cannot resolve '" + host + "': " + gai_strerror(rc);
        return false;
    }
    const struct addrinfo* pick = res;
    for (const struct addrinfo* a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) { pick = a; break; }
    memcpy(&out->addr, pick->ai_addr, pick->ai_addrlen);
    out->len = pick->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

bool is_loopback(const ListenAddress& a) {
    if (a.addr.ss_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(&a.addr);
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (a.addr.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.addr);
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

std::string numeric_host(const ListenAddress& a) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (a.addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a.addr)->sin_addr, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a.addr)->sin6_addr, buf, sizeof buf);
    return buf;
}

std::string format_address(const ListenAddress& a) {
    uint16_t port = ntohs(a.addr.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&a.addr)->sin_port
                                                       : reinterpret_cast<const sockaddr_in6*>(&a.addr)->sin6_port);
    std::string host = numeric_host(a);
    return (a.addr.ss_family == AF_INET ? host : "[" + host + "]") + ":" + std::to_string(port);
}

void set_port(ListenAddress* a, uint16_t port) {
    if (a->addr.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&a->addr)->sin_port = htons(port);
    else reinterpret_cast<sockaddr_in6*>(&a->addr)->sin6_port = htons(port);
}

ListenAddress reachable_locally(const ListenAddress& a) {
    ListenAddress r = a;
    if (r.addr.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&r.addr);
        if (in->sin_addr.s_addr == htonl(INADDR_ANY)) in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (r.addr.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&r.addr);
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) in6->sin6_addr = in6addr_loopback;
    }
    return r;
}

int open_listen_socket(const std::string& host, uint16_t port, bool reuse_port, int backlog,
                       uint16_t* bound_port, std::string* error) {
    ListenAddress a;
    if (!resolve_listen_address(host, port, &a, error)) {
        *error = "listen " + host + ": " + *error;
        return -1;
    }
    std::string where = format_address(a);
    int fd = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = "listen " + where + ": socket: " + strerror(errno);
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (a.addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a.addr), a.len) != 0 || listen(fd, backlog) != 0) {
        *error = "bind " + where + ": " + strerror(errno);
        close(fd);
        return -1;
    }
    socklen_t len = sizeof a.addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a.addr), &len);
    *bound_port = ntohs(a.addr.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&a.addr)->sin_port
                                                     : reinterpret_cast<sockaddr_in6*>(&a.addr)->sin6_port);
    return fd;
}

bool split_host_port(const std::string& s, std::string* host, uint16_t* port, std::string* error) {
    size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        *error = "'" + s + "' is not HOST:PORT (127.0.0.1:1235, localhost:1235, [::1]:1235)";
        return false;
    }
    std::string h = s.substr(0, colon);
    if (h.find(':') != std::string::npos && !(h.front() == '[' && h.back() == ']')) {
        *error = "'" + s + "' is ambiguous: write an IPv6 address in brackets, as in [::1]:1235";
        return false;
    }
    std::string p = s.substr(colon + 1);
    if (!parse_port(p, port)) {
        *error = "'" + s + "': '" + p + "' is not a port number; valid: 0-65535 (0: any free port)";
        return false;
    }
    *host = unbracket(h);
    if (host->find_first_of("[]") != std::string::npos) {
        *error = "'" + s + "': brackets go around a whole IPv6 address, as in [::1]:1235";
        return false;
    }
    if (host->empty()) {
        *error = "'" + s + "' has no host (127.0.0.1:1235, localhost:1235, [::1]:1235)";
        return false;
    }
    return true;
}

}  // namespace wspush::engine
