// UidTable: linear probing over a tag array (16 tags per SSE2 compare) and 8-byte slots (a
// record ref and 32 hash bits; the record, in the KeyArena, holds the connection and the uid);
// backward-shift deletion; incremental resize (two arrays while migrating). find()'s hot path is inline in uid_table_lookup.h over the arrays this file
// maintains; here are its cold paths and everything that writes. Layout, load factor and costs:
// docs/registry.md.
#include "registry/uid_table.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cassert>
#include <cstring>
#include <iterator>
#include <new>
#include <utility>
#include <vector>

#include "registry/free_index.h"
#include "registry/key_arena.h"
#include "registry/seeded_hash.h"
#include "registry/tag_group.h"
#include "registry/zeroed_pages.h"

namespace wspush::registry {
namespace {

using uid_lookup::Slot;

// One allocation: capacity slots, capacity + 16 tags. Tags [cap, cap + 15) clone tags [0, 15)
// so a group load near the end reads the wrapped-around tags without a second load. A slot's
// hash_lo gives its entry's home in any array (deletion's backward shift and migration never
// read a record). (The struct, uid_lookup::SlotArray, is in the lookup header; these write or
// size it.)
using Table = uid_lookup::SlotArray;

size_t bytes_for(size_t cap) { return cap * (sizeof(Slot) + 1) + kGroupWidth; }
size_t bytes_of(const Table& t) { return t.slots ? bytes_for(t.capacity()) : 0; }
void set_tag(Table& t, size_t i, uint8_t tag) {
    t.tags[i] = tag;
    if (i < kGroupWidth - 1) t.tags[t.mask + 1 + i] = tag;
}
Table allocate(size_t cap) {
    void* p = zeroed_pages_alloc(bytes_for(cap));
    if (!p) throw std::bad_alloc();
    Table t;
    t.slots = static_cast<Slot*>(p);
    t.tags = reinterpret_cast<uint8_t*>(t.slots + cap);
    t.mask = cap - 1;
    return t;
}
void release(Table& t) { zeroed_pages_free(t.slots, bytes_of(t)); }

constexpr size_t kMinCapacity = 16;  // at least one tag group
// Max load 0.8. Linear probing's mean probe for a miss is (1 + 1/(1-a)^2)/2 slots: 13 at 0.8,
// 32 at 0.875 (SwissTable's 7/8 relies on quadratic probing over groups, which backward-shift
// deletion cannot use). 13 tags is still one group load most of the time. Growth leaves load
// 0.4; shrink (below 0.2) leaves 0.4, so a table hovering at a boundary never thrashes.
size_t max_load(size_t cap) { return cap - cap / 5; }
size_t min_load(size_t cap) { return cap / 5; }
// Old-array slots visited per add/remove while migrating. Migration needs capacity + entries
// visits (at most 1.8 x capacity); at 8 per operation a grow finishes after 0.225 x capacity
// inserts, long before the new array (2 x capacity, 0.8 x capacity filled) can reach its own
// max load, so a second resize never finds the first unfinished.
constexpr size_t kMigrateBudget = 8;
// Inserts before a grow in which prepare_grow maps the next array and faults in its first
// pages (1 + 13 of the 32 needed).
constexpr size_t kPrepareAhead = 32;
// A retired array is unmapped this much per operation (a 2 MiB slice of released pages: ~1.5 us).
constexpr size_t kRetireSlice = size_t(2) << 20;

uint32_t lowest(uint32_t m) { return uint32_t(__builtin_ctz(m)); }

}  // namespace

struct UidTable::Impl {
    // The arrays live in UidTable (arrays_) so that the inline find() reads them directly;
    // these name its fields. max_len and hash_override are there too (a.max_len ...).
    uid_lookup::UidArrays& a;
    Table& cur;
    Table& old;           // being migrated into cur when old.slots != nullptr
    size_t& cursor;       // old's slots below cursor are empty (and their pages may be released)
    KeyArena arena;
    size_t release_at[2] = {};  // per region of old (slots, tags): released up to
    size_t released = 0;        // bytes of old given back so far
    Table next;                 // the array the coming grow will use, mapped ahead (prepare_grow)
    unsigned next_touched = 0;  // how many of its first_touch() places are already written
    // A migrated-out array still mapped: unmapped kRetireSlice at a time (unmap_retired_step).
    char* retired = nullptr;
    size_t retired_bytes = 0, retired_done = 0, retired_resident = 0;
    size_t conns = 0;
    // cur's load limits, kept with cur (set_limits) so add and remove compare a count against a
    // number instead of working them out from the capacity every time: an insert that brings
    // the count past prepare_at prepares the grow, past grow_at starts it; a remove that leaves
    // fewer than shrink_below starts a shrink (0 at the smallest capacity).
    size_t prepare_at = 0, grow_at = 0, shrink_below = 0;
    std::vector<std::vector<ConnId>> sets;  // multi-connection uids; freed sets keep capacity
    std::vector<uint32_t> free_sets;

