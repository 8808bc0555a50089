// The hot half of UidTable::find, inline: hash, 16-tag probe, in-slot compare. It works on
// UidArrays, a plain struct of the table's array pointers, masks and migration state that
// UidTable keeps as a member (the rest, Impl, stays opaque in uid_table.cpp). Everything cold
// stays out of line there: uids over 16 bytes (long hash, arena compare), a uid with several
// connections, the old array while a resize migrates, and every write (add, remove, resize).
//
// Why inline: a loop of independent finds is bound by how many of their cache misses the CPU
// overlaps, not by one miss's latency. Behind an out-of-line call that returns a span, fewer
// lookups fit in the out-of-order window (28 vs 21 ns per find at 100k in a scratch harness);
// see docs/registry.md, "Costs".
//
// Layout of one array (one allocation):
//   [ slots: cap x 32 B ][ tags: cap + 16 B ][ disp: cap B ]
//   tag 0 = empty, 0x80 | (h >> 57) = full; tags [cap, cap + 15) clone [0, 15) so a 16-tag
//   load at the end never wraps. disp: how far an entry sits past its home (255: or more).
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

inline constexpr size_t kInline = 19;    // uid bytes held in the slot: every decimal int64, 16-byte ids
inline constexpr size_t kShortUid = 16;  // XXH3's short-input path; longer uids take the cold path

// 32 bytes, two per cache line. image = [length byte][first 19 uid bytes, zero padded]. For a
// uid of up to 19 bytes equality is decided by one compare inside the slot, so a hit touches
// one slot line and no arena line; a longer uid matches the image, then the arena copy.
struct Slot {
    ConnId conn;        // the one connection, or (gen 0) conn.slot indexes a multi-connection set
    uint32_t key;       // arena ref: the stable copy of the uid (stored views, long uids)
    uint8_t image[20];  // image[0]: length, 255 meaning 255 or more
};
static_assert(sizeof(Slot) == 32);

// One array: the table, or the older one while a resize migrates out of it.
struct SlotArray {
    Slot* slots = nullptr;  // the allocation starts here; null = no array
    uint8_t* tags = nullptr;
    uint8_t* disp = nullptr;
    size_t mask = 0;  // capacity - 1 (a power of two)
    size_t count = 0;
    size_t capacity() const { return slots ? mask + 1 : 0; }
};

// What a lookup reads. Owned by UidTable (a member, so find() reaches it without a pointer
// chase) and written only by uid_table.cpp. A lookup reads cur's first four fields, cold_from
// and old.slots.
struct UidArrays {
    SlotArray cur;
    // Uids at least this long take the out-of-line find: kShortUid + 1, or 0 when a test's
    // hash_override is set (every lookup then goes out of line, where the override is applied).
    // The inline path thus never tests for the override: one compare does both jobs.
    size_t cold_from = kShortUid + 1;
    SlotArray old;        // being migrated into cur while old.slots != nullptr
    size_t cursor = 0;    // old's slots below cursor are empty
    size_t max_len = 0;   // add() refuses longer uids
    uint64_t (*hash_override)(const void*, size_t) = nullptr;  // tests only: forced collisions
};
static_assert(sizeof(UidArrays) == 112);

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

// Does the slot's image hold uid's length byte and first min(len, 19) bytes? Compares the slot
// against the caller's bytes with fixed-size overlapping loads: no image of the probe is built.
// (Building one on the stack with overlapping stores and reading it back in 8-byte words
// defeated store-to-load forwarding: a stall of ~15 cycles on every lookup.)
[[gnu::always_inline]] inline bool image_matches(const Slot& s, std::string_view uid) {
    const size_t n = uid.size();
    if (s.image[0] != uint8_t(n < 255 ? n : 255)) return false;
    const uint8_t* a = s.image + 1;
    const char* b = uid.data();
    const size_t k = n < kInline ? n : kInline;
    if (k >= 8) {
        uint64_t d = (load8(a) ^ load8(b)) | (load8(a + k - 8) ^ load8(b + k - 8));
        if (k > 16) d |= load8(a + 8) ^ load8(b + 8);
        return d == 0;
    }
    if (k >= 4) return ((load4(a) ^ load4(b)) | (load4(a + k - 4) ^ load4(b + k - 4))) == 0;
    return k == 0 || (a[0] == uint8_t(b[0]) && a[k / 2] == uint8_t(b[k / 2]) && a[k - 1] == uint8_t(b[k - 1]));
}

// XXH3_64bits(uid) for uid.size() <= 16, through XXH3's own short-input path: the same value
// without the call and the length dispatch, which are a fifth of a lookup's instructions.
[[gnu::always_inline]] inline uint64_t hash_short(std::string_view uid) {
    return XXH3_len_0to16_64b(reinterpret_cast<const xxh_u8*>(uid.data()), uid.size(), XXH3_kSecret, 0);
}

// The slot of t holding the entry for which eq(slot) holds, or nullptr. Tight loop: one 16-tag
// compare per group; a slot is read only when its 7 tag bits match (1 in 128 for a stranger).
// No branch depends on where the first empty tag falls (e == 0 leaves m whole), so a hit's
// only data-dependent branch is the key compare.
template <class Eq>
[[gnu::always_inline]] inline Slot* locate(const SlotArray& t, uint64_t h, Eq&& eq) {
    const uint8_t tag = tag_of(h);
    const size_t home = h & t.mask;
    // Fetch the home slot's line alongside the tags, so a hit's two misses overlap instead of
    // the slot's following the tags'. One line only: with find() inline, several lookups are
    // in flight at once and compete for the L1's fill buffers; a second prefetch (the next
    // line, for displaced entries) cost ~8% on Find at 100k and 1M (it gained ~10% at 1M
    // while find was an out-of-line call).
    __builtin_prefetch(&t.slots[home]);
    size_t pos = home;
    for (;;) {
        const TagGroup g(t.tags + pos);
        uint32_t m = g.match(tag);
        const uint32_t e = g.empty();
        m &= (e & (0u - e)) - 1;  // linear probing: never past the first empty slot
        for (; m; m &= m - 1) {
            Slot* s = &t.slots[(pos + unsigned(__builtin_ctz(m))) & t.mask];
            if (eq(*s)) return s;
        }
        if (e) return nullptr;
        pos = (pos + kGroupWidth) & t.mask;
    }
}

}  // namespace wspush::registry::uid_lookup
