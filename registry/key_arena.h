// KeyArena: the entries of a UidTable, one record per uid. Returns 32-bit refs; ref 0 is never
// handed out. A ref stays valid, and its record never moves, until free(ref): that is what lets
// UidTable::add() hand out a stable view of the uid, and find() a span over the connection.
//
// Layout: fixed-size chunks (64 KiB unless one record needs more, 64-byte aligned), never
// reallocated. A record is [ConnId: 8][uint16 len][bytes], rounded up to 8 bytes; a ref counts
// 8-byte units from the start of chunk 0, so 2^32 refs address 32 GiB. A 16-byte uid costs 32
// bytes, a UUID 48. A record of up to 32 bytes never straddles a cache line (the bump pointer
// skips to the next line, and the skipped gap, at most 24 bytes, becomes a free record of its
// own size), so a lookup that reaches it reads one line. Larger records may straddle: keeping
// a 48-byte record inside one line would leave a 16-byte gap per record (64 bytes a UUID).
//
//   chunk: | rec | rec | free | rec | ... bump -> |
//   rec:   | conn:8 | len:2 | uid bytes ... | pad to 8 |
//
// Churn: a freed record goes on the free list of its size class (one list per record size in
// units; the list link lives in the dead record), and the next key of that size reuses it, so
// login/logout churn never grows the arena. Cost: fragmentation across size classes is not
// compacted (a burst of 200-byte uids, all freed, stays as 200-byte holes), and chunks are not
// returned to the allocator. Bounded by the peak bytes per size class; see docs/registry.md.
#pragma once
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include "registry/conn_id.h"

namespace wspush::registry {

class KeyArena {
public:
    static constexpr size_t kMaxKeyLen = 65535;  // the length prefix is 16 bits

    explicit KeyArena(size_t max_key_len) {
        assert(max_key_len <= kMaxKeyLen);
        unit_shift_ = 13;  // 8192 units = 64 KiB
        while ((size_t(1) << unit_shift_) < units_for(max_key_len)) ++unit_shift_;
        free_heads_.assign(std::max<size_t>(units_for(max_key_len) + 1, 8), 0);  // 8: any line gap
    }
    ~KeyArena() {
        for (unsigned char* c : chunks_) std::free(c);
    }
    KeyArena(const KeyArena&) = delete;
    KeyArena& operator=(const KeyArena&) = delete;

    static constexpr size_t kHead = 10;  // ConnId, uint16 length

    // A record holding conn and a copy of key. key.size() must be <= the constructor's max_key_len.
    uint32_t alloc(std::string_view key, ConnId conn) {
        const uint32_t units = units_for(key.size());
        uint32_t ref = free_heads_[units];
        if (ref != 0) {
            std::memcpy(&free_heads_[units], at(ref), sizeof(uint32_t));
        } else {
            ref = bump(units);
        }
        unsigned char* p = at(ref);
        const uint16_t len = uint16_t(key.size());
        std::memcpy(p, &conn, sizeof conn);
        std::memcpy(p + sizeof conn, &len, sizeof len);
        if (!key.empty()) std::memcpy(p + kHead, key.data(), key.size());
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
        return {reinterpret_cast<const char*>(p + kHead), length(ref)};
    }
    ConnId& conn(uint32_t ref) const { return *reinterpret_cast<ConnId*>(at(ref)); }

    unsigned char* at(uint32_t ref) const {
        const uint32_t mask = (uint32_t(1) << unit_shift_) - 1;
        return chunks_[ref >> unit_shift_] + (size_t(ref & mask) << 3);
    }
    // For UidTable's inline lookup, which computes at() itself: the chunk table (moves when a
    // chunk is added: re-read after alloc) and log2(units per chunk).
    unsigned char* const* chunk_table() const { return chunks_.data(); }
    uint32_t unit_shift() const { return unit_shift_; }

    size_t memory_bytes() const {
        return chunks_.size() * (size_t(8) << unit_shift_) + chunks_.capacity() * sizeof(chunks_[0]) +
               free_heads_.capacity() * sizeof(uint32_t);
    }
    size_t live_bytes() const { return live_units_ * 8; }

private:
    static uint32_t units_for(size_t len) { return uint32_t((kHead + len + 7) / 8); }

    uint16_t length(uint32_t ref) const {
        uint16_t len;
        std::memcpy(&len, at(ref) + sizeof(ConnId), sizeof len);
        return len;
    }

    // A gap the bump pointer skips becomes a free record of its size (a 1-unit gap holds no
    // record, the smallest being 2 units, and is lost: 8 bytes).
    void give_back(uint32_t ref, uint64_t units) {
        if (units < 2 || units >= free_heads_.size()) return;
        std::memcpy(at(ref), &free_heads_[units], sizeof(uint32_t));
        free_heads_[units] = ref;
    }


    // Carves `units` from the end of the last chunk; the tail that does not fit becomes a free
    // record of its own size class, so it is not lost.
    uint32_t bump(uint32_t units) {
        const uint64_t chunk_units = uint64_t(1) << unit_shift_;
        if (units <= 4 && (next_ & 7) + units > 8) {  // would straddle a 64-byte line: skip to it
            const uint64_t gap = 8 - (next_ & 7);
            if (next_ + gap <= uint64_t(chunks_.size()) * chunk_units) {
                give_back(uint32_t(next_), gap);
                next_ += gap;
            }
        }
        uint64_t room = uint64_t(chunks_.size()) * chunk_units - next_;
        if (room < units) {
            if (room != 0) give_back(uint32_t(next_), room);
            next_ = uint64_t(chunks_.size()) * chunk_units;
            assert(next_ + chunk_units <= (uint64_t(1) << 32));
            chunks_.reserve(chunks_.size() + 1);  // before the allocation, so a throw leaks nothing
            void* chunk = std::aligned_alloc(64, size_t(8) << unit_shift_);
            if (!chunk) throw std::bad_alloc();
            chunks_.push_back(static_cast<unsigned char*>(chunk));
            if (next_ == 0) next_ = 8;  // unit 0 is reserved (ref 0 means "no record"): its line goes
        }
        const uint32_t ref = uint32_t(next_);
        next_ += units;
        return ref;
    }

    std::vector<unsigned char*> chunks_;  // owned (aligned_alloc), freed by the destructor
    std::vector<uint32_t> free_heads_;  // [size in units] -> first free record, 0 = none
    uint64_t next_ = 0;                 // first never-used unit
    uint32_t unit_shift_;               // log2(units per chunk)
    size_t live_units_ = 0;
};

}  // namespace wspush::registry
