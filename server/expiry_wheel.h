// ExpiryWheel: the connections whose token expires, keyed by the second it does, so that each
// is closed within a second of its token's "exp" without scanning every connection.
//
// A hashed timing wheel: kSlots buckets of one second, a connection in bucket exp % kSlots.
// Add and remove are O(1) (append; swap-remove, the owner of the moved entry told its new
// index through on_move). Each second the loop looks at one bucket: entries due now are
// expired, entries due in a later revolution (exp more than kSlots s away) are skipped, so a
// long-lived token is looked at once every kSlots seconds. 16 bytes per connection with a
// token (8 more in its session state), nothing per connection without one.
//
// Return contract: add() returns the entry's index in its bucket (the owner keeps it for
// remove()); expire() calls on_expire(id) once for each entry due by now_s, removed first.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "registry/conn_id.h"

namespace wspush::server {

class ExpiryWheel {
public:
    static constexpr uint32_t kSlots = 1024;  // seconds per revolution: 16 KiB of vector headers
    static constexpr uint32_t kNone = UINT32_MAX;

    // on_move(id, index): the entry of id now sits at index in its bucket.
    explicit ExpiryWheel(std::function<void(registry::ConnId, uint32_t)> on_move)
        : on_move_(std::move(on_move)), slots_(kSlots) {}

    uint32_t add(registry::ConnId id, uint32_t exp_s) {
        std::vector<Entry>& b = slots_[exp_s % kSlots];
        b.push_back(Entry{id, exp_s});
        ++size_;
        return static_cast<uint32_t>(b.size() - 1);
    }

    void remove(uint32_t exp_s, uint32_t index) {
        std::vector<Entry>& b = slots_[exp_s % kSlots];
        if (index >= b.size()) return;
        if (index + 1 != b.size()) {
            b[index] = b.back();
            on_move_(b[index].id, index);
        }
        b.pop_back();
        --size_;
    }

    // Expires everything due by now_s (Unix seconds): the buckets of every second since the
    // last call, each at most once (a clock jump ahead). A clock set back starts over from now.
    template <class F>
    void expire(uint32_t now_s, F&& on_expire) {
        if (last_s_ == 0 || now_s < last_s_) last_s_ = now_s - 1;
        if (now_s == last_s_) return;
        uint32_t from = now_s - last_s_ > kSlots ? now_s - kSlots + 1 : last_s_ + 1;
        last_s_ = now_s;
        if (size_ == 0) return;
        for (uint32_t s = from; s != now_s + 1; ++s) {
            std::vector<Entry>& b = slots_[s % kSlots];
            for (uint32_t i = 0; i < b.size();) {
                if (b[i].exp_s > now_s) {  // a later revolution
                    ++i;
                    continue;
                }
                registry::ConnId id = b[i].id;
                remove(b[i].exp_s, i);  // the last entry moves to i: look at i again
                on_expire(id);
            }
        }
    }

    size_t size() const { return size_; }

private:
    struct Entry {
        registry::ConnId id;
        uint32_t exp_s;
    };
    std::function<void(registry::ConnId, uint32_t)> on_move_;
    std::vector<std::vector<Entry>> slots_;
    size_t size_ = 0;
    uint32_t last_s_ = 0;
};

}  // namespace wspush::server
