// UidGroups: group name -> member uids. Groups hold uids, not connections: a uid's
// connections on any node, open now or opened later (a reconnect), are in the group while the
// uid is a member (GatewayWorker's joinGroup kept connections, so a reconnect silently left).
// A member needs no connection; pushing to a group reaches the members that are online.
//
// Contract: join/leave say whether anything changed; members() is valid until the next
// change. O(1) expected per join/leave/contains; ungroup O(members); memory ~64 B per
// membership plus the names.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "registry/seeded_hash.h"

namespace wspush::registry {

class UidGroups {
public:
    using Hash = SeededStringHash;  // group names and uids are chosen by clients
    using Members = std::unordered_set<std::string, Hash, std::equal_to<>>;

    bool join(std::string_view group, std::string_view uid);   // false: already a member
    bool leave(std::string_view group, std::string_view uid);  // false: was not; an emptied group goes
    size_t ungroup(std::string_view group);                    // members removed
    const Members* members(std::string_view group) const;      // null: no such group
    bool contains(std::string_view group, std::string_view uid) const;
    size_t size(std::string_view group) const;
    size_t group_count() const { return groups_.size(); }
    size_t membership_count() const { return memberships_; }

    template <class F>
    void for_each(F&& f) const {  // f(group, uid) for every membership
        for (const auto& [g, m] : groups_)
            for (const std::string& uid : m) f(std::string_view(g), std::string_view(uid));
    }

private:
    std::unordered_map<std::string, Members, Hash, std::equal_to<>> groups_;
    size_t memberships_ = 0;
};

}  // namespace wspush::registry
