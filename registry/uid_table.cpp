// UidTable: Robin Hood linear probing over 16-byte slots, backward-shift deletion, and
// incremental resize (two arrays while migrating). Layout and reasoning: docs/registry.md.
#include "registry/uid_table.h"

#include <cassert>
#include <new>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL  // XXH3 on a 16-byte uid is a handful of instructions; let it inline
#include <xxhash.h>

#include "registry/key_arena.h"
#include "registry/zeroed_pages.h"

namespace wspush::registry {
namespace {

// 16 bytes, 4 per cache line. key == 0: empty (so a zeroed array is an empty table).
// hash: low 32 bits of XXH3. It is the fingerprint (a probe compares it before touching the
// arena) and the home position (hash & mask), so growth never rehashes a key.
// conn: the one connection, or, when conn.gen == 0, conn.slot indexes a multi-connection set.
struct Slot {
    uint32_t hash;
    uint32_t key;
    ConnId conn;
};
static_assert(sizeof(Slot) == 16);

struct Table {
    Slot* slots = nullptr;
    uint32_t mask = 0;
    size_t count = 0;
    size_t capacity() const { return slots ? size_t(mask) + 1 : 0; }
    size_t bytes() const { return capacity() * sizeof(Slot); }
};

constexpr size_t kNone = ~size_t(0);
constexpr size_t kMinCapacity = 16;
// Max load 0.8: Robin Hood keeps the mean probe length near 3 slots (under one cache line of
// fingerprints) at 0.8; at 0.9 it roughly doubles. Growth leaves load 0.4, shrink (below 0.2)
// leaves 0.4, so a table oscillating around a size boundary never thrashes.
size_t max_load(size_t cap) { return cap - cap / 5; }
size_t min_load(size_t cap) { return cap / 5; }
// Old-array slots visited per add/remove while migrating. Migration needs capacity + entries
// visits (at most 1.8 x capacity); at 8 per operation a grow finishes after 0.225 x capacity
// inserts, long before the new array (2 x capacity, 0.8 x capacity filled) can reach its own
// max load, so a second resize never finds the first unfinished.
constexpr size_t kMigrateBudget = 8;

uint32_t distance(const Table& t, size_t pos, uint32_t hash) { return uint32_t((pos - hash) & t.mask); }

}  // namespace

struct UidTable::Impl {
    size_t max_len;
    uint64_t (*hash_override)(const void*, size_t);
    KeyArena arena;
    Table cur;
    Table old;          // being migrated into cur when old.slots != nullptr
    size_t cursor = 0;  // old's slots below cursor are empty (and may be released)
    size_t released = 0;  // bytes of old already given back, a multiple of kPageRelease
    size_t conns = 0;
    std::vector<std::vector<ConnId>> sets;  // multi-connection uids; freed sets keep capacity
    std::vector<uint32_t> free_sets;

    Impl(size_t max, uint64_t (*h)(const void*, size_t)) : max_len(max), hash_override(h), arena(max) {
        cur.slots = static_cast<Slot*>(zeroed_pages_alloc(kMinCapacity * sizeof(Slot)));
        if (!cur.slots) throw std::bad_alloc();
        cur.mask = kMinCapacity - 1;
    }
    ~Impl() {
        zeroed_pages_free(cur.slots, cur.bytes());
        zeroed_pages_free(old.slots, old.bytes());
    }

    uint32_t hash(std::string_view uid) const {
        return uint32_t(hash_override ? hash_override(uid.data(), uid.size()) : XXH3_64bits(uid.data(), uid.size()));
    }

    // Position of uid in t, or kNone. Slots below `floor` are known empty (the migrated prefix
    // of the old array) and are never read: their pages may have been released.
    size_t locate(const Table& t, size_t floor, uint32_t h, std::string_view uid) const {
        size_t pos = h & t.mask;
        if (pos < floor) return kNone;
        for (uint32_t dist = 0;; ++dist) {
            const Slot& s = t.slots[pos];
            if (s.key == 0 || distance(t, pos, s.hash) < dist) return kNone;  // Robin Hood early exit
            if (s.hash == h && arena.equals(s.key, uid)) return pos;
            pos = (pos + 1) & t.mask;
            if (pos < floor) return kNone;
        }
    }

    // Robin Hood insert of an entry known to be absent: take the slot of any resident closer to
    // its home than we are to ours, and carry the resident on.
    static void insert(Table& t, Slot e) {
        size_t pos = e.hash & t.mask;
        for (uint32_t dist = 0;; ++dist, pos = (pos + 1) & t.mask) {
            Slot& s = t.slots[pos];
            if (s.key == 0) {
                s = e;
                ++t.count;
                return;
            }
            const uint32_t d = distance(t, pos, s.hash);
            if (d < dist) {
                std::swap(s, e);
                dist = d;
            }
        }
    }

