#include "registry/seeded_hash.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <xxhash.h>

namespace wspush::registry {

uint64_t random_seed() {
    uint64_t seed;
    for (;;) {
        const ssize_t n = getrandom(&seed, sizeof seed, 0);
        if (n == ssize_t(sizeof seed)) return seed;
        if (n < 0 && errno == EINTR) continue;
        break;  // ENOSYS, or a short read (never for 8 bytes)
    }
    static int here;
    const uint64_t parts[3] = {uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()),
                               uint64_t(reinterpret_cast<uintptr_t>(&here)),
                               uint64_t(reinterpret_cast<uintptr_t>(&seed))};
    return XXH3_64bits(parts, sizeof parts);
}

uint64_t process_seed() {
    static const uint64_t seed = random_seed();
    return seed;
}

uint64_t seeded_hash(const void* p, size_t n, uint64_t seed) noexcept {
    return XXH3_64bits_withSeed(p, n, seed);
}

}  // namespace wspush::registry
