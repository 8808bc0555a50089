#include "engine/timeout_lists.h"

#include <gtest/gtest.h>

#include <vector>

using namespace wspush::engine;

namespace {

struct Fixture {
    ConnSlots slots;
    TimeoutLists timers{slots};
    std::vector<Connection*> make(int n) {
        std::vector<Connection*> out;
        for (int i = 0; i < n; ++i) {
            auto [id, c] = slots.emplace();
            c->id = id;
            out.push_back(c);
        }
        return out;
    }
    std::vector<uint32_t> order(TimerList list) {
        std::vector<uint32_t> out;
        for (Connection* c = timers.head(list); c;
             c = c->timer_next == UINT32_MAX ? nullptr : &slots.at_slot(c->timer_next))
            out.push_back(c->id.slot);
        return out;
    }
};

}  // namespace

TEST(TimeoutLists, HeadIsTheOldestEntry) {
    Fixture f;
    auto c = f.make(3);
    f.timers.put(*c[0], TimerList::Login, 10);
    f.timers.put(*c[1], TimerList::Login, 20);
    f.timers.put(*c[2], TimerList::Login, 30);
    EXPECT_EQ(f.timers.head(TimerList::Login), c[0]);
    EXPECT_EQ(f.order(TimerList::Login), (std::vector<uint32_t>{0, 1, 2}));
    EXPECT_EQ(f.timers.size(TimerList::Login), 3u);
}

TEST(TimeoutLists, PutAgainMovesToTheTail) {
    Fixture f;
    auto c = f.make(3);
    for (auto* x : c) f.timers.put(*x, TimerList::Active, 1);
    f.timers.put(*c[0], TimerList::Active, 5);
    EXPECT_EQ(f.order(TimerList::Active), (std::vector<uint32_t>{1, 2, 0}));
    EXPECT_EQ(c[0]->timer_since, 5u);
}

TEST(TimeoutLists, UnlinkFromTheMiddleKeepsTheRestLinked) {
    Fixture f;
    auto c = f.make(4);
    for (auto* x : c) f.timers.put(*x, TimerList::Request, 1);
    f.timers.unlink(*c[1]);
    f.timers.unlink(*c[3]);
    EXPECT_EQ(f.order(TimerList::Request), (std::vector<uint32_t>{0, 2}));
    EXPECT_EQ(c[1]->timer, TimerList::None);
    f.timers.unlink(*c[1]);  // unlinking twice is harmless
    EXPECT_EQ(f.timers.size(TimerList::Request), 2u);
}

TEST(TimeoutLists, MovingBetweenListsLeavesTheOldOne) {
    Fixture f;
    auto c = f.make(2);
    f.timers.put(*c[0], TimerList::Login, 1);
    f.timers.put(*c[1], TimerList::Login, 2);
    f.timers.put(*c[0], TimerList::Active, 3);
    EXPECT_EQ(f.order(TimerList::Login), (std::vector<uint32_t>{1}));
    EXPECT_EQ(f.order(TimerList::Active), (std::vector<uint32_t>{0}));
    f.timers.put(*c[1], TimerList::None, 4);
    EXPECT_EQ(f.timers.head(TimerList::Login), nullptr);
}