    // Backward-shift deletion: pull each following displaced entry one slot back, so no
    // tombstone is left and probe lengths stay what they would be had the key never existed.
    static void erase_at(Table& t, size_t floor, size_t pos) {
        for (;;) {
            const size_t next = (pos + 1) & t.mask;
            if (next < floor) break;
            const Slot& n = t.slots[next];
            if (n.key == 0 || distance(t, next, n.hash) == 0) break;
            t.slots[pos] = n;
            pos = next;
        }
        t.slots[pos] = Slot{};
        --t.count;
    }

    // Moves up to `budget` old slots into cur. A migrated slot is erased with backward shift,
    // so the old array is a valid table at every step and lookups may probe it unchanged.
    void migrate(size_t budget) {
        while (old.slots && budget-- != 0) {
            if (old.count == 0 || cursor == old.capacity()) {
                finish_migration();
                return;
            }
            const Slot s = old.slots[cursor];
            if (s.key == 0) {
                ++cursor;
                release_behind_cursor();
                continue;
            }
            insert(cur, s);
            erase_at(old, cursor, cursor);
        }
    }

    void release_behind_cursor() {
        const size_t done = cursor * sizeof(Slot) / kPageRelease * kPageRelease;
        if (done > released) {
            zeroed_pages_release(old.slots, old.bytes(), released, done);
            released = done;
        }
    }

    void finish_migration() {
        while (old.slots && old.count != 0) {
            const Slot s = old.slots[cursor];
            if (s.key == 0) {
                ++cursor;
                continue;
            }
            insert(cur, s);
            erase_at(old, cursor, cursor);
        }
        zeroed_pages_free(old.slots, old.bytes());
        old = Table{};
        cursor = released = 0;
    }

    void start_resize(size_t new_cap) {
        if (old.slots) finish_migration();  // not reached when kMigrateBudget keeps pace
        Slot* fresh = static_cast<Slot*>(zeroed_pages_alloc(new_cap * sizeof(Slot)));
        if (!fresh) throw std::bad_alloc();
        old = cur;
        cursor = released = 0;
        cur = Table{fresh, uint32_t(new_cap - 1), 0};
    }

    // The slot holding uid, in either array, or null.
    Slot* find_slot(uint32_t h, std::string_view uid) const {
        size_t pos = locate(cur, 0, h, uid);
        if (pos != kNone) return &cur.slots[pos];
        if (old.slots && (pos = locate(old, cursor, h, uid)) != kNone) return &old.slots[pos];
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
    arena.free(s->key);
    --conns;
    if (s >= cur.slots && s < cur.slots + cur.capacity())
        erase_at(cur, 0, size_t(s - cur.slots));
    else
        erase_at(old, cursor, size_t(s - old.slots));
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
    const uint32_t h = m.hash(uid);
    m.migrate(kMigrateBudget);  // before the lookup: migration moves slots
    if (Slot* s = m.find_slot(h, uid)) {
        const AddResult r = m.add_to_existing(*s, c);
        if (stored) *stored = m.arena.view(s->key);
        return r;
    }
    if (m.cur.count + m.old.count + 1 > max_load(m.cur.capacity())) m.start_resize(m.cur.capacity() * 2);
    const uint32_t key = m.arena.alloc(uid);
    Impl::insert(m.cur, Slot{h, key, c});
    ++m.conns;
    if (stored) *stored = m.arena.view(key);
    return AddResult::NewUid;
}

UidTable::RemoveResult UidTable::remove(std::string_view uid, ConnId c) {
    Impl& m = *impl_;
    if (uid.size() > m.max_len) return RemoveResult::NotFound;
    const uint32_t h = m.hash(uid);
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

size_t UidTable::uid_count() const { return impl_->cur.count + impl_->old.count; }
size_t UidTable::conn_count() const { return impl_->conns; }

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
            s = &m.cur.slots[cursor];
        } else if (m.old.slots && cursor - cur_cap < m.old.capacity()) {
            if (cursor - cur_cap < m.cursor) cursor = cur_cap + m.cursor;  // migrated prefix: empty
            if (cursor - cur_cap >= m.old.capacity()) return false;
            s = &m.old.slots[cursor - cur_cap];
        } else {
            return false;
        }
        if (s->key == 0) continue;
        uid = m.arena.view(s->key);
        conns = m.span(*s);
        ++cursor;
        return true;
    }
}

}  // namespace wspush::registry
