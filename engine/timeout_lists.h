// TimeoutLists: O(1) timers for connections, one FIFO list per kind of timeout.
//
// Every timeout of a kind has the same length (handshake, login, ping, ...), so appending a
// connection to its list keeps the list sorted by deadline: the head is always the next to
// expire. Start, stop and restart are an unlink and a link by slot index; the expiry check
// looks at list heads only. This is the "timer wheel or equivalent" of the design: no heap,
// no per-timer allocation, 8 bytes of links inside the Connection.
#pragma once
#include <array>
#include <cstdint>

#include "engine/connection.h"
#include "registry/slot_map.h"

namespace wspush::engine {

using ConnSlots = registry::SlotMap<Connection, 1024>;

class TimeoutLists {
public:
    explicit TimeoutLists(ConnSlots& slots) : slots_(slots) {}

    // Moves c to the tail of `list` with timer_since = now (TimerList::None: off all lists).
    void put(Connection& c, TimerList list, uint32_t now) {
        unlink(c);
        c.timer_since = now;
        if (list == TimerList::None) return;
        Ends& e = ends_[idx(list)];
        c.timer = list;
        c.timer_prev = e.tail;
        c.timer_next = UINT32_MAX;
        if (e.tail != UINT32_MAX) slots_.at_slot(e.tail).timer_next = c.id.slot;
        else e.head = c.id.slot;
        e.tail = c.id.slot;
        ++e.size;
    }

    void unlink(Connection& c) {
        if (c.timer == TimerList::None) return;
        Ends& e = ends_[idx(c.timer)];
        if (c.timer_prev != UINT32_MAX) slots_.at_slot(c.timer_prev).timer_next = c.timer_next;
        else e.head = c.timer_next;
        if (c.timer_next != UINT32_MAX) slots_.at_slot(c.timer_next).timer_prev = c.timer_prev;
        else e.tail = c.timer_prev;
        c.timer_prev = c.timer_next = UINT32_MAX;
        c.timer = TimerList::None;
        --e.size;
    }

    // The oldest connection on a list, or null.
    Connection* head(TimerList list) {
        uint32_t h = ends_[idx(list)].head;
        return h == UINT32_MAX ? nullptr : &slots_.at_slot(h);
    }
    uint32_t size(TimerList list) const { return ends_[idx(list)].size; }

private:
    struct Ends {
        uint32_t head = UINT32_MAX;
        uint32_t tail = UINT32_MAX;
        uint32_t size = 0;
    };
    static size_t idx(TimerList l) { return static_cast<size_t>(l); }

    ConnSlots& slots_;
    std::array<Ends, static_cast<size_t>(TimerList::kCount)> ends_{};
};

}  // namespace wspush::engine
