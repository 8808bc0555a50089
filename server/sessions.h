// Sessions: who is logged in on this node. Ties engine connections to uids (registry/) and
// keeps the dense list of logged-in connections that a broadcast walks.
//
// Per connection, beside the engine's Connection: one UidTable entry and one pointer in
// `online_`. The uid itself is not copied: the connection's user fields point at the
// UidTable's stored bytes (stable while the connection is registered under that uid).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/connection.h"
#include "registry/uid_groups.h"
#include "registry/uid_table.h"

namespace wspush::server {

class Sessions {
public:
    explicit Sessions(size_t max_uid_len) : uids_(max_uid_len) {}

    static bool logged_in(const engine::Connection& c) { return c.user_ptr != nullptr; }
    static std::string_view uid_of(const engine::Connection& c) {
        return {static_cast<const char*>(c.user_ptr), c.user_len};
    }
    // Registers c under uid. False when the uid is too long for the table.
    bool login(engine::Connection& c, std::string_view uid);
    // Forgets c: its uid entry (only c's, never another connection of the same uid) and its
    // place in the online list. O(1). Groups hold uids: the uid stays in its groups.
    void logout(engine::Connection& c);

    const std::vector<engine::Connection*>& online() const { return online_; }
    registry::UidTable& uids() { return uids_; }
    const registry::UidTable& uids() const { return uids_; }
    registry::UidGroups& groups() { return groups_; }
    const registry::UidGroups& groups() const { return groups_; }

private:
    registry::UidTable uids_;
    registry::UidGroups groups_;
    std::vector<engine::Connection*> online_;  // stable pointers (SlotMap chunks)
};

}  // namespace wspush::server
