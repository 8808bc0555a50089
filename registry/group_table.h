// GroupTable: group name -> member connections, and each connection -> its groups, so that
// a closing connection leaves all its groups in time proportional to its memberships
// (GatewayWorker's joinGroup / leaveGroup / sendToGroup / ungroup).
// Members of a group are a dense array (swap-remove), so a fan-out walks contiguous memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry/conn_id.h"
#include "registry/uid_table.h"  // ConnSpan

namespace wspush::registry {

class GroupTable {
public:
    explicit GroupTable(size_t max_group_len = 256);
    ~GroupTable();
    GroupTable(const GroupTable&) = delete;
    GroupTable& operator=(const GroupTable&) = delete;

    enum class JoinResult : uint8_t { Joined, AlreadyMember, TooLong };
    JoinResult join(std::string_view group, ConnId c);
    // False when c was not a member. An emptied group is deleted.
    bool leave(std::string_view group, ConnId c);
    // Removes every member; returns how many there were.
    size_t ungroup(std::string_view group);
    // Removes c from every group it is in, O(its memberships). Returns how many.
    size_t leave_all(ConnId c);

    ConnSpan members(std::string_view group) const;  // valid until the next modification
    size_t group_size(std::string_view group) const;  // O(1)
    size_t group_count() const;                      // O(1)
    size_t membership_count(ConnId c) const;          // how many groups c is in

private:
    struct Impl;
    Impl* impl_;
};

}  // namespace wspush::registry
