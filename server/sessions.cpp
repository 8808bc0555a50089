#include "server/sessions.h"

#include <cassert>

namespace wspush::server {

bool Sessions::login(engine::Connection& c, std::string_view uid) {
    // A second login would put c in the online list twice and orphan its first entry.
    if (logged_in(c) || uid.size() > UINT16_MAX) return false;
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
    // Without hashing or reading the uid: see registry/uid_ref.h. NotFound would mean the table
    // and the connection disagree (a bug, never client input): the debug and sanitizer builds
    // stop there; a release build still takes c out of the online list.
    [[maybe_unused]] const auto r = uids_.remove(c.user, c.id);
    assert(r != registry::UidTable::RemoveResult::NotFound);
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
