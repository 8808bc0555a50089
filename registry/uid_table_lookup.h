// The hot half of UidTable::find, inline: hash, 16-tag probe, slot hash check, record compare.
// It works on UidArrays, a plain struct of the table's array pointers, masks, the key arena's
// base address and the migration state, which UidTable keeps as a member (the rest, Impl, stays
// opaque in uid_table.cpp). Everything cold stays out of line there: uids over 64 bytes (long
// hash, long compare), a uid with several connections, the old array while a resize migrates,
// and every write (add, remove, resize).
//
// Why inline: a loop of independent finds is bound by how many of their cache misses the CPU
// overlaps, not by one miss's latency. Behind an out-of-line call that returns a span, fewer
// lookups fit in the out-of-order window (28 vs 21 ns per find at 100k in a scratch harness);
// see docs/registry.md, "Costs".
//
// Layout of one array (one allocation), 9 bytes per slot:
//   [ slots: cap x 8 B {record ref, low 32 hash bits} ][ tags: cap + 16 B ]
//   tag 0 = empty, 0x80 | (h >> 57) = full; tags [cap, cap + 15) clone [0, 15) so a 16-tag
//   load at the end never wraps. The entry itself (connection, uid length and bytes) is one
//   record in the KeyArena, which never moves: each uid is stored once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

// XXH3's short-input path is an implementation function: only XXH_INLINE_ALL exposes it. The
// header copes with an earlier plain include (it renames its inline copies); the macro is
// undefined again so includers do not inherit it.
#if !defined(XXH_INLINE_ALL)
#define XXH_INLINE_ALL
#define WSPUSH_UNDEF_XXH_INLINE_ALL
#endif
#include <xxhash.h>
#if defined(WSPUSH_UNDEF_XXH_INLINE_ALL)
#undef XXH_INLINE_ALL
#undef WSPUSH_UNDEF_XXH_INLINE_ALL
#endif

#include "registry/conn_id.h"
#include "registry/tag_group.h"

