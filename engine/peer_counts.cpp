#include "engine/peer_counts.h"

#include <netinet/in.h>

#include <cstring>

namespace wspush::engine {

size_t PeerCounts::KeyHash::operator()(const Key& k) const {
    uint64_t a, b;
    memcpy(&a, k.data(), 8);
    memcpy(&b, k.data() + 8, 8);
    // Addresses are chosen by clients: mix both halves (a multiply-xorshift, as in splitmix64)
    // so that no bit pattern lands every key in one bucket.
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
    return static_cast<size_t>(h ^ (h >> 31));
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
