#include "server/sessions.h"

namespace wspush::server {

bool Sessions::login(engine::Connection& c, std::string_view uid) {
    if (uid.size() > UINT16_MAX) return false;
    std::string_view stored;
    auto r = uids_.add(uid, c.id, &stored);
    if (r == registry::UidTable::AddResult::TooLong) return false;
    // An empty uid is refused before this; a non-null pointer is the logged-in mark.
    c.user_ptr = stored.data();
    c.user_len = static_cast<uint16_t>(stored.size());
    c.user_index = static_cast<uint32_t>(online_.size());
    online_.push_back(&c);
    if (keep_state_) state_.emplace_back();
    return true;
}

void Sessions::logout(engine::Connection& c) {
    if (!logged_in(c)) return;
    uids_.remove(uid_of(c), c.id);
    groups_.leave_all(c.id);
    // Swap-remove from the dense online list.
    engine::Connection* last = online_.back();
    online_[c.user_index] = last;
    last->user_index = c.user_index;
    online_.pop_back();
    if (keep_state_) {
        state_[c.user_index] = state_.back();
        state_.pop_back();
    }
    c.user_ptr = nullptr;
    c.user_len = 0;
    c.user_index = UINT32_MAX;
}

}  // namespace wspush::server
