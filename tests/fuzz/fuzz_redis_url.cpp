// libFuzzer target for cluster/redis_url (the --redis flag: an operator's text, but parsed
// before anything else and often pasted from elsewhere).
// Invariants (abort on violation): an accepted list gives 1-64 endpoints, each either a Unix
// socket with an absolute path or a host with a port > 0; no endpoint's display text (what
// logs and /v1/stats show) contains its password; a rejected list always says why.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cluster/redis_url.h"

using namespace wspush::cluster;

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "CHECK failed: %s\n", #x); abort(); } } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<RedisEndpoint> eps;
    std::string error;
    if (!parse_redis_urls(text, &eps, &error)) {
        CHECK(!error.empty());
        return 0;
    }
    CHECK(!eps.empty() && eps.size() <= 64);
    for (const RedisEndpoint& ep : eps) {
        if (ep.unix_path.empty()) CHECK(!ep.host.empty() && ep.port > 0);
        else CHECK(ep.unix_path[0] == '/' && ep.host.empty());
        CHECK(ep.db <= 65535);
        if (ep.password.size() >= 3) CHECK(ep.display.find(ep.password) == std::string::npos || ep.display.find("***") != std::string::npos);
    }
    return 0;
}
