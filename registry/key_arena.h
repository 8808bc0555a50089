// KeyArena: the uid bytes of a UidTable. Returns 32-bit refs; ref 0 is never handed out
// (UidTable uses key 0 to mean "empty slot"). A ref stays valid, and its bytes never move,
// until free(ref): that is what lets UidTable::add() hand out a stable view of the uid.
//
// Layout: fixed-size chunks (64 KiB unless one record needs more), never reallocated.
// A record is [uint16 len][bytes], rounded up to 8 bytes; a ref counts 8-byte units from the
// start of chunk 0, so 2^32 refs address 32 GiB. A 16-byte uid costs 24 bytes.
//
//   chunk: | rec | rec | free | rec | ... bump -> |
//   rec:   | len:2 | uid bytes ... | pad to 8 |
//
// Churn: a freed record goes on the free list of its size class (one list per record size in
// units; the list link lives in the dead record), and the next key of that size reuses it, so
// login/logout churn never grows the arena. Cost: fragmentation across size classes is not
// compacted (a burst of 200-byte uids, all freed, stays as 200-byte holes), and chunks are not
// returned to the allocator. Bounded by the peak bytes per size class; see docs/registry.md.
#pragma once
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace wspush::registry {

class KeyArena {
public:
    static constexpr size_t kMaxKeyLen = 65535;  // the length prefix is 16 bits

    explicit KeyArena(size_t max_key_len) {
        assert(max_key_len <= kMaxKeyLen);
        unit_shift_ = 13;  // 8192 units = 64 KiB
        while ((size_t(1) << unit_shift_) < units_for(max_key_len)) ++unit_shift_;
        free_heads_.assign(units_for(max_key_len) + 1, 0);
    }

    // Copies key into the arena. key.size() must be <= the constructor's max_key_len.
    uint32_t alloc(std::string_view key) {
        const uint32_t units = units_for(key.size());
        uint32_t ref = free_heads_[units];
        if (ref != 0) {
            std::memcpy(&free_heads_[units], at(ref), sizeof(uint32_t));
        } else {
            ref = bump(units);
        }
        unsigned char* p = at(ref);
        const uint16_t len = uint16_t(key.size());
        std::memcpy(p, &len, sizeof len);
        if (!key.empty()) std::memcpy(p + sizeof len, key.data(), key.size());
        live_units_ += units;
        return ref;
    }

    // len: the key's length if the caller knows it (saves reading the record: a cache miss
    // on every logout), else kUnknownLen.
    static constexpr size_t kUnknownLen = ~size_t(0);
    void free(uint32_t ref, size_t len = kUnknownLen) {
        const uint32_t units = units_for(len == kUnknownLen ? length(ref) : len);
        std::memcpy(at(ref), &free_heads_[units], sizeof(uint32_t));
        free_heads_[units] = ref;
        live_units_ -= units;
    }

    std::string_view view(uint32_t ref) const {
        const unsigned char* p = at(ref);
        return {reinterpret_cast<const char*>(p + 2), length(ref)};
    }

    // Hot path of every lookup that matched a fingerprint: one cache line for short uids.
    bool equals(uint32_t ref, std::string_view key) const {
        const unsigned char* p = at(ref);
        uint16_t len;
        std::memcpy(&len, p, sizeof len);
        return len == key.size() && (len == 0 || std::memcmp(p + 2, key.data(), len) == 0);
    }

    size_t memory_bytes() const {
        return chunks_.size() * (size_t(8) << unit_shift_) + chunks_.capacity() * sizeof(chunks_[0]) +
               free_heads_.capacity() * sizeof(uint32_t);
    }
    size_t live_bytes() const { return live_units_ * 8; }

private:
    static uint32_t units_for(size_t len) { return uint32_t((2 + len + 7) / 8); }

    uint16_t length(uint32_t ref) const {
        uint16_t len;
        std::memcpy(&len, at(ref), sizeof len);
        return len;
    }

    unsigned char* at(uint32_t ref) const {
        const uint32_t mask = (uint32_t(1) << unit_shift_) - 1;
        return chunks_[ref >> unit_shift_].get() + (size_t(ref & mask) << 3);
    }

    // Carves `units` from the end of the last chunk; the tail that does not fit becomes a free
    // record of its own size class, so it is not lost.
    uint32_t bump(uint32_t units) {
        const uint64_t chunk_units = uint64_t(1) << unit_shift_;
        uint64_t room = uint64_t(chunks_.size()) * chunk_units - next_;
        if (room < units) {
            if (room != 0 && room < free_heads_.size()) {
                const uint32_t tail = uint32_t(next_);
                std::memcpy(at(tail), &free_heads_[room], sizeof(uint32_t));
                free_heads_[room] = tail;
            }
            next_ = uint64_t(chunks_.size()) * chunk_units;
            assert(next_ + chunk_units <= (uint64_t(1) << 32));
            chunks_.emplace_back(new unsigned char[size_t(8) << unit_shift_]);
            if (next_ == 0) next_ = 1;  // unit 0 is reserved: ref 0 means "no key"
        }
        const uint32_t ref = uint32_t(next_);
        next_ += units;
        return ref;
    }

    std::vector<std::unique_ptr<unsigned char[]>> chunks_;
    std::vector<uint32_t> free_heads_;  // [size in units] -> first free record, 0 = none
    uint64_t next_ = 0;                 // first never-used unit
    uint32_t unit_shift_;               // log2(units per chunk)
    size_t live_units_ = 0;
};

}  // namespace wspush::registry
