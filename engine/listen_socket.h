// Listening TCP sockets. Return contract: a non-negative fd, or -1 with *error set to a
// sentence fit for the log ("bind 0.0.0.0:1234: Address already in use").
#pragma once
#include <cstdint>
#include <string>

namespace wspush::engine {

// Non-blocking, close-on-exec, SO_REUSEADDR (and SO_REUSEPORT when reuse_port, so several
// workers can share a port). *bound_port receives the real port (useful with port 0).
int open_listen_socket(const std::string& host, uint16_t port, bool reuse_port, int backlog,
                       uint16_t* bound_port, std::string* error);

// "host:port" -> host, port. False on a malformed string.
bool split_host_port(const std::string& s, std::string* host, uint16_t* port);

}  // namespace wspush::engine
