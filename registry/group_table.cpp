// GroupTable: each membership is recorded twice, with each record holding the other's index,
// so removing one from either side is two swap-removes and two index fix-ups, O(1):
//
//   Group g:      members[i] = conn            back[i] = j   (index in conn's list)
//   conn's list:  list[j]    = {group g, pos i}
//
// Per-connection lists are indexed by ConnId.slot in fixed chunks (no reallocation stall when
// the slot space grows). The generation in each entry says which connection owns the list;
// a list left behind by a connection that closed without leave_all() is dropped when the
// slot's next connection first joins a group.
#include "registry/group_table.h"

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/free_index.h"
#include "registry/seeded_hash.h"

namespace wspush::registry {
namespace {

struct Membership {
    uint32_t group;
    uint32_t pos;  // index in the group's member array
};

struct ConnGroups {   // 32 bytes per connection slot that ever joined a group
    uint32_t gen = 0;  // owner; 0 = never used
    std::vector<Membership> list;
};

struct Group {
    std::vector<ConnId> members;  // contiguous for fan-out
    std::vector<uint32_t> back;   // back[i]: index of this membership in members[i]'s list
    const std::string* name = nullptr;  // the key in by_name (node-stable)
};

using NameHash = SeededStringHash;  // names are chosen by clients (registry/seeded_hash.h)

constexpr uint32_t kConnChunk = 4096;

// Serial-number order on generations (they wrap at 2^32).
bool newer(uint32_t a, uint32_t b) { return int32_t(a - b) > 0; }

}  // namespace

struct GroupTable::Impl {
    size_t max_len;
    std::unordered_map<std::string, uint32_t, NameHash, std::equal_to<>> by_name;
    std::deque<Group> groups;  // by id; deque: growth never moves a member array
    std::vector<uint32_t> free_groups;
    std::vector<std::unique_ptr<ConnGroups[]>> conn_chunks;

    // The entry for c's slot, or null if the slot was never used.
    ConnGroups* entry(uint32_t slot) const {
        const size_t chunk = slot / kConnChunk;
        return chunk < conn_chunks.size() ? &conn_chunks[chunk][slot % kConnChunk] : nullptr;
    }
    // c's list if c owns its slot's entry, else null.
    ConnGroups* owned(ConnId c) const {
        ConnGroups* e = entry(c.slot);
        return e && e->gen == c.gen ? e : nullptr;
    }

    const Group* group(std::string_view name) const {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : &groups[it->second];
    }

    uint32_t create_group(std::string_view name) {
        const uint32_t id = take_index(free_groups, groups);
        auto it = by_name.emplace(std::string(name), id).first;
        groups[id].name = &it->first;
        return id;
    }

    void delete_group(uint32_t id) {
        Group& g = groups[id];
        by_name.erase(by_name.find(*g.name));  // by iterator: erase(key) would read a freed key
        g.name = nullptr;
        g.members.clear();  // keeps capacity for the next group that takes this id
        g.back.clear();
        free_groups.push_back(id);
    }

    // Swap-removes list[j] from a connection's list, fixing the moved membership's back index.
    void drop_from_list(ConnGroups& cg, uint32_t j) {
        const uint32_t last = uint32_t(cg.list.size() - 1);
        if (j != last) {
            cg.list[j] = cg.list[last];
            const Membership& moved = cg.list[j];
            groups[moved.group].back[moved.pos] = j;
        }
        cg.list.pop_back();
    }

    // Swap-removes members[i] from group g, fixing the moved member's list entry.
    void drop_from_group(Group& g, uint32_t i) {
        const uint32_t last = uint32_t(g.members.size() - 1);
        if (i != last) {
            g.members[i] = g.members[last];
            g.back[i] = g.back[last];
            entry(g.members[i].slot)->list[g.back[i]].pos = i;
        }
        g.members.pop_back();
        g.back.pop_back();
    }

