// Listening TCP sockets and the addresses they bind. Return contract: open_listen_socket gives
// a non-negative fd, or -1 with *error set to a sentence fit for the log ("bind 0.0.0.0:1234:
// Address already in use"); the bool functions give false with *error set the same way.
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace wspush::engine {

// Where a listener binds: the resolved address and the text the user gave ("localhost").
struct ListenAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

// host: an IPv4 or IPv6 literal ("0.0.0.0", "::", "::1", also "[::1]") or a host name, which
// is resolved once at start (getaddrinfo; an IPv4 answer is preferred so that "localhost"
// binds 127.0.0.1, which every client tries). Blocking: start-up only.
bool resolve_listen_address(const std::string& host, uint16_t port, ListenAddress* out, std::string* error);

// 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool is_loopback(const ListenAddress& a);

// "127.0.0.1:1234", "[::1]:1234": an address as a client would type it.
std::string format_address(const ListenAddress& a);

// "127.0.0.1", "::1": the address alone, as resolve_listen_address() takes it back unchanged.
std::string numeric_host(const ListenAddress& a);

void set_port(ListenAddress* a, uint16_t port);

// The wildcard (0.0.0.0, ::) replaced by the loopback address of its family, so a URL built
// from it opens on this host; any other address unchanged.
ListenAddress reachable_locally(const ListenAddress& a);

// Non-blocking, close-on-exec, SO_REUSEADDR (and SO_REUSEPORT when reuse_port, so several
// workers can share a port); an IPv6 wildcard also accepts IPv4 (IPV6_V6ONLY off), as "::"
// means everywhere to most users. *bound_port receives the real port (useful with port 0).
int open_listen_socket(const std::string& host, uint16_t port, bool reuse_port, int backlog,
                       uint16_t* bound_port, std::string* error);

// "host:port", "[v6]:port" -> host (brackets removed), port. A bare IPv6 address without
// brackets ("::1:1235") is ambiguous and refused. Errors name the valid port range.
bool split_host_port(const std::string& s, std::string* host, uint16_t* port, std::string* error);

// A decimal port 0-65535, nothing else (no sign, no spaces, no "0x").
bool parse_port(const std::string& s, uint16_t* port);

}  // namespace wspush::engine
