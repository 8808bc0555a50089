#include "server/expiry_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

using wspush::registry::ConnId;
using wspush::server::ExpiryWheel;

namespace {

// Keeps each connection's index as the wheel reports it, as the service's ClientState does.
struct Owner {
    std::map<uint32_t, uint32_t> index;  // slot -> index in its bucket
    std::map<uint32_t, uint32_t> exp;
    ExpiryWheel wheel{[this](ConnId id, uint32_t i) { index[id.slot] = i; }};

    void add(uint32_t slot, uint32_t exp_s) {
        exp[slot] = exp_s;
        index[slot] = wheel.add(ConnId{slot, 1}, exp_s);
    }
    void remove(uint32_t slot) {
        wheel.remove(exp[slot], index[slot]);
        index.erase(slot);
    }
    std::vector<uint32_t> expire(uint32_t now) {
        std::vector<uint32_t> out;
        wheel.expire(now, [&](ConnId id) {
            out.push_back(id.slot);
            index.erase(id.slot);
        });
        return out;
    }
};

constexpr uint32_t kT = 1'800'000'000;

}  // namespace

TEST(ExpiryWheel, ExpiresAnEntryInTheSecondOfItsExpAndNotBefore) {
    Owner o;
    o.expire(kT);
    o.add(1, kT + 2);
    EXPECT_TRUE(o.expire(kT + 1).empty());
    EXPECT_EQ(o.expire(kT + 2), std::vector<uint32_t>{1});
    EXPECT_EQ(o.wheel.size(), 0u);
}

TEST(ExpiryWheel, RemovedEntriesNeverExpireAndMovedOnesKeepTheirIndex) {
    Owner o;
    o.expire(kT);
    for (uint32_t s = 1; s <= 5; ++s) o.add(s, kT + 3);  // one bucket
    o.remove(2);  // 5 moves into 2's place
    o.remove(5);  // via its updated index
    EXPECT_EQ(o.wheel.size(), 3u);
    auto got = o.expire(kT + 3);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<uint32_t>{1, 3, 4}));
}

TEST(ExpiryWheel, SkipsEntriesOfALaterRevolution) {
    Owner o;
    o.expire(kT);
    o.add(1, kT + 5);
    o.add(2, kT + 5 + ExpiryWheel::kSlots);  // same bucket, one revolution on
    EXPECT_EQ(o.expire(kT + 5), std::vector<uint32_t>{1});
    EXPECT_TRUE(o.expire(kT + 4 + ExpiryWheel::kSlots).empty());
    EXPECT_EQ(o.expire(kT + 5 + ExpiryWheel::kSlots), std::vector<uint32_t>{2});
}

TEST(ExpiryWheel, CatchesUpEverySecondMissedAndAClockJumpBeyondARevolution) {
    Owner o;
    o.expire(kT);
    o.add(1, kT + 2);
    o.add(2, kT + 7);
    o.add(3, kT + 4000);
    auto got = o.expire(kT + 10);  // a stalled loop: seconds 1..10 all looked at
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<uint32_t>{1, 2}));
    EXPECT_EQ(o.expire(kT + 10 + 5 * ExpiryWheel::kSlots), std::vector<uint32_t>{3});
}

TEST(ExpiryWheel, AClockSetBackStillExpiresLaterEntries) {
    Owner o;
    o.expire(kT + 100);
    o.add(1, kT + 103);
    o.expire(kT + 50);  // wall clock stepped back
    EXPECT_TRUE(o.expire(kT + 102).empty());
    EXPECT_EQ(o.expire(kT + 103), std::vector<uint32_t>{1});
}

TEST(ExpiryWheel, ManyEntriesExpireExactlyOnceEach) {
    Owner o;
    o.expire(kT);
    for (uint32_t s = 0; s < 5000; ++s) o.add(s, kT + 1 + s % 37);
    for (uint32_t s = 0; s < 5000; s += 3) o.remove(s);
    size_t expired = 0;
    for (uint32_t t = kT + 1; t <= kT + 40; ++t) expired += o.expire(t).size();
    EXPECT_EQ(expired, 5000u - 1667u);
    EXPECT_EQ(o.wheel.size(), 0u);
}
