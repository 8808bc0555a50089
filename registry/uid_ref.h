// UidRef: what UidTable::add() hands its caller to keep, one per connection (12 bytes): where
// the uid's record is, and the hash bits that lead to its slot. With it, remove() finds the
// slot without hashing the uid or reading its bytes first, so a logout fetches the record and
// the slot at once (two cache misses that overlap, where hashing first made them one after the
// other), and UidTable::uid() reads the uid back. A stale or forged UidRef never makes remove()
// read outside the arena's used range or remove another connection's entry: it answers
// NotFound unless a slot holds exactly this record under these 39 hash bits (hash_lo and the
// tag's 7), and the record holds the connection being removed. It does not prove the uid,
// though: once the uid is gone its record may hold another one, and if that uid agrees in the
// 39 bits and is held by the same connection, a stale ref removes it. So a caller drops its
// ref when it removes the connection (Sessions::logout does).
#pragma once
#include <cstdint>

namespace wspush::registry {

struct UidRef {
    uint32_t rec = 0;      // the uid's record (KeyArena ref; 0: no uid)
    uint32_t hash_lo = 0;  // the low 32 bits of the uid's hash: its home in any array
    uint16_t len = 0;      // the uid's length
    uint8_t tag = 0;       // its tag (0x80 | the top 7 hash bits)

    bool empty() const { return rec == 0; }
};
static_assert(sizeof(UidRef) == 12);

}  // namespace wspush::registry