    // Removes membership j of cg entirely; deletes the group if it empties.
    void remove_membership(ConnGroups& cg, uint32_t j) {
        const Membership m = cg.list[j];
        Group& g = groups[m.group];
        drop_from_group(g, m.pos);
        drop_from_list(cg, j);
        if (g.members.empty()) delete_group(m.group);
    }

    size_t clear_list(ConnGroups& cg) {
        const size_t n = cg.list.size();
        while (!cg.list.empty()) remove_membership(cg, uint32_t(cg.list.size() - 1));
        return n;
    }

    // The entry c may write to, taking the slot over from an older generation (dropping the
    // memberships a closed connection left behind). Null when c is older than the owner.
    ConnGroups* claim(ConnId c) {
        const size_t chunk = c.slot / kConnChunk;
        while (conn_chunks.size() <= chunk) conn_chunks.emplace_back(new ConnGroups[kConnChunk]);
        ConnGroups& e = conn_chunks[chunk][c.slot % kConnChunk];
        if (e.gen == c.gen) return &e;
        if (e.gen != 0 && !e.list.empty() && !newer(c.gen, e.gen)) return nullptr;
        clear_list(e);
        e.gen = c.gen;
        return &e;
    }
};

GroupTable::GroupTable(size_t max_group_len) : impl_(new Impl{max_group_len, {}, {}, {}, {}}) {}
GroupTable::~GroupTable() { delete impl_; }

GroupTable::JoinResult GroupTable::join(std::string_view group, ConnId c) {
    Impl& m = *impl_;
    if (group.size() > m.max_len) return JoinResult::TooLong;
    ConnGroups* cg = m.claim(c);
    if (!cg) return JoinResult::AlreadyMember;  // stale handle: changes nothing
    uint32_t id;
    auto it = m.by_name.find(group);
    if (it != m.by_name.end()) {
        id = it->second;
        // O(c's memberships): a connection is in a few groups, and this keeps no extra index.
        for (const Membership& x : cg->list)
            if (x.group == id) return JoinResult::AlreadyMember;
    } else {
        id = m.create_group(group);
    }
    Group& g = m.groups[id];
    g.members.push_back(c);
    g.back.push_back(uint32_t(cg->list.size()));
    cg->list.push_back(Membership{id, uint32_t(g.members.size() - 1)});
    return JoinResult::Joined;
}

bool GroupTable::leave(std::string_view group, ConnId c) {
    Impl& m = *impl_;
    ConnGroups* cg = m.owned(c);
    if (!cg) return false;
    auto it = m.by_name.find(group);
    if (it == m.by_name.end()) return false;
    for (uint32_t j = 0; j < cg->list.size(); ++j) {
        if (cg->list[j].group != it->second) continue;
        m.remove_membership(*cg, j);
        return true;
    }
    return false;
}

size_t GroupTable::ungroup(std::string_view group) {
    Impl& m = *impl_;
    auto it = m.by_name.find(group);
    if (it == m.by_name.end()) return 0;
    const uint32_t id = it->second;
    Group& g = m.groups[id];
    const size_t n = g.members.size();
    // Each member's list loses one entry; the moved entry belongs to another group, so g's
    // own back[] stays valid while we walk it.
    for (size_t i = 0; i < n; ++i) m.drop_from_list(*m.entry(g.members[i].slot), g.back[i]);
    m.delete_group(id);
    return n;
}

size_t GroupTable::leave_all(ConnId c) {
    ConnGroups* cg = impl_->owned(c);
    return cg ? impl_->clear_list(*cg) : 0;
}

ConnSpan GroupTable::members(std::string_view group) const {
    const Group* g = impl_->group(group);
    return g ? ConnSpan{g->members.data(), uint32_t(g->members.size())} : ConnSpan{};
}

size_t GroupTable::group_size(std::string_view group) const {
    const Group* g = impl_->group(group);
    return g ? g->members.size() : 0;
}

size_t GroupTable::group_count() const { return impl_->by_name.size(); }

size_t GroupTable::membership_count(ConnId c) const {
    const ConnGroups* cg = impl_->owned(c);
    return cg ? cg->list.size() : 0;
}

}  // namespace wspush::registry
