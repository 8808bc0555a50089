#include "server/sessions.h"

namespace wspush::server {

bool Sessions::login(engine::Connection& c, std::string_view uid) {
    if (uid.size() > UINT16_MAX) return false;
    registry::UidRef ref;
    auto r = uids_.add(uid, c.id, &ref);
    if (r == registry::UidTable::AddResult::TooLong) return false;
    c.user = ref;  // never empty once added: the logged-in mark
    c.user_index = static_cast<uint32_t>(online_.size());
    online_.push_back(&c);
    if (keep_state_) state_.emplace_back();
    return true;
}

void Sessions::logout(engine::Connection& c) {
    if (!logged_in(c)) return;
    uids_.remove(c.user, c.id);  // without hashing or reading the uid: see registry/uid_ref.h
    // Swap-remove from the dense online list.
    engine::Connection* last = online_.back();
    online_[c.user_index] = last;
    last->user_index = c.user_index;
    online_.pop_back();
    if (keep_state_) {
        state_[c.user_index] = state_.back();
        state_.pop_back();
    }
    c.user = registry::UidRef{};
    c.user_index = UINT32_MAX;
}

}  // namespace wspush::server
