// PeerCounts: open connections per client address, for --max-conns-per-ip.
//
// An IPv4 address counts alone; an IPv6 address counts by its /64, the block one subscriber
// or one host is given (an attacker holding one IPv6 host picks freely among 2^64 addresses,
// so counting /128s would limit nothing). IPv4-mapped IPv6 addresses count as the IPv4 one.
//
// Return contract: add() counts one more connection and gives the entry's index (kept in the
// Connection, released once with release()), or returns false when that would pass the limit
// (nothing counted). Indices are stable while their count is above zero.
// Cost: one hash lookup per accept and per close; memory O(distinct addresses connected now),
// entries and their index slots are recycled.
#pragma once
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace wspush::engine {

class PeerCounts {
public:
    bool add(const sockaddr_storage& addr, uint32_t limit, uint32_t* index);
    void release(uint32_t index);
    // Distinct addresses (IPv6: /64s) with a connection open now.
    size_t addresses() const { return by_key_.size(); }

private:
    using Key = std::array<uint8_t, 16>;  // IPv6 form; IPv4 as ::ffff:a.b.c.d
    struct KeyHash {
        uint64_t seed;  // the process's (registry::process_seed())
        KeyHash();
        size_t operator()(const Key& k) const;
    };
    struct Entry {
        Key key;
        uint32_t count;
    };
    static Key key_of(const sockaddr_storage& addr);

    std::unordered_map<Key, uint32_t, KeyHash> by_key_;  // key -> index in entries_
    std::vector<Entry> entries_;
    std::vector<uint32_t> free_;
};

}  // namespace wspush::engine