    Impl(uid_lookup::UidArrays& arrays, size_t max, uint64_t (*h)(const void*, size_t), uint64_t seed)
        : a(arrays), cur(arrays.cur), old(arrays.old), cursor(arrays.cursor), arena(max) {
        a.max_len = max;
        a.hash_override = h;
        a.seed = seed != 0 ? seed : random_seed();
        if (h) a.cold_from = 0;  // every find goes out of line, through hash()
        cur = allocate(kMinCapacity);
        set_limits();
        a.arena = arena.base();
    }
    void set_limits() {
        const size_t cap = cur.capacity();
        grow_at = max_load(cap);
        prepare_at = grow_at > kPrepareAhead ? grow_at - kPrepareAhead : 0;
        shrink_below = cap > kMinCapacity ? min_load(cap) : 0;
    }
    ~Impl() {
        release(cur);
        release(old);
        release(next);
        if (retired) zeroed_pages_unmap(retired, retired_done, retired_bytes);
    }

    // XXH3 (up to 128 bytes through its short and mid-size paths, inlined: see uid_lookup::hash).
    [[gnu::always_inline]] uint64_t hash(std::string_view uid) const {
        if (a.hash_override) [[unlikely]]
            return a.hash_override(uid.data(), uid.size());
        return uid_lookup::hash(uid, a.seed);
    }
    // The slot of t holding uid, or null (the probe loop is uid_lookup::locate).
    [[gnu::always_inline]] Slot* locate(const Table& t, uint64_t h, std::string_view uid,
                                        size_t* empty_at = nullptr) const {
        return uid_lookup::locate(a, t, h, uid, empty_at);
    }

    // Puts s (whose tag is `tag`) in the first empty slot from its home on.
    static void place(Table& t, const Slot& s, uint8_t tag) {
        for (size_t pos = s.hash_lo & t.mask;; pos = (pos + kGroupWidth) & t.mask) {
            const uint32_t e = TagGroup(t.tags + pos).empty();
            if (e) {
                place_at(t, (pos + lowest(e)) & t.mask, s, tag);
                return;
            }
        }
    }
    static void place_at(Table& t, size_t i, const Slot& s, uint8_t tag) {
        t.slots[i] = s;
        set_tag(t, i, tag);
        ++t.count;
    }

    // Pending resize work, if any (the test is inline: add and remove call this every time).
    [[gnu::always_inline]] void migrate_some() {
        if (old.slots || retired) [[unlikely]]
            migrate(kMigrateBudget);
    }

