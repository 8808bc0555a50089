// UidTable: linear probing over a tag array (16 tags per SSE2 compare) and 32-byte slots that
// hold the uid inline; backward-shift deletion; incremental resize (two arrays while
// migrating). Layout, load factor and costs: docs/registry.md.
#include "registry/uid_table.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL  // XXH3 on a 16-byte uid is a handful of instructions; let it inline
#include <xxhash.h>

#include "registry/key_arena.h"
#include "registry/tag_group.h"
#include "registry/zeroed_pages.h"

namespace wspush::registry {
namespace {

constexpr size_t kInline = 19;  // every decimal int64 and every 16-byte id fits

// 32 bytes, two per cache line. image = [length byte][first 19 uid bytes, zero padded]. For a
// uid of up to 19 bytes equality is decided by one 20-byte compare inside the slot, so a hit
// touches one slot line and no arena line; a longer uid matches the image, then the arena copy.
struct Slot {
    ConnId conn;        // the one connection, or (gen 0) conn.slot indexes a multi-connection set
    uint32_t key;       // arena ref: the stable copy of the uid (stored views, long uids)
    uint8_t image[20];  // image[0]: length, 255 meaning 255 or more
};
static_assert(sizeof(Slot) == 32);

uint64_t load8(const void* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
uint32_t load4(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// A slot's image of uid: [length byte, 255 meaning 255 or more][first 19 bytes, zero padded].
// Built only when an entry is stored; lookups compare against the slot in place (below).
struct Image {
    uint8_t b[20] = {};
    explicit Image(std::string_view uid) {
        b[0] = uint8_t(std::min<size_t>(uid.size(), 255));
        std::memcpy(b + 1, uid.data(), std::min(uid.size(), kInline));
    }
};

// Does the slot's image hold uid's length byte and first min(len, 19) bytes? Compares the slot
// against the caller's bytes with fixed-size overlapping loads: no image of the probe is built.
// (Building one on the stack with overlapping stores and reading it back in 8-byte words
// defeated store-to-load forwarding: a stall of ~15 cycles on every lookup.)
[[gnu::always_inline]] inline bool image_matches(const Slot& s, std::string_view uid) {
    const size_t n = uid.size();
    if (s.image[0] != uint8_t(std::min<size_t>(n, 255))) return false;
    const uint8_t* a = s.image + 1;
    const char* b = uid.data();
    const size_t k = std::min(n, kInline);
    if (k >= 8) {
        uint64_t d = (load8(a) ^ load8(b)) | (load8(a + k - 8) ^ load8(b + k - 8));
        if (k > 16) d |= load8(a + 8) ^ load8(b + 8);
        return d == 0;
    }
    if (k >= 4) return ((load4(a) ^ load4(b)) | (load4(a + k - 4) ^ load4(b + k - 4))) == 0;
    return k == 0 || (a[0] == uint8_t(b[0]) && a[k / 2] == uint8_t(b[k / 2]) && a[k - 1] == uint8_t(b[k - 1]));
}

// One allocation: capacity slots, capacity + 16 tags, capacity displacements. Tags
// [cap, cap + 15) clone tags [0, 15) so a group load near the end reads the wrapped-around
// tags without a second load. disp[i]: how far slot i's entry sits past its home (255: at
// least that far, rehash to know), so deletion's backward shift never rehashes a key.
struct Table {
    Slot* slots = nullptr;
    uint8_t* tags = nullptr;
    uint8_t* disp = nullptr;
    size_t mask = 0;
    size_t count = 0;

    static size_t bytes_for(size_t cap) { return cap * (sizeof(Slot) + 2) + kGroupWidth; }
    size_t capacity() const { return slots ? mask + 1 : 0; }
    size_t bytes() const { return slots ? bytes_for(capacity()) : 0; }
    void set_tag(size_t i, uint8_t tag) {
        tags[i] = tag;
        if (i < kGroupWidth - 1) tags[mask + 1 + i] = tag;
    }

    static Table allocate(size_t cap) {
        void* p = zeroed_pages_alloc(bytes_for(cap));
        if (!p) throw std::bad_alloc();
        Table t;
        t.slots = static_cast<Slot*>(p);
        t.tags = reinterpret_cast<uint8_t*>(t.slots + cap);
        t.disp = t.tags + cap + kGroupWidth;
        t.mask = cap - 1;
        return t;
    }
    void release() { zeroed_pages_free(slots, bytes()); }
};

constexpr size_t kNone = ~size_t(0);
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

uint32_t lowest(uint32_t m) { return uint32_t(__builtin_ctz(m)); }

}  // namespace

struct UidTable::Impl {
    size_t max_len;
    uint64_t (*hash_override)(const void*, size_t);
    KeyArena arena;
    Table cur;
    Table old;            // being migrated into cur when old.slots != nullptr
    size_t cursor = 0;    // old's slots below cursor are empty (and their pages may be released)
    size_t release_at[3] = {};  // per region of old (slots, tags, displacements): released up to
    size_t released = 0;        // bytes of old given back so far
    size_t conns = 0;
    std::vector<std::vector<ConnId>> sets;  // multi-connection uids; freed sets keep capacity
    std::vector<uint32_t> free_sets;

    Impl(size_t max, uint64_t (*h)(const void*, size_t))
        : max_len(max), hash_override(h), arena(max), cur(Table::allocate(kMinCapacity)) {}
    ~Impl() {
        cur.release();
        old.release();
    }

    // XXH3. Up to 16 bytes (16-byte ids, decimal ids up to 16 digits) it calls XXH3's own
    // short-input path directly, inlined: same value as XXH3_64bits(), without the call and
    // the length dispatch, which are a fifth of a lookup's instructions.
    [[gnu::always_inline]] uint64_t hash(std::string_view uid) const {
        if (hash_override) [[unlikely]]
            return hash_override(uid.data(), uid.size());
        if (uid.size() <= 16) [[likely]]
            return XXH3_len_0to16_64b(reinterpret_cast<const xxh_u8*>(uid.data()), uid.size(), XXH3_kSecret, 0);
        return XXH3_64bits(uid.data(), uid.size());
    }
    // Slots keep no hash: short uids rehash from the slot itself (a few ns), long ones from the
    // arena. Needed only to migrate an entry, or in a deletion shift past a saturated disp;
    // never on lookup.
    uint64_t hash_of(const Slot& s) const {
        if (s.image[0] <= kInline) return hash({reinterpret_cast<const char*>(s.image + 1), s.image[0]});
        return hash(arena.view(s.key));
    }

    [[gnu::always_inline]] bool matches(const Slot& s, std::string_view uid) const {
        if (!image_matches(s, uid)) return false;
        return uid.size() <= kInline || arena.equals(s.key, uid);
    }

    // Position of uid in t, or kNone. Tight loop: one 16-tag compare per group; a slot is read
    // only when its 7 tag bits match (1 in 128 for a stranger).
    [[gnu::always_inline]] size_t locate(const Table& t, uint64_t h, std::string_view uid) const {
        const uint8_t tag = tag_of(h);
        const size_t home = h & t.mask;
        // Most hits sit in the home slot's cache line or the next one (two slots per line; an
        // entry displaced by one or two often crosses). Fetching both alongside the tags
        // overlaps a hit's cache misses instead of paying the slot's after the tags'; a miss
        // pays wasted line fetches, not waited for. The second prefetch: ~10% on Find at 1M.
        __builtin_prefetch(&t.slots[home]);
        __builtin_prefetch(reinterpret_cast<const char*>(&t.slots[home]) + 64);
        size_t pos = home;
        for (;;) {
            const TagGroup g(t.tags + pos);
            uint32_t m = g.match(tag);
            const uint32_t e = g.empty();
            if (e) m &= (e & (0u - e)) - 1;  // linear probing: never past the first empty slot
            for (; m; m &= m - 1) {
                const size_t i = (pos + lowest(m)) & t.mask;
                if (matches(t.slots[i], uid)) return i;
            }
            if (e) return kNone;
            pos = (pos + kGroupWidth) & t.mask;
        }
    }

    static void place(Table& t, uint64_t h, const Slot& s) {
        const size_t home = h & t.mask;
        for (size_t pos = home;; pos = (pos + kGroupWidth) & t.mask) {
            const uint32_t e = TagGroup(t.tags + pos).empty();
            if (e) {
                const size_t i = (pos + lowest(e)) & t.mask;
                t.slots[i] = s;
                t.set_tag(i, tag_of(h));
                t.disp[i] = uint8_t(std::min<size_t>((i - home) & t.mask, 255));
                ++t.count;
                return;
            }
        }
    }

    // Backward-shift deletion (Knuth's Algorithm R): walk the rest of the cluster and pull back
    // every entry whose home is not between the hole and itself. No tombstones, so probe
    // lengths stay what they would be had the key never existed. O(cluster length).
    void erase_at(Table& t, size_t hole) const {
        for (size_t j = hole;;) {
            j = (j + 1) & t.mask;
            if (t.tags[j] == kTagEmpty) break;
            size_t d = t.disp[j];
            if (d == 255) d = (j - hash_of(t.slots[j])) & t.mask;
            const size_t gap = (j - hole) & t.mask;
            if (d < gap) continue;  // home in (hole, j]: it must stay
            t.slots[hole] = t.slots[j];
            t.set_tag(hole, t.tags[j]);
            t.disp[hole] = uint8_t(std::min<size_t>(d - gap, 255));
            hole = j;
        }
        t.set_tag(hole, kTagEmpty);
        --t.count;
    }

    // Moves up to `budget` old slots into cur. Entries leave from the end of the cluster that
    // starts at the cursor, backwards: removing a cluster's last entry never breaks another
    // entry's probe path, so the old array stays a valid table at every step (lookups probe it
    // unchanged) and no entry is shifted. O(budget + the cluster's length / 16) per call.
    void migrate(size_t budget) {
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
                place(cur, hash_of(old.slots[end]), old.slots[end]);
                old.set_tag(end, kTagEmpty);
                --old.count;
                if (end == cursor || --budget == 0) break;
            }
        }
    }

