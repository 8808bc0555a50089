// KeyArena: the entries of a UidTable, one record per uid. Returns 32-bit refs; ref 0 is never
// handed out. A ref stays valid, and its record never moves, until free(ref): that is what lets
// UidTable::add() hand out a stable view of the uid, and find() a span over the connection.
//
// Layout: one reserved range of address space, 32 GiB (what 2^32 refs of 8 bytes address),
// mapped PROT_NONE: it costs no memory and no commit charge. The bump pointer commits it 64 KiB
// at a time (mprotect; the kernel zero-fills a page when it is first written), and nothing in
// it ever moves. A ref counts 8-byte units from the base, so a record is base + 8 x ref: one
// add, where a table of chunk pointers cost a dependent load and ~10 instructions per lookup.
// (Under an address-space limit the reservation halves until it fits, down to 64 MiB, and
// caps the arena there.) A record is [ConnId: 8][uint16 len][bytes], rounded up to 8 bytes.
// A 16-byte uid costs 32 bytes, a UUID 48. A record of up to 32 bytes never straddles a cache line (the bump pointer
// skips to the next line, and the skipped gap, at most 24 bytes, becomes a free record of its
// own size), so a lookup that reaches it reads one line. Larger records may straddle: keeping
// a 48-byte record inside one line would leave a 16-byte gap per record (64 bytes a UUID).
//
//   range: | rec | rec | free | rec | ... bump -> | committed, unused | PROT_NONE ... |
//   rec:   | conn:8 | len:2 | uid bytes ... | pad to 8 |
//
// Churn: a freed record's ref goes on the free stack of its size class (one stack of refs per
// record size in units, registry/ref_stack.h), and the next key of that size reuses it, so
// login/logout churn never grows the arena. The stacks live beside the arena, not as links
// inside the dead records:
// freeing then writes nothing into the record and reusing reads nothing from it. With links,
// a logout dirtied its record's line and the next login of another size read a cold record
// just to find the next free one (a cache miss in its path), and the same size's login had to
// wait for the logout's record to arrive before it could pop it: +14-18% random-order churn
// at 1M uids without them. Cost: fragmentation across size classes is not
// compacted (a burst of 200-byte uids, all freed, stays as 200-byte holes), and committed
// memory goes back only when the table is destroyed. Bounded by the peak bytes per size
// class; see docs/registry.md.
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include "registry/conn_id.h"
#include "registry/ref_stack.h"

namespace wspush::registry {

class KeyArena {
public:
    static constexpr size_t kMaxKeyLen = 65535;  // the length prefix is 16 bits

    // Reserves the address space (PROT_NONE: no memory, no commit charge) and commits nothing.
    explicit KeyArena(size_t max_key_len) {
        assert(max_key_len <= kMaxKeyLen);
        (void)max_key_len;
        free_.resize(std::max<size_t>(units_for(max_key_len) + 1, 8));  // 8: any line gap
        // Under an address-space limit (ulimit -v) a smaller reservation caps the arena instead.
        for (reserved_ = kReserve; reserved_ >= kMinReserve; reserved_ /= 2) {
            void* p = mmap(nullptr, reserved_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p != MAP_FAILED) {
                base_ = static_cast<unsigned char*>(p);
                return;
            }
        }
        throw std::bad_alloc();
    }
    ~KeyArena() { munmap(base_, reserved_); }
    KeyArena(const KeyArena&) = delete;
    KeyArena& operator=(const KeyArena&) = delete;

    static constexpr size_t kHead = 10;  // ConnId, uint16 length

    // A record holding conn and a copy of key. key.size() must be <= the constructor's max_key_len.
    [[gnu::always_inline]] uint32_t alloc(std::string_view key, ConnId conn) {
        const uint32_t units = units_for(key.size());
        RefStack& stack = free_[units];
        const uint32_t ref = !stack.empty() ? stack.pop() : bump(units);
        unsigned char* p = at(ref);
        const uint16_t len = uint16_t(key.size());
        std::memcpy(p, &conn, sizeof conn);
        std::memcpy(p + sizeof conn, &len, sizeof len);
        copy_key(p + kHead, key);
        live_units_ += units;
        return ref;
    }

    // len: the key's length, which the caller has checked against the record's. Taken from
    // the caller, not read here: the record is a cache miss that the caller's check only
    // branches on (predicted), while a size class computed from it would hold up every later
    // load of the free stacks, the next login's among them, until the miss is served.
    void free(uint32_t ref, size_t len) {
        assert(len == length(ref));
        const uint32_t units = units_for(len);
        free_[units].push(ref);
        live_units_ -= units;
    }