    // Backward-shift deletion (Knuth's Algorithm R): walk the rest of the cluster and pull back
    // every entry whose home is not between the hole and itself. No tombstones, so probe
    // lengths stay what they would be had the key never existed. O(cluster length).
    // Branch-free body: whether an entry moves is a coin flip the predictor cannot learn (at
    // load 0.76 a delete walks ~8 slots), so every entry is copied into the hole and the hole
    // advances only when the entry had to move (a cmov). A copy into a hole that stays is
    // overwritten by the next move or emptied at the end; only this loop reads past the hole.
    void erase_at(Table& t, size_t hole) const {
        // Locals: a store through uint8_t* may alias anything, so t's fields were reloaded
        // after every tag store (27 instructions per entry walked; 19 now). A slot moves as
        // one 64-bit word, hash_lo its upper half (a Slot copy went through an SSE register).
        static_assert(offsetof(Slot, hash_lo) == 4 && sizeof(Slot) == 8 && std::endian::native == std::endian::little);
        Slot* const slots = t.slots;
        uint8_t* const tags = t.tags;
        const size_t mask = t.mask;
        for (size_t j = (hole + 1) & mask;; j = (j + 1) & mask) {
            const uint8_t tag = tags[j];
            if (tag == kTagEmpty) break;
            uint64_t entry;
            std::memcpy(&entry, &slots[j], sizeof entry);
            std::memcpy(&slots[hole], &entry, sizeof entry);
            tags[hole] = tag;
            if (hole < kGroupWidth - 1) [[unlikely]]  // set_tag on the locals: 15 slots have a clone
                tags[mask + 1 + hole] = tag;
            const size_t d = (j - size_t(entry >> 32)) & mask;  // how far past its home
            const size_t gap = (j - hole) & mask;
            hole = d >= gap ? j : hole;  // home in (hole, j]: it stays, and so does the hole
        }
        set_tag(t, hole, kTagEmpty);
        --t.count;
    }

    // Moves up to `budget` old slots into cur. Entries leave from the end of the cluster that
    // starts at the cursor, backwards: removing a cluster's last entry never breaks another
    // entry's probe path, so the old array stays a valid table at every step (lookups probe it
    // unchanged) and no entry is shifted. O(budget + the cluster's length / 16) per call.
    [[gnu::noinline]] void migrate(size_t budget) {
        if (retired) unmap_retired_step();
        while (old.slots && budget != 0) {
            if (old.count == 0) {
                finish_migration();
                return;
            }
            if (old.tags[cursor] == kTagEmpty) {
                ++cursor;
                --budget;
                release_behind_cursor();
                continue;
            }
            size_t end = cursor;  // slots below cursor are empty, so this stops before wrapping
            for (uint32_t e; (e = TagGroup(old.tags + ((end + 1) & old.mask)).empty()) == 0;)
                end = (end + kGroupWidth) & old.mask;
            end = (end + lowest(TagGroup(old.tags + ((end + 1) & old.mask)).empty())) & old.mask;
            for (;; end = (end - 1) & old.mask) {
                place(cur, old.slots[end], old.tags[end]);
                set_tag(old, end, kTagEmpty);
                --old.count;
                if (end == cursor || --budget == 0) break;
            }
        }
    }

    // Gives back old's slot and tag pages below the cursor, 32 KiB at a time per region, so
    // the final munmap frees almost nothing: a populated 32 MiB munmap is a millisecond stall.
    void release_behind_cursor() {
        const size_t cap = old.capacity();
        const size_t base[2] = {0, cap * sizeof(Slot)};
        const size_t width[2] = {sizeof(Slot), 1};
        for (int r = 0; r < 2; ++r) {
            size_t& from = release_at[r];
            if (from == 0) from = base[r];
            const size_t to = base[r] + cursor * width[r];
            if (to < from + kPageRelease) continue;
            released += zeroed_pages_release(old.slots, bytes_of(old), from, to);
            from = to / 4096 * 4096;  // the partial page at the end goes with the next range
            return;                   // one region per call: spreads the madvise cost
        }
    }

    // The emptied old array is not unmapped here: even with its pages given back, one munmap of
    // a 9 MiB array measured 20-27 us inside an insert (page-table teardown), half the budget.
    // It is retired instead and unmapped a slice per operation.
    void finish_migration() {
        while (old.count != 0) migrate(old.capacity());
        if (bytes_of(old) < kMmapThreshold) {
            release(old);
        } else {
            if (retired) zeroed_pages_unmap(retired, retired_done, retired_bytes);  // not reached: slices keep pace
            retired = reinterpret_cast<char*>(old.slots);
            retired_bytes = bytes_of(old);
            retired_done = 0;
            retired_resident = bytes_of(old) - released;
        }
        old = Table{};
        cursor = released = 0;
        release_at[0] = release_at[1] = 0;
    }