    // Gives back old's slot, tag and displacement pages below the cursor, 64 KiB at a time
    // per region (about 10 us of madvise), so the final munmap frees almost nothing: a
    // populated 32 MiB munmap is a millisecond stall.
    void release_behind_cursor() {
        const size_t cap = old.capacity();
        const size_t base[3] = {0, cap * sizeof(Slot), cap * (sizeof(Slot) + 1) + kGroupWidth};
        const size_t width[3] = {sizeof(Slot), 1, 1};
        for (int r = 0; r < 3; ++r) {
            size_t& from = release_at[r];
            if (from == 0) from = base[r];
            const size_t to = base[r] + cursor * width[r];
            if (to < from + kPageRelease) continue;
            released += zeroed_pages_release(old.slots, old.bytes(), from, to);
            from = to / 4096 * 4096;  // the partial page at the end goes with the next range
            return;                   // one region per call: spreads the madvise cost
        }
    }

    void finish_migration() {
        while (old.count != 0) migrate(old.capacity());
        old.release();
        old = Table{};
        cursor = released = 0;
        release_at[0] = release_at[1] = release_at[2] = 0;
    }

    void start_resize(size_t new_cap) {
        if (old.slots) finish_migration();  // not reached when kMigrateBudget keeps pace
        Table fresh = Table::allocate(new_cap);
        old = cur;
        cursor = released = 0;
        release_at[0] = release_at[1] = release_at[2] = 0;
        cur = fresh;
    }