    // Could ref be a record: inside the used region, with room for a record's head (a caller's
    // stale or forged ref may then be read, never written, before it is checked further).
    bool holds(uint32_t ref) const { return ref != 0 && uint64_t(ref) + 2 <= next_; }

    // The key's length, from the record's head.
    uint16_t length(uint32_t ref) const {
        uint16_t len;
        std::memcpy(&len, at(ref) + sizeof(ConnId), sizeof len);
        return len;
    }

    std::string_view view(uint32_t ref) const {
        const unsigned char* p = at(ref);
        return {reinterpret_cast<const char*>(p + kHead), length(ref)};
    }
    ConnId& conn(uint32_t ref) const { return *reinterpret_cast<ConnId*>(at(ref)); }

    unsigned char* at(uint32_t ref) const { return base_ + (size_t(ref) << 3); }
    // For UidTable's inline lookup, which computes at() itself: record = base + 8 x ref.
    unsigned char* base() const { return base_; }

    size_t memory_bytes() const {
        size_t bytes = committed_ + free_.capacity() * sizeof(free_[0]);
        for (const RefStack& stack : free_) bytes += stack.memory_bytes();
        return bytes;
    }
    size_t live_bytes() const { return live_units_ * 8; }

private:
    // 2^32 refs of 8 bytes: every ref a uint32 can name. Address space only; a 64-bit process
    // has 128 TiB of it, so a few thousand tables could coexist.
    static constexpr size_t kReserve = size_t(8) << 32;
    static constexpr size_t kMinReserve = size_t(64) << 20;
    static constexpr size_t kCommit = size_t(64) << 10;  // committed this much at a time
    static uint32_t units_for(size_t len) { return uint32_t((kHead + len + 7) / 8); }

    // memcpy(to, key) without the call and its length dispatch (a sixth of a login's
    // instructions): overlapping fixed-size moves for up to 64 bytes, memcpy past that. The
    // record has room: it is key.size() bytes long past kHead, rounded up to 8.
    static void copy_key(unsigned char* to, std::string_view key) {
        const char* from = key.data();
        const size_t n = key.size();
        if (n >= 8 && n <= 64) {
            if (n > 32) {
                std::memcpy(to, from, 32);
                std::memcpy(to + n - 32, from + n - 32, 32);
            } else if (n > 16) {
                std::memcpy(to, from, 16);
                std::memcpy(to + n - 16, from + n - 16, 16);
            } else {
                std::memcpy(to, from, 8);
                std::memcpy(to + n - 8, from + n - 8, 8);
            }
        } else if (n != 0) {
            std::memcpy(to, from, n);
        }
    }

    // A gap the bump pointer skips becomes a free record of its size (a 1-unit gap holds no
    // record, the smallest being 2 units, and is lost: 8 bytes).
    void give_back(uint32_t ref, uint64_t units) {
        if (units < 2 || units >= free_.size()) return;
        free_[units].push(ref);
    }

    // Carves `units` from the end of the used region, committing more of the reservation when
    // it runs out (one mprotect per 64 KiB; the pages are zero-filled when first written).
    uint32_t bump(uint32_t units) {
        if (next_ == 0) next_ = 8;  // unit 0 is reserved (ref 0 means "no record"): its line goes
        if (units <= 4 && (next_ & 7) + units > 8) {  // would straddle a 64-byte line: skip to it
            const uint64_t gap = 8 - (next_ & 7);
            give_back(uint32_t(next_), gap);  // within the committed region: next_ < its end
            next_ += gap;
        }
        const size_t need = size_t(next_ + units) * 8;
        if (need > reserved_) throw std::bad_alloc();  // 2^32 units at most: refs are uint32
        if (need > committed_) {
            const size_t to = (need + kCommit - 1) / kCommit * kCommit;
            if (mprotect(base_ + committed_, to - committed_, PROT_READ | PROT_WRITE) != 0) throw std::bad_alloc();
            committed_ = to;
        }
        const uint32_t ref = uint32_t(next_);
        next_ += units;
        return ref;
    }

    unsigned char* base_ = nullptr;  // the reservation, reserved_ bytes; [0, committed_) usable
    size_t reserved_ = 0;
    size_t committed_ = 0;
    std::vector<RefStack> free_;  // [size in units] -> refs of free records
    uint64_t next_ = 0;                 // first never-used unit
    size_t live_units_ = 0;
};

}  // namespace wspush::registry
