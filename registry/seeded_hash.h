// Hashing for tables whose keys clients choose: uids, group names, client addresses.
//
// Keys are hashed with XXH3 under a random 64-bit seed: a UidTable draws its own
// (random_seed()), the std:: tables share one per process (process_seed()), as absl's do.
// Unseeded, a client that knows the hash can work out offline many keys that land in one
// bucket or one home slot, and every lookup among them then walks the whole pile (HashDoS).
// std::hash<std::string_view> is MurmurHash2-family under a fixed seed, which is that case.
// The seed is never sent anywhere. Hashes that must agree between processes (the cluster bus's
// shard of a channel) stay unseeded; they pick a shard, not a bucket.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wspush::registry {

// 8 bytes from getrandom(2) (the kernel's CSPRNG). Should that fail (a kernel without the call),
// the clock and addresses that ASLR randomizes, mixed: weaker, still unknown to a client.
uint64_t random_seed();
// One random_seed() per process, drawn at first use: a hasher is made per std:: table and per
// group's member set, and a syscall for each would cost more than it adds.
uint64_t process_seed();

// XXH3_64bits_withSeed(p, n, seed), out of line: the std:: tables that use it pay a call either way.
uint64_t seeded_hash(const void* p, size_t n, uint64_t seed) noexcept;

// A hasher for std::unordered_map/set keyed by strings, with heterogeneous (string_view)
// lookup, under the process's seed.
struct SeededStringHash {
    using is_transparent = void;
    uint64_t seed = process_seed();
    size_t operator()(std::string_view s) const noexcept { return seeded_hash(s.data(), s.size(), seed); }
};

}  // namespace wspush::registry