    // The slot holding uid, in either array, or null. In old, a home below the cursor is an
    // empty slot, and an empty home means no entry of that home exists: skip the probe.
    // cur first, then (while migrating) old. Inlined into every caller: the lookup's whole
    // hot path is one function, so consecutive finds overlap their cache misses.
    [[gnu::always_inline]] Slot* find_slot(uint64_t h, std::string_view uid) const {
        const size_t pos = locate(cur, h, uid);
        if (pos != kNone) [[likely]]
            return &cur.slots[pos];
        return old.slots ? find_in_old(h, uid) : nullptr;
    }
    [[gnu::noinline]] Slot* find_in_old(uint64_t h, std::string_view uid) const {
        size_t pos;
        if ((h & old.mask) >= cursor && (pos = locate(old, h, uid)) != kNone) return &old.slots[pos];
        return nullptr;
    }

    ConnSpan span(const Slot& s) const {
        if (s.conn.gen != 0) return ConnSpan{&s.conn, 1};
        const std::vector<ConnId>& set = sets[s.conn.slot];
        return ConnSpan{set.data(), uint32_t(set.size())};
    }

    AddResult add_to_existing(Slot& s, ConnId c);
    RemoveResult remove_from_existing(Slot& s, ConnId c);
    void erase_slot(Slot* s);
};

UidTable::AddResult UidTable::Impl::add_to_existing(Slot& s, ConnId c) {
    if (s.conn.gen != 0) {
        if (s.conn == c) return AddResult::AlreadyPresent;
        uint32_t index;
        if (!free_sets.empty()) {
            index = free_sets.back();
            free_sets.pop_back();
        } else {
            index = uint32_t(sets.size());
            sets.emplace_back();
        }
        sets[index].assign({s.conn, c});
        s.conn = ConnId{index, 0};
    } else {
        // Linear scan: a uid has a handful of connections (tabs, devices); O(its connections).
        std::vector<ConnId>& set = sets[s.conn.slot];
        for (ConnId x : set)
            if (x == c) return AddResult::AlreadyPresent;
        set.push_back(c);
    }
    ++conns;
    return AddResult::AddedToUid;
}

UidTable::RemoveResult UidTable::Impl::remove_from_existing(Slot& s, ConnId c) {
    std::vector<ConnId>& set = sets[s.conn.slot];
    for (size_t i = 0; i < set.size(); ++i) {
        if (set[i] != c) continue;
        set[i] = set.back();
        set.pop_back();
        --conns;
        if (set.size() == 1) {  // back to the allocation-free representation
            s.conn = set[0];
            set.clear();
            free_sets.push_back(uint32_t(&set - sets.data()));
        }
        return RemoveResult::RemovedFromUid;
    }
    return RemoveResult::NotFound;
}

void UidTable::Impl::erase_slot(Slot* s) {
    arena.free(s->key, s->image[0] < 255 ? s->image[0] : KeyArena::kUnknownLen);
    --conns;
    if (s >= cur.slots && s < cur.slots + cur.capacity())
        erase_at(cur, size_t(s - cur.slots));
    else
        erase_at(old, size_t(s - old.slots));
    const size_t cap = cur.capacity();
    if (!old.slots && cap > kMinCapacity && cur.count < min_load(cap)) start_resize(cap / 2);
}

UidTable::UidTable(size_t max_uid_len, uint64_t (*hash_override)(const void*, size_t))
    : impl_(new Impl(max_uid_len < KeyArena::kMaxKeyLen ? max_uid_len : KeyArena::kMaxKeyLen, hash_override)) {}

UidTable::~UidTable() { delete impl_; }

UidTable::AddResult UidTable::add(std::string_view uid, ConnId c, std::string_view* stored) {
    Impl& m = *impl_;
    assert(c.valid());
    if (uid.size() > m.max_len) return AddResult::TooLong;
    const uint64_t h = m.hash(uid);
    const Image im(uid);
    m.migrate(kMigrateBudget);  // before the lookup: migration moves slots
    if (Slot* s = m.find_slot(h, uid)) {
        const AddResult r = m.add_to_existing(*s, c);
        if (stored) *stored = m.arena.view(s->key);
        return r;
    }
    if (m.cur.count + m.old.count + 1 > max_load(m.cur.capacity())) m.start_resize(m.cur.capacity() * 2);
    Slot fresh{c, m.arena.alloc(uid), {}};
    std::memcpy(fresh.image, im.b, sizeof im.b);
    Impl::place(m.cur, h, fresh);
    ++m.conns;
    if (stored) *stored = m.arena.view(fresh.key);
    return AddResult::NewUid;
}

UidTable::RemoveResult UidTable::remove(std::string_view uid, ConnId c) {
    Impl& m = *impl_;
    if (uid.size() > m.max_len) return RemoveResult::NotFound;
    const uint64_t h = m.hash(uid);
    const Image im(uid);
    m.migrate(kMigrateBudget);
    Slot* s = m.find_slot(h, uid);
    if (!s) return RemoveResult::NotFound;
    if (s->conn.gen == 0) return m.remove_from_existing(*s, c);
    if (s->conn != c) return RemoveResult::NotFound;
    m.erase_slot(s);
    return RemoveResult::UidGone;
}

ConnSpan UidTable::find(std::string_view uid) const {
    const Impl& m = *impl_;
    if (uid.size() > m.max_len) return ConnSpan{};
    const Slot* s = m.find_slot(m.hash(uid), uid);
    return s ? m.span(*s) : ConnSpan{};
}

void UidTable::find_many(const std::string_view* uids, size_t n, ConnSpan* out) const {
    const Impl& m = *impl_;
    constexpr size_t kBlock = 16;  // enough misses in flight to cover DRAM latency
    uint64_t h[kBlock];
    for (size_t base = 0; base < n; base += kBlock) {
        const size_t k = std::min(kBlock, n - base);
        for (size_t i = 0; i < k; ++i) {
            h[i] = m.hash(uids[base + i]);
            const size_t pos = h[i] & m.cur.mask;
            __builtin_prefetch(m.cur.tags + pos);
            __builtin_prefetch(&m.cur.slots[pos]);
        }
        for (size_t i = 0; i < k; ++i) {
            const std::string_view uid = uids[base + i];
            const Slot* s = uid.size() > m.max_len ? nullptr : m.find_slot(h[i], uid);
            out[base + i] = s ? m.span(*s) : ConnSpan{};
        }
    }
}

size_t UidTable::uid_count() const { return impl_->cur.count + impl_->old.count; }
size_t UidTable::conn_count() const { return impl_->conns; }

bool UidTable::advance_resize(size_t budget) {
    impl_->migrate(budget);
    return impl_->old.slots != nullptr;
}

size_t UidTable::capacity() const { return impl_->cur.capacity(); }
bool UidTable::migrating() const { return impl_->old.slots != nullptr; }

size_t UidTable::memory_bytes() const {
    const Impl& m = *impl_;
    size_t bytes = sizeof(Impl) + m.cur.bytes() + m.old.bytes() - m.released + m.arena.memory_bytes() +
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
        uid = m.arena.view(s->key);
        conns = m.span(*s);
        ++cursor;
        return true;
    }
}

}  // namespace wspush::registry
