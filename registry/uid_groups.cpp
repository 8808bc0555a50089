#include "registry/uid_groups.h"

namespace wspush::registry {

bool UidGroups::join(std::string_view group, std::string_view uid) {
    auto it = groups_.find(group);
    if (it == groups_.end()) it = groups_.emplace(std::string(group), Members{}).first;
    if (it->second.find(uid) != it->second.end()) return false;
    it->second.emplace(uid);
    ++memberships_;
    return true;
}

bool UidGroups::leave(std::string_view group, std::string_view uid) {
    auto it = groups_.find(group);
    if (it == groups_.end()) return false;
    auto m = it->second.find(uid);
    if (m == it->second.end()) return false;
    it->second.erase(m);
    --memberships_;
    if (it->second.empty()) groups_.erase(it);
    return true;
}

size_t UidGroups::ungroup(std::string_view group) {
    auto it = groups_.find(group);
    if (it == groups_.end()) return 0;
    size_t n = it->second.size();
    memberships_ -= n;
    groups_.erase(it);
    return n;
}

const UidGroups::Members* UidGroups::members(std::string_view group) const {
    auto it = groups_.find(group);
    return it == groups_.end() ? nullptr : &it->second;
}

bool UidGroups::contains(std::string_view group, std::string_view uid) const {
    const Members* m = members(group);
    return m && m->find(uid) != m->end();
}

size_t UidGroups::size(std::string_view group) const {
    const Members* m = members(group);
    return m ? m->size() : 0;
}

}  // namespace wspush::registry
