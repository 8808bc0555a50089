// Sessions: who is logged in on this node. Ties engine connections to uids (registry/) and
// keeps the dense list of logged-in connections that a broadcast walks.
//
// Per connection, beside the engine's Connection: one UidTable entry, one pointer in
// `online_` and one ClientState. The uid itself is not copied: the connection keeps a UidRef
// to the UidTable's entry, which reads the uid back and logs out without hashing it.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "auth/token_verifier.h"
#include "engine/connection.h"
#include "registry/uid_groups.h"
#include "registry/uid_table.h"

namespace wspush::server {

// What the service keeps per logged-in connection beside its uid: 24 bytes in a vector
// parallel to the online list (same index, swap-removed together), so only logged-in
// connections pay and the engine's Connection keeps its 120 bytes. Kept only when a setting
// needs it (--auth jwt, --client-send other than all, --client-rate): the seed's defaults pay
// nothing.
struct ClientState {
    uint64_t rate_tat_us = 0;          // --client-rate: the GCRA "theoretical arrival time" (service us)
    uint32_t exp_s = 0;                // the token's exp (Unix s); 0: no token, never expires
    uint32_t wheel_index = UINT32_MAX; // its entry in the ExpiryWheel bucket of exp_s
    auth::SendScope send = auth::SendScope::All;  // what it may send (--client-send, narrowed by its token)
};

class Sessions {
public:
    explicit Sessions(size_t max_uid_len) : uids_(max_uid_len) {}

    static bool logged_in(const engine::Connection& c) { return !c.user.empty(); }
    // The uid bytes as the UidTable keeps them: valid while c stays logged in.
    std::string_view uid_of(const engine::Connection& c) const { return uids_.uid(c.user); }
    // Registers c under uid. False when the uid is too long for the table, or when c is logged
    // in already (log it out first), changing nothing.
    bool login(engine::Connection& c, std::string_view uid);
    // Forgets c: its uid entry (only c's, never another connection of the same uid) and its
    // place in the online list. O(1). Groups hold uids: the uid stays in its groups.
    void logout(engine::Connection& c);

    const std::vector<engine::Connection*>& online() const { return online_; }
    // Keep a ClientState per logged-in connection (set before the first login).
    void keep_state(bool on) { keep_state_ = on; }
    bool keeps_state() const { return keep_state_; }
    // The state of a logged-in connection (only when keeps_state()).
    ClientState& state(const engine::Connection& c) { return state_[c.user_index]; }
    registry::UidTable& uids() { return uids_; }
    const registry::UidTable& uids() const { return uids_; }
    registry::UidGroups& groups() { return groups_; }
    const registry::UidGroups& groups() const { return groups_; }

private:
    registry::UidTable uids_;
    registry::UidGroups groups_;
    std::vector<engine::Connection*> online_;  // stable pointers (SlotMap chunks)
    std::vector<ClientState> state_;           // parallel to online_ when keep_state_
    bool keep_state_ = false;
};

}  // namespace wspush::server
