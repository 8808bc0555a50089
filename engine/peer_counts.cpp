#include "engine/peer_counts.h"

#include <netinet/in.h>

#include <cstring>

#include "registry/seeded_hash.h"

namespace wspush::engine {

PeerCounts::KeyHash::KeyHash() : seed(registry::process_seed()) {}

size_t PeerCounts::KeyHash::operator()(const Key& k) const {
    // Addresses are chosen by clients (an IPv6 block holder picks among 2^16 to 2^32 /64s):
    // under a fixed mix, one could pick those that share a bucket; under the process's random
    // seed it cannot (registry/seeded_hash.h).
    return static_cast<size_t>(registry::seeded_hash(k.data(), k.size(), seed));
}

PeerCounts::Key PeerCounts::key_of(const sockaddr_storage& addr) {
    Key k{};
    if (addr.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
        k[10] = k[11] = 0xFF;
        memcpy(k.data() + 12, &in.sin_addr, 4);
    } else if (addr.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
        memcpy(k.data(), &in6.sin6_addr, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) memset(k.data() + 8, 0, 8);  // the /64
    }
    return k;  // another family (none today): all such peers share one zero key
}

bool PeerCounts::add(const sockaddr_storage& addr, uint32_t limit, uint32_t* index) {
    const Key key = key_of(addr);
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        Entry& e = entries_[it->second];
        if (limit != 0 && e.count >= limit) return false;
        ++e.count;
        *index = it->second;
        return true;
    }
    uint32_t i;
    if (!free_.empty()) {
        i = free_.back();
        free_.pop_back();
        entries_[i] = Entry{key, 1};
    } else {
        i = static_cast<uint32_t>(entries_.size());
        entries_.push_back(Entry{key, 1});
    }
    by_key_.emplace(key, i);
    *index = i;
    return true;
}

void PeerCounts::release(uint32_t index) {
    Entry& e = entries_[index];
    if (--e.count != 0) return;
    by_key_.erase(e.key);
    free_.push_back(index);
}

}  // namespace wspush::engine
