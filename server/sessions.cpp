#include "server/sessions.h"

namespace wspush::server {

bool Sessions::login(engine::Connection& c, std::string_view uid) {
    std::string_view stored;
    auto r = uids_.add(uid, c.id, &stored);
    if (r == registry::UidTable::AddResult::TooLong) return false;
    Session& s = of(c);
    s.uid = stored;
    s.online_index = static_cast<uint32_t>(online_.size());
    online_.push_back(&c);
    return true;
}

void Sessions::logout(engine::Connection& c) {
    if (!logged_in(c)) return;
    Session& s = by_slot_[c.id.slot];
    uids_.remove(s.uid, c.id);
    groups_.leave_all(c.id);
    // Swap-remove from the dense online list.
    engine::Connection* last = online_.back();
    online_[s.online_index] = last;
    by_slot_[last->id.slot].online_index = s.online_index;
    online_.pop_back();
    s = Session{};
}

}  // namespace wspush::server
