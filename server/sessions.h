// Sessions: who is logged in on this node. Ties engine connections to uids (registry/) and
// keeps the dense list of logged-in connections that a broadcast walks.
//
// Per connection, beside the engine's Connection: one Session (24 bytes) in a vector indexed
// by slot, one UidTable entry, one pointer in `online_`.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/connection.h"
#include "registry/group_table.h"
#include "registry/uid_table.h"

namespace wspush::server {

struct Session {
    std::string_view uid;                // the UidTable's stored copy; empty = not logged in
    uint32_t online_index = UINT32_MAX;  // position in Sessions::online()
};
static_assert(sizeof(Session) <= 24);

class Sessions {
public:
    explicit Sessions(size_t max_uid_len) : uids_(max_uid_len), groups_(max_uid_len) {}

    Session& of(const engine::Connection& c) {
        if (c.id.slot >= by_slot_.size()) by_slot_.resize(c.id.slot + 1024);
        return by_slot_[c.id.slot];
    }
    bool logged_in(const engine::Connection& c) const {
        return c.id.slot < by_slot_.size() && !by_slot_[c.id.slot].uid.empty();
    }
    // Registers c under uid. False when the uid is too long for the table.
    bool login(engine::Connection& c, std::string_view uid);
    // Forgets c: its uid entry (only c's, never another connection of the same uid), its
    // groups and its place in the online list. O(1) plus its group memberships.
    void logout(engine::Connection& c);

    const std::vector<engine::Connection*>& online() const { return online_; }
    registry::UidTable& uids() { return uids_; }
    registry::GroupTable& groups() { return groups_; }

private:
    registry::UidTable uids_;
    registry::GroupTable groups_;
    std::vector<Session> by_slot_;
    std::vector<engine::Connection*> online_;  // stable pointers (SlotMap chunks)
};

}  // namespace wspush::server