    // The i-th of the places the first migration steps of a grow write in the new array
    // (2C slots), or null past the last: the start and end of both halves of each region
    // (entries of old's first cluster, which may have wrapped from old's end, land near 0,
    // C - 1, C or 2C - 1) and the cloned tags at the end. Several may share a page; writing
    // again to a faulted-in page costs nothing.
    static uint8_t* first_touch(const Table& t, unsigned i) {
        const size_t c = t.capacity() / 2;
        uint8_t* const slots = reinterpret_cast<uint8_t*>(t.slots);
        uint8_t* const places[] = {
            slots, slots + (c - 1) * sizeof(Slot), slots + c * sizeof(Slot), slots + (2 * c - 1) * sizeof(Slot),
            t.tags, t.tags + c - 1, t.tags + c, t.tags + 2 * c - 1, t.tags + 2 * c + kGroupWidth - 1,
        };
        return i < std::size(places) ? places[i] : nullptr;
    }

    // One slice of the retired array. A grow's migration takes 0.225 x capacity operations or
    // more; unmapping its old array takes bytes / kRetireSlice (36 at 2^21 slots), so a retired
    // array is always gone before the next one retires.
    void unmap_retired_step() {
        const size_t to = std::min(retired_bytes, retired_done + kRetireSlice);
        zeroed_pages_unmap(retired, retired_done, to);
        retired_done = to;
        if (to == retired_bytes) {
            retired = nullptr;
            retired_bytes = retired_done = retired_resident = 0;
        }
    }

    // Called by add() while the table is within kPrepareAhead inserts of its grow: maps the
    // next array (one insert) and then faults in one of its first-touch pages per insert, so
    // that the insert that starts the grow pays neither the mmap nor ~12 page faults (1-4 us
    // each here) on top of its own work. Small arrays come from calloc and need none of it.
    void prepare_grow() {
        const size_t new_cap = cur.capacity() * 2;
        if (bytes_for(new_cap) < kMmapThreshold) return;
        if (!next.slots) {
            next = allocate(new_cap);
            next_touched = 0;
            return;
        }
        if (uint8_t* p = first_touch(next, next_touched)) {
            *static_cast<volatile uint8_t*>(p) = 0;  // zero already (no entry placed yet): only faults it in
            ++next_touched;
        }
    }

    void start_resize(size_t new_cap) {
        if (old.slots) finish_migration();  // not reached when kMigrateBudget keeps pace
        Table fresh;
        if (next.slots && next.capacity() == new_cap) {
            fresh = next;  // mapped and partly faulted in by prepare_grow
        } else {
            release(next);  // a shrink came first: the prepared grow array goes unused
            fresh = allocate(new_cap);
        }
        next = Table{};
        old = cur;
        cursor = released = 0;
        release_at[0] = release_at[1] = 0;
        cur = fresh;
        set_limits();
    }

    // The slot holding uid, in either array, or null. In old, a home below the cursor is an
    // empty slot, and an empty home means no entry of that home exists: skip the probe.
    // cur first, then (while migrating) old. Inlined into every caller: the lookup's whole
    // hot path is one function, so consecutive finds overlap their cache misses.
    [[gnu::always_inline]] Slot* find_slot(uint64_t h, std::string_view uid) const {
        if (Slot* s = locate(cur, h, uid)) [[likely]]
            return s;
        return old.slots ? find_slot_in_old(h, uid) : nullptr;
    }
    [[gnu::noinline]] Slot* find_slot_in_old(uint64_t h, std::string_view uid) const {
        return old_may_hold(h) ? locate(old, h, uid) : nullptr;
    }
    // Could old hold an entry whose hash is h (or its low 32 bits)? Not when its home is below
    // the cursor: migration has emptied those slots, and an empty home means no such entry.
    bool old_may_hold(uint64_t h) const { return (h & old.mask) >= cursor; }

