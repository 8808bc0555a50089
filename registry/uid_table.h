// UidTable: uid (bytes) -> the set of that uid's connections. Linear probing over a
// power-of-two array, hashed with XXH3 under a random per-table seed (registry/seeded_hash.h):
// a one-byte tag per slot (7 hash bits) is matched 16 at a time with SSE2, so most probes
// never touch a slot; a slot (8 bytes) holds 32 more hash bits
// and a ref to the entry's record (connection, uid) in an arena that never moves: each uid is
// stored once, and `stored` views point at it. Deletion shifts entries back (no tombstones),
// so login/logout churn never degrades probing; growth moves a bounded number of entries per
// operation (no stop-the-world rehash), so the slowest insert stays in microseconds at
// millions of entries. The one-connection case stores the ConnId in the slot: no allocation.
//
// Contract: add/remove report what happened (enums below); find returns an empty span for an
// unknown uid; spans are valid until the next add/remove.
// find() is inline (its hot path is in uid_table_lookup.h) so that a caller's loop of finds
// overlaps their cache misses; everything else is in uid_table.cpp.
// See docs/registry.md for the layout, load factor and the growth scheme.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry/conn_id.h"
#include "registry/uid_ref.h"
#include "registry/uid_table_lookup.h"

namespace wspush::registry {

// A read-only view of one uid's connections; valid until the next add/remove on the table.
struct ConnSpan {
    const ConnId* data = nullptr;
    uint32_t size = 0;
    const ConnId* begin() const { return data; }
    const ConnId* end() const { return data + size; }
    bool empty() const { return size == 0; }
};

class UidTable {
public:
    // Uids longer than max_uid_len are refused by add(). hash_override (tests only) replaces
    // XXH3 so that collisions can be forced. seed: XXH3's; 0 (the server's case) draws a random
    // one from getrandom. A test that logs its seed can replay a layout with it.
    explicit UidTable(size_t max_uid_len = 256, uint64_t (*hash_override)(const void*, size_t) = nullptr,
                      uint64_t seed = 0);
    ~UidTable();
    UidTable(const UidTable&) = delete;
    UidTable& operator=(const UidTable&) = delete;

    enum class AddResult : uint8_t { NewUid, AddedToUid, AlreadyPresent, TooLong };
    // Adds c to uid's set. On success *stored (if non-null) receives a view of the uid bytes as
    // the table keeps them: stable while c stays registered under that uid, so a connection
    // can keep it instead of its own copy.
    AddResult add(std::string_view uid, ConnId c, std::string_view* stored = nullptr);
    // The same, handing back a UidRef (registry/uid_ref.h) for c to keep instead: it reads the
    // uid back (uid()) and removes c without hashing the uid or reading it first.
    AddResult add(std::string_view uid, ConnId c, UidRef* ref);

    enum class RemoveResult : uint8_t { UidGone, RemovedFromUid, NotFound };
    // Removes c from uid's set; only c, never another connection of the same uid.
    RemoveResult remove(std::string_view uid, ConnId c);
    // The same for the uid that add() handed out `ref` for. The slot and the record are looked
    // up at once (their cache misses overlap). NotFound, changing nothing, when no slot holds
    // ref's record under ref's hash or the record does not hold c (a stale or forged ref), or
    // c is the uid's only connection and ref's length is not the uid's (the record is freed
    // under ref's length). With other connections left, c is removed whatever ref's length.
    RemoveResult remove(const UidRef& ref, ConnId c);

    // The uid bytes a UidRef stands for, as the table keeps them: valid while the connection
    // that add() handed it to stays registered under that uid.
    std::string_view uid(const UidRef& ref) const {
        return {reinterpret_cast<const char*>(uid_lookup::record(arrays_, ref.rec) + uid_lookup::kRecKey), ref.len};
    }

    // Inline (below), and forced: left to itself g++ keeps it out of line, which is what this
    // avoids. Uids of up to 64 bytes with one connection, found in the current array, never
    // leave the caller's code (hash, tag probe and compare); other cases finish out of line.
    [[gnu::always_inline]] ConnSpan find(std::string_view uid) const;
    // out[i] = find(uids[i]) for i < n. Hashes a block of uids and prefetches their tags and
    // home slots before probing any, so the cache misses of the block overlap (a push to a
    // list of uids): about 2x the rate of one find() at a time on tables larger than cache.
    void find_many(const std::string_view* uids, size_t n, ConnSpan* out) const;
    bool contains(std::string_view uid) const { return !find(uid).empty(); }

    size_t uid_count() const;   // O(1)
    size_t conn_count() const;  // O(1)
    size_t memory_bytes() const;  // everything the table has allocated, for bytes-per-entry

    // Resize state, for tests and stats: slots in the current array, and whether an older
    // array is still being migrated into it (lookups then probe both).
    size_t capacity() const;
    bool migrating() const;
    // Does up to `budget` slots of pending resize work (or unmaps one slice of an emptied old
    // array); true while some remains. add() and remove() already do as much; an idle event
    // loop can call this to finish a resize early.
    bool advance_resize(size_t budget = 256);

    // Calls f(std::string_view uid, ConnSpan conns) for every uid (order unspecified).
    // f must not modify the table. O(capacity).
    template <class F>
    void for_each(F&& f) const;

private:
    uid_lookup::UidArrays arrays_;  // before impl_: Impl keeps a reference to it
    struct Impl;
    Impl* impl_;
    // find()'s cold paths, out of line in uid_table.cpp.
    ConnSpan find_cold(std::string_view uid) const;          // uids over 64 bytes; hash_override
    ConnSpan find_in_old(uint64_t h, std::string_view uid) const;  // not in cur while migrating
    ConnSpan set_span(ConnId set) const;                    // a uid with several connections
    // for_each support without exposing Impl: iterate by cursor.
    bool next(size_t& cursor, std::string_view& uid, ConnSpan& conns) const;
};

inline ConnSpan UidTable::find(std::string_view uid) const {
    const uid_lookup::UidArrays& a = arrays_;
    if (uid.size() >= a.cold_from) [[unlikely]]  // a long uid, or a test's hash_override
        return find_cold(uid);
    // Here uid.size() < cold_from <= 65. Telling g++ so drops the longer-uid cases from the
    // hash and the compare: fewer instructions per find, so more finds (and their cache
    // misses) fit in the CPU's window at once; +10-20% finds/s at 100k and 1M entries.
    if (uid.size() > uid_lookup::kInlineUid) __builtin_unreachable();
    const uint64_t h = uid_lookup::hash(uid, a.seed);
    if (const uid_lookup::Slot* s = uid_lookup::locate(a, a.cur, h, uid)) [[likely]] {
        ConnId* c = uid_lookup::record_conn(uid_lookup::record(a, s->rec));
        return c->gen != 0 ? ConnSpan{c, 1} : set_span(*c);
    }
    return a.old.slots ? find_in_old(h, uid) : ConnSpan{};
}

template <class F>
void UidTable::for_each(F&& f) const {
    size_t cursor = 0;
    std::string_view uid;
    ConnSpan conns;
    while (next(cursor, uid, conns)) f(uid, conns);
}

}  // namespace wspush::registry