namespace wspush::registry::uid_lookup {

inline constexpr size_t kShortUid = 16;   // XXH3's short-input path (XXH3_len_0to16_64b)
inline constexpr size_t kMidUid = 128;    // XXH3's mid-size path (XXH3_len_17to128_64b)
// The longest uid find() handles inline (a UUID is 36). Longer ones take the cold path.
inline constexpr size_t kInlineUid = 64;

// 8 bytes, eight per cache line. hash_lo (the low 32 bits of the uid's hash) gives the entry's
// home in any array up to 2^32 slots without reading its record (migration, deletion's backward
// shift), and rejects a stranger whose 7 tag bits matched before its record is read.
struct Slot {
    uint32_t rec;      // KeyArena ref of the entry's record
    uint32_t hash_lo;  // uint32_t(hash)
};
static_assert(sizeof(Slot) == 8);

// A record (KeyArena): [ConnId conn: 8][uint16 len][uid bytes], 8-byte units, never split
// across a cache line when it fits in one. conn is the one connection, or (gen 0) conn.slot
// indexes a multi-connection set.
inline constexpr size_t kRecLen = 8;  // offset of the length
inline constexpr size_t kRecKey = 10;  // offset of the uid bytes

// One array: the table, or the older one while a resize migrates out of it.
struct SlotArray {
    Slot* slots = nullptr;  // the allocation starts here; null = no array
    uint8_t* tags = nullptr;
    size_t mask = 0;  // capacity - 1 (a power of two)
    size_t count = 0;
    size_t capacity() const { return slots ? mask + 1 : 0; }
};

// What a lookup reads. Owned by UidTable (a member, so find() reaches it without a pointer
// chase) and written only by uid_table.cpp. A lookup reads cur's first three fields,
// cold_from, the arena base, the seed and old.slots.
struct UidArrays {
    SlotArray cur;
    // Uids at least this long take the out-of-line find: kInlineUid + 1, or 0 when a test's
    // hash_override is set (every lookup then goes out of line, where the override is applied).
    // The inline path thus never tests for the override: one compare does both jobs.
    size_t cold_from = kInlineUid + 1;
    unsigned char* arena = nullptr;  // the KeyArena's base: a record is at arena + 8 x ref
    // XXH3's seed, random per table (getrandom): which uids share a home slot cannot be worked
    // out offline, so a client choosing its uid cannot pile logins into one probe cluster.
    uint64_t seed = 0;
    SlotArray old;        // being migrated into cur while old.slots != nullptr
    size_t cursor = 0;    // old's slots below cursor are empty
    size_t max_len = 0;   // add() refuses longer uids
    uint64_t (*hash_override)(const void*, size_t) = nullptr;  // tests only: forced collisions
};

inline unsigned char* record(const UidArrays& a, uint32_t ref) {
    return a.arena + (size_t(ref) << 3);
}
inline ConnId* record_conn(unsigned char* rec) { return reinterpret_cast<ConnId*>(rec); }
inline uint16_t record_len(const unsigned char* rec) {
    uint16_t len;
    std::memcpy(&len, rec + kRecLen, sizeof len);
    return len;
}

inline uint64_t load8(const void* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline uint32_t load4(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

#if defined(__SSE2__)
inline __m128i eq16(const void* a, const void* b) {
    return _mm_cmpeq_epi8(_mm_loadu_si128(static_cast<const __m128i*>(a)),
                          _mm_loadu_si128(static_cast<const __m128i*>(b)));
}
#endif

// a[0, n) == b[0, n) for 16 < n <= 64: four overlapping 16-byte loads a side, at 0, o,
// n - 16 - o and n - 16 with o = 16 past 32 bytes, else 0 (a cmov: no branch on the length,
// which a mix of uid lengths would mispredict). memcmp would be a call and a length dispatch.
[[gnu::always_inline]] inline bool equal_17to64(const unsigned char* a, const char* b, size_t n) {
    const size_t o = n > 32 ? 16 : 0;
#if defined(__SSE2__)
    const __m128i m = _mm_and_si128(_mm_and_si128(eq16(a, b), eq16(a + o, b + o)),
                                    _mm_and_si128(eq16(a + n - 16 - o, b + n - 16 - o), eq16(a + n - 16, b + n - 16)));
    return _mm_movemask_epi8(m) == 0xffff;
#else
    uint64_t d = 0;
    for (size_t at : {size_t(0), o, n - 16 - o, n - 16})
        d |= (load8(a + at) ^ load8(b + at)) | (load8(a + at + 8) ^ load8(b + at + 8));
    return d == 0;
#endif
}

// Does the record hold exactly uid? Fixed-size overlapping loads chosen by length, up to 64
// bytes (what find() takes inline); memcmp past that. No image of the probe is built.
// (Building one on the stack with overlapping stores and reading it back in 8-byte words
// defeated store-to-load forwarding: a stall of ~15 cycles on every lookup.)
[[gnu::always_inline]] inline bool record_matches(const unsigned char* rec, std::string_view uid) {
    const size_t n = uid.size();
    if (record_len(rec) != n) return false;
    const unsigned char* a = rec + kRecKey;
    const char* b = uid.data();
    if (n > 16) [[unlikely]] {
        if (n > kInlineUid) return std::memcmp(a, b, n) == 0;
        return equal_17to64(a, b, n);
    }
    if (n >= 8) return ((load8(a) ^ load8(b)) | (load8(a + n - 8) ^ load8(b + n - 8))) == 0;
    if (n >= 4) return ((load4(a) ^ load4(b)) | (load4(a + n - 4) ^ load4(b + n - 4))) == 0;
    return n == 0 || (a[0] == uint8_t(b[0]) && a[n / 2] == uint8_t(b[n / 2]) && a[n - 1] == uint8_t(b[n - 1]));
}

// XXH3_64bits_withSeed(uid, seed) for uid.size() <= 16, through XXH3's own short-input path:
// the same value without the call and the length dispatch, which are a fifth of a lookup's
// instructions.
[[gnu::always_inline]] inline uint64_t hash_short(std::string_view uid, uint64_t seed) {
    return XXH3_len_0to16_64b(reinterpret_cast<const xxh_u8*>(uid.data()), uid.size(), XXH3_kSecret, seed);
}
// XXH3_64bits_withSeed(uid, seed) for 16 < uid.size() <= 128: XXH3's mid-size path, inlined
// the same way.
[[gnu::always_inline]] inline uint64_t hash_mid(std::string_view uid, uint64_t seed) {
    return XXH3_len_17to128_64b(reinterpret_cast<const xxh_u8*>(uid.data()), uid.size(), XXH3_kSecret,
                                sizeof(XXH3_kSecret), seed);
}
// XXH3_64bits_withSeed(uid, seed). Inline up to 128 bytes; find() tells g++ the uid is at most
// kInlineUid bytes, which drops the out-of-line case (and mix16B rounds past 64 bytes) from its
// copy. The seed is the table's own, random (UidArrays::seed): unseeded, a client who picks its
// uid could compute offline uids that share a home slot.
[[gnu::always_inline]] inline uint64_t hash(std::string_view uid, uint64_t seed) {
    if (uid.size() <= kShortUid) return hash_short(uid, seed);
    if (uid.size() <= kMidUid) return hash_mid(uid, seed);
    return XXH3_64bits_withSeed(uid.data(), uid.size(), seed);
}

// The probe every lookup shares: from slot `home`, the first slot whose tag is `tag` and for
// which match(slot) holds, or nullptr; then, if empty_at is given, *empty_at is the first
// empty slot from the home on, where linear probing inserts (add() probes once, not twice).
// Tight loop: one 16-tag compare per group; match() runs only for a slot whose 7 tag bits
// agree (1 in 128 for a stranger). No branch depends on where the first empty tag falls
// (e == 0 leaves m whole), so a hit's only data-dependent branches are the compares.
template <class Match>
[[gnu::always_inline]] inline Slot* probe(const SlotArray& t, size_t home, uint8_t tag, Match&& match,
                                          size_t* empty_at = nullptr) {
    // Fetch the home slot's line alongside the tags, so the two misses overlap instead of the
    // slot's following the tags'. One line only: with find() inline, several lookups are in
    // flight at once and compete for the L1's fill buffers.
    __builtin_prefetch(&t.slots[home]);
    size_t pos = home;
    for (;;) {
        const TagGroup g(t.tags + pos);
        uint32_t m = g.match(tag);
        const uint32_t e = g.empty();
        m &= (e & (0u - e)) - 1;  // linear probing: never past the first empty slot
        for (; m; m &= m - 1) {
            Slot* s = &t.slots[(pos + unsigned(__builtin_ctz(m))) & t.mask];
            if (match(s)) return s;
        }
        if (e) {
            if (empty_at) *empty_at = (pos + unsigned(__builtin_ctz(e))) & t.mask;
            return nullptr;
        }
        pos = (pos + kGroupWidth) & t.mask;
    }
}

// The slot of t holding uid (hash h), or nullptr (empty_at: see probe). A slot's record is
// read only when the slot's 32 hash bits match too.
[[gnu::always_inline]] inline Slot* locate(const UidArrays& a, const SlotArray& t, uint64_t h,
                                           std::string_view uid, size_t* empty_at = nullptr) {
    return probe(
        t, h & t.mask, tag_of(h),
        [&](const Slot* s) { return s->hash_lo == uint32_t(h) && record_matches(record(a, s->rec), uid); },
        empty_at);
}

}  // namespace wspush::registry::uid_lookup