    ConnSpan span(const ConnId& c) const {
        if (c.gen != 0) return ConnSpan{&c, 1};
        const std::vector<ConnId>& set = sets[c.slot];
        return ConnSpan{set.data(), uint32_t(set.size())};
    }
    ConnSpan span(const Slot& s) const { return span(arena.conn(s.rec)); }

    // The slot of t holding record r.rec under r's hash bits, or null: the probe of locate()
    // with the record ref in place of the uid bytes (a UidRef's remove reads no bytes), one
    // compare of the whole slot per candidate.
    [[gnu::always_inline]] static Slot* locate_ref(const Table& t, const UidRef& r) {
        uint64_t want;
        const Slot w{r.rec, r.hash_lo};
        std::memcpy(&want, &w, sizeof want);
        return uid_lookup::probe(t, r.hash_lo & t.mask, r.tag, [want](const Slot* s) {
            uint64_t have;
            std::memcpy(&have, s, sizeof have);
            return have == want;
        });
    }

    // Inlined into each caller, as are the arena's alloc and erase_slot: the calls' register
    // saves and restores were ~40 of a logout+login's ~480 instructions.
    [[gnu::always_inline]] inline AddResult add(std::string_view uid, ConnId c, uint64_t h, uint32_t* rec);
    AddResult add_to_existing(ConnId& s, ConnId c);
    RemoveResult remove_from_existing(ConnId& s, ConnId c);
    [[gnu::always_inline]] inline void erase_slot(Slot* s, size_t len);  // len: the uid's, checked
};

// s: the record's connection field (the one connection, or gen 0 and a set index).
UidTable::AddResult UidTable::Impl::add_to_existing(ConnId& s, ConnId c) {
    if (s.gen != 0) {
        if (s == c) return AddResult::AlreadyPresent;
        const uint32_t index = take_index(free_sets, sets);
        sets[index].assign({s, c});
        s = ConnId{index, 0};
    } else {
        // Linear scan: a uid has a handful of connections (tabs, devices); O(its connections).
        std::vector<ConnId>& set = sets[s.slot];
        for (ConnId x : set)
            if (x == c) return AddResult::AlreadyPresent;
        set.push_back(c);
    }
    ++conns;
    return AddResult::AddedToUid;
}

UidTable::RemoveResult UidTable::Impl::remove_from_existing(ConnId& s, ConnId c) {
    std::vector<ConnId>& set = sets[s.slot];
    for (size_t i = 0; i < set.size(); ++i) {
        if (set[i] != c) continue;
        set[i] = set.back();
        set.pop_back();
        --conns;
        if (set.size() == 1) {  // back to the allocation-free representation
            s = set[0];
            set.clear();
            free_sets.push_back(uint32_t(&set - sets.data()));
        }
        return RemoveResult::RemovedFromUid;
    }
    return RemoveResult::NotFound;
}

inline void UidTable::Impl::erase_slot(Slot* s, size_t len) {
    arena.free(s->rec, len);
    --conns;
    if (!old.slots) [[likely]] {
        erase_at(cur, size_t(s - cur.slots));
        if (cur.count < shrink_below) [[unlikely]]
            start_resize(cur.capacity() / 2);
    } else if (s >= cur.slots && s < cur.slots + cur.capacity()) {
        erase_at(cur, size_t(s - cur.slots));
    } else {
        erase_at(old, size_t(s - old.slots));
    }
}

UidTable::UidTable(size_t max_uid_len, uint64_t (*hash_override)(const void*, size_t), uint64_t seed)
    : impl_(new Impl(arrays_, max_uid_len < KeyArena::kMaxKeyLen ? max_uid_len : KeyArena::kMaxKeyLen, hash_override,
                     seed)) {}

UidTable::~UidTable() { delete impl_; }

// The uid's record goes to *rec (on success).
inline UidTable::AddResult UidTable::Impl::add(std::string_view uid, ConnId c, uint64_t h, uint32_t* rec) {
    migrate_some();  // before the lookup: migration moves slots
    size_t empty_at;   // where uid goes in cur if it is new: the probe's first empty slot
    Slot* s = locate(cur, h, uid, &empty_at);
    if (!s && old.slots) s = find_slot_in_old(h, uid);
    if (s) {
        *rec = s->rec;
        return add_to_existing(arena.conn(s->rec), c);
    }
    const size_t after = cur.count + old.count + 1;
    bool probed = true;
    if (after > prepare_at) [[unlikely]] {
        if (after > grow_at) {
            start_resize(cur.capacity() * 2);  // a new cur: empty_at is void
            probed = false;
        } else if (!old.slots) {
            prepare_grow();
        }
    }
    const Slot fresh{arena.alloc(uid, c), uint32_t(h)};
    if (probed)
        place_at(cur, empty_at, fresh, tag_of(h));
    else
        place(cur, fresh, tag_of(h));
    ++conns;
    *rec = fresh.rec;
    return AddResult::NewUid;
}

UidTable::AddResult UidTable::add(std::string_view uid, ConnId c, std::string_view* stored) {
    UidRef ref;
    const AddResult r = add(uid, c, &ref);
    if (stored && r != AddResult::TooLong) *stored = this->uid(ref);
    return r;
}

UidTable::AddResult UidTable::add(std::string_view uid, ConnId c, UidRef* ref) {
    Impl& m = *impl_;
    assert(c.valid());
    if (uid.size() > m.a.max_len) return AddResult::TooLong;
    const uint64_t h = m.hash(uid);
    uint32_t rec;
    const AddResult r = m.add(uid, c, h, &rec);
    if (ref) *ref = UidRef{rec, uint32_t(h), uint16_t(uid.size()), tag_of(h)};
    return r;
}

UidTable::RemoveResult UidTable::remove(std::string_view uid, ConnId c) {
    Impl& m = *impl_;
    if (uid.size() > m.a.max_len) return RemoveResult::NotFound;
    const uint64_t h = m.hash(uid);
    m.migrate_some();
    Slot* s = m.find_slot(h, uid);
    if (!s) return RemoveResult::NotFound;
    ConnId& held = m.arena.conn(s->rec);
    if (held.gen == 0) return m.remove_from_existing(held, c);
    if (held != c) return RemoveResult::NotFound;
    m.erase_slot(s, uid.size());
    return RemoveResult::UidGone;
}

UidTable::RemoveResult UidTable::remove(const UidRef& r, ConnId c) {
    Impl& m = *impl_;
    if (!m.arena.holds(r.rec)) return RemoveResult::NotFound;  // r.rec == 0 included
    // The record's line is requested now, so its miss overlaps the slot's: both addresses are
    // known without reading the uid (remove(uid, c) must read the bytes to hash them first).
    __builtin_prefetch(m.arena.at(r.rec));
    m.migrate_some();
    Slot* s = Impl::locate_ref(m.cur, r);
    if (!s && m.old.slots && m.old_may_hold(r.hash_lo)) s = Impl::locate_ref(m.old, r);
    if (!s) return RemoveResult::NotFound;
    ConnId& held = m.arena.conn(s->rec);
    if (held.gen == 0) return m.remove_from_existing(held, c);
    // The length is checked, not only the connection: erase_slot frees the record by r.len.
    if (held != c || m.arena.length(s->rec) != r.len) return RemoveResult::NotFound;
    m.erase_slot(s, r.len);
    return RemoveResult::UidGone;
}

// find()'s cold paths; the hot one is inline in uid_table.h.
ConnSpan UidTable::find_cold(std::string_view uid) const {
    const Impl& m = *impl_;
    if (uid.size() > m.a.max_len) return ConnSpan{};
    const Slot* s = m.find_slot(m.hash(uid), uid);
    return s ? m.span(*s) : ConnSpan{};
}

ConnSpan UidTable::find_in_old(uint64_t h, std::string_view uid) const {
    const Slot* s = impl_->find_slot_in_old(h, uid);
    return s ? impl_->span(*s) : ConnSpan{};
}

ConnSpan UidTable::set_span(ConnId set) const { return impl_->span(set); }

// Three passes over a block, so each pass's cache misses overlap: hash and prefetch the tags
// and home slot; find the first slot whose tag and 32 hash bits match and prefetch its record;
// then the lookups proper, which find their lines in cache.
void UidTable::find_many(const std::string_view* uids, size_t n, ConnSpan* out) const {
    const Impl& m = *impl_;
    const uid_lookup::SlotArray& t = m.cur;
    constexpr size_t kBlock = 16;  // enough misses in flight to cover DRAM latency
    uint64_t h[kBlock];
    for (size_t base = 0; base < n; base += kBlock) {
        const size_t k = std::min(kBlock, n - base);
        for (size_t i = 0; i < k; ++i) {
            h[i] = m.hash(uids[base + i]);
            const size_t pos = h[i] & t.mask;
            __builtin_prefetch(t.tags + pos);
            __builtin_prefetch(&t.slots[pos]);
        }
        for (size_t i = 0; i < k; ++i) {
            const size_t pos = h[i] & t.mask;
            for (uint32_t c = TagGroup(t.tags + pos).match(tag_of(h[i])); c; c &= c - 1) {
                const Slot& s = t.slots[(pos + lowest(c)) & t.mask];
                if (s.hash_lo == uint32_t(h[i])) {
                    __builtin_prefetch(m.arena.at(s.rec) + uid_lookup::kRecLen);
                    break;
                }
            }
        }
        for (size_t i = 0; i < k; ++i) {
            const std::string_view uid = uids[base + i];
            const Slot* s = uid.size() > m.a.max_len ? nullptr : m.find_slot(h[i], uid);
            out[base + i] = s ? m.span(*s) : ConnSpan{};
        }
    }
}

size_t UidTable::uid_count() const { return impl_->cur.count + impl_->old.count; }
size_t UidTable::conn_count() const { return impl_->conns; }

bool UidTable::advance_resize(size_t budget) {
    impl_->migrate(budget);
    return impl_->old.slots != nullptr || impl_->retired != nullptr;
}

size_t UidTable::capacity() const { return impl_->cur.capacity(); }
bool UidTable::migrating() const { return impl_->old.slots != nullptr; }

size_t UidTable::memory_bytes() const {
    const Impl& m = *impl_;
    size_t bytes = sizeof(*this) + sizeof(Impl) + bytes_of(m.cur) + bytes_of(m.old) - m.released + bytes_of(m.next) + m.retired_resident + m.arena.memory_bytes() +
                   m.sets.capacity() * sizeof(m.sets[0]) + m.free_sets.capacity() * sizeof(uint32_t);
    for (const std::vector<ConnId>& set : m.sets) bytes += set.capacity() * sizeof(ConnId);
    return bytes;
}

// Cursor: [0, cur capacity) walks cur, then old from its migration cursor.
bool UidTable::next(size_t& cursor, std::string_view& uid, ConnSpan& conns) const {
    const Impl& m = *impl_;
    const size_t cur_cap = m.cur.capacity();
    for (;; ++cursor) {
        const Slot* s;
        if (cursor < cur_cap) {
            if (m.cur.tags[cursor] == kTagEmpty) continue;
            s = &m.cur.slots[cursor];
        } else if (m.old.slots && cursor - cur_cap < m.old.capacity()) {
            if (cursor - cur_cap < m.cursor) cursor = cur_cap + m.cursor;  // migrated prefix: empty
            if (cursor - cur_cap >= m.old.capacity()) return false;
            if (m.old.tags[cursor - cur_cap] == kTagEmpty) continue;
            s = &m.old.slots[cursor - cur_cap];
        } else {
            return false;
        }
        uid = m.arena.view(s->rec);
        conns = m.span(*s);
        ++cursor;
        return true;
    }
}

}  // namespace wspush::registry
