// RedisUrl: the --redis flag. `redis://[[user]:password@]host[:port][/db]` or
// `unix://[[user]:password@]/path[?db=N]`; several comma-separated URLs are
// independent shards. Pure parsing, no I/O: the host name is resolved later (resolve_endpoint),
// once at start, because hiredis 0.14 connects with a blocking getaddrinfo.
//
// Contract: parse_redis_urls returns true and fills out, or false with *error saying which URL
// and what is wrong. Every field is bounded (host 253, path 107, user/password 512, db 0-65535).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wspush::cluster {

struct RedisEndpoint {
    std::string host;       // numeric once resolved; empty for a Unix socket
    uint16_t port = 6379;
    std::string unix_path;  // set for unix://
    std::string user;       // AUTH user (Redis 6 ACL); empty: AUTH with the password alone
    std::string password;   // empty: no AUTH
    uint32_t db = 0;        // SELECT when non-zero
    std::string display;    // the URL without its password, for logs and /v1/stats
};

bool parse_redis_urls(std::string_view list, std::vector<RedisEndpoint>* out, std::string* error);
// Resolves ep.host to a numeric address (blocking getaddrinfo: call at start only).
bool resolve_endpoint(RedisEndpoint& ep, std::string* error);

}  // namespace wspush::cluster
