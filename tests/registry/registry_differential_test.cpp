// Randomized differential test: UidTable and GroupTable against std::unordered_multimap and
// std::set models, over millions of mixed operations (login, logout, close, join, leave,
// ungroup, leave_all, lookup). Uids include the empty string, every 1-byte string and
// maximal-length ones; phases alternate login-heavy and logout-heavy so the table grows and
// shrinks (and is checked mid-migration); one configuration forces hash collisions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/group_table.h"
#include "registry/seeded_hash.h"
#include "registry/uid_table.h"

namespace wspush::registry {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kScale = 2;  // ASan runs ~5x slower; keep the binary well under a minute
#else
constexpr size_t kScale = 1;
#endif

constexpr size_t kMaxUid = 48;
constexpr size_t kMaxGroup = 24;

uint64_t four_values_hash(const void* p, size_t n) {
    const unsigned char first = n ? *static_cast<const unsigned char*>(p) : 0;
    return 0x9e3779b97f4a7c15ull * ((first + n) % 4);
}
uint64_t constant_hash(const void*, size_t) { return 42; }

std::vector<std::string> make_uids(size_t n, std::mt19937_64& rng) {
    std::vector<std::string> out;
    out.push_back("");
    for (int c = 0; c < 256 && out.size() < n; ++c) out.push_back(std::string(1, char(c)));
    while (out.size() < n) {
        const size_t i = out.size();
        size_t len = i % 7 == 0 ? kMaxUid : 2 + rng() % (kMaxUid - 2);
        std::string s = std::to_string(i) + ":";
        while (s.size() < len) s.push_back(char('a' + rng() % 26));
        s.resize(len);
        out.push_back(s);
    }
    return out;
}

std::vector<std::string> make_groups(size_t n) {
    std::vector<std::string> out{"", std::string(kMaxGroup, 'g')};
    for (size_t i = 0; out.size() < n; ++i) out.push_back("g" + std::to_string(i));
    return out;
}

struct Model {
    struct Registered {
        ConnId conn;
        std::string_view stored;
        UidRef ref;  // from the UidRef overload of add(); empty when the other one was used
    };
    std::unordered_multimap<std::string, Registered> uids;
    std::unordered_map<uint64_t, std::set<std::string>> conn_uids;
    std::map<std::string, std::set<uint64_t>> groups;
    std::unordered_map<uint64_t, std::set<std::string>> conn_groups;
    size_t uid_count = 0;

    auto find_pair(const std::string& u, ConnId c) {
        auto [b, e] = uids.equal_range(u);
        for (auto it = b; it != e; ++it)
            if (it->second.conn == c) return it;
        return uids.end();
    }
};

struct Config {
    uint64_t (*hash)(const void*, size_t);
    size_t uid_pool, conn_slots, group_pool, ops, phase_len;
};

// The table's XXH3 seed: random per run, so runs cover many layouts, and printed with any
// failure; WSPUSH_TEST_SEED=<that number> replays the layout.
uint64_t test_seed() {
    if (const char* s = std::getenv("WSPUSH_TEST_SEED")) return std::strtoull(s, nullptr, 0);
    return random_seed();
}

class Differential {
public:
    explicit Differential(const Config& cfg, uint64_t seed = test_seed())
        : cfg_(cfg), seed_(seed), rng_(12345), table_(kMaxUid, cfg.hash, seed), groups_(kMaxGroup),
          uids_(make_uids(cfg.uid_pool, rng_)), names_(make_groups(cfg.group_pool)), gens_(cfg.conn_slots, 1) {}

    void run() {
        SCOPED_TRACE("UidTable seed " + std::to_string(seed_) + " (replay: WSPUSH_TEST_SEED=" +
                     std::to_string(seed_) + ")");
        for (size_t op = 0; op < cfg_.ops; ++op) {
            login_bias_ = (op / cfg_.phase_len) % 2 == 0 ? 70 : 5;
            step();
            if (::testing::Test::HasFatalFailure()) return;
            if (op % (cfg_.ops / 8) == 0 || (table_.migrating() && op % 9973 == 0)) full_check();
            if (::testing::Test::HasFatalFailure()) return;
        }
        full_check();
        EXPECT_TRUE(saw_migration_);
        EXPECT_TRUE(saw_shrink_);
        EXPECT_GT(max_uids_, cfg_.uid_pool / 4);  // the table really grew
    }

private:
    ConnId live(uint32_t slot) const { return ConnId{slot, gens_[slot]}; }
    ConnId any_conn() { return live(uint32_t(rng_() % cfg_.conn_slots)); }
    const std::string& any_uid() { return uids_[rng_() % uids_.size()]; }
    const std::string& any_group() { return names_[rng_() % names_.size()]; }

    void step() {
        const unsigned r = unsigned(rng_() % 100);
        if (r < login_bias_) return login(any_uid(), any_conn());
        if (r < 80) return logout();
        if (r < 83) return close(uint32_t(rng_() % cfg_.conn_slots));
        if (r < 90) return join(any_group(), any_conn());
        if (r < 94) return leave(any_group(), any_conn());
        if (r < 95) return ungroup(any_group());
        return lookup(any_uid());
    }

    void login(const std::string& u, ConnId c) {
        if (rng_() % 1000 == 0) {
            ASSERT_EQ(table_.add(std::string(kMaxUid + 1, 'x'), c), UidTable::AddResult::TooLong);
            return;
        }
        // Either overload of add(): the view, or a UidRef (whose uid() must be the same view).
        std::string_view stored;
        UidRef ref;
        const bool with_ref = rng_() % 2 == 0;
        const auto r = with_ref ? table_.add(u, c, &ref) : table_.add(u, c, &stored);
        if (with_ref) {
            ASSERT_FALSE(ref.empty());
            ASSERT_EQ(ref.len, u.size());
            stored = table_.uid(ref);
        }
        if (m_.find_pair(u, c) != m_.uids.end()) {
            ASSERT_EQ(r, UidTable::AddResult::AlreadyPresent);
        } else {
            ASSERT_EQ(r, m_.uids.count(u) ? UidTable::AddResult::AddedToUid : UidTable::AddResult::NewUid);
            if (r == UidTable::AddResult::NewUid) ++m_.uid_count;
            m_.uids.emplace(u, Model::Registered{c, stored, ref});
            m_.conn_uids[c.pack()].insert(u);
        }
        ASSERT_EQ(stored, u);
        note_resize();
    }

    // Mostly a registered pair (exercises the removal paths), else a random pair.
    void logout() {
        std::string u = any_uid();
        ConnId c = any_conn();
        const bool want_registered = rng_() % 4 != 0;
        UidRef ref;
        for (int tries = 0; want_registered && tries < 64; ++tries) {
            auto it = m_.uids.find(u);
            if (it != m_.uids.end()) {
                c = it->second.conn;
                ref = it->second.ref;
                break;
            }
            u = any_uid();
        }
        // A registered pair's UidRef removes it as its bytes do (the record never moves while
        // the pair is registered); half of such logouts go through it.
        const auto r = !ref.empty() && rng_() % 2 == 0 ? table_.remove(ref, c) : table_.remove(u, c);
        note_resize();
        auto it = m_.find_pair(u, c);
        if (it == m_.uids.end()) {
            ASSERT_EQ(r, UidTable::RemoveResult::NotFound);
            return;
        }
        m_.uids.erase(it);
        m_.conn_uids[c.pack()].erase(u);
        if (m_.uids.count(u)) {
            ASSERT_EQ(r, UidTable::RemoveResult::RemovedFromUid);
        } else {
            ASSERT_EQ(r, UidTable::RemoveResult::UidGone);
            --m_.uid_count;
        }
    }

    // Close: the server logs the connection out of every uid, leaves all groups, and the slot's
    // generation moves on. The old handle must then match nothing.
    void close(uint32_t slot) {
        const ConnId c = live(slot);
        for (const std::string& u : m_.conn_uids[c.pack()]) {
            ASSERT_NE(table_.remove(u, c), UidTable::RemoveResult::NotFound);
            m_.uids.erase(m_.find_pair(u, c));
            if (!m_.uids.count(u)) --m_.uid_count;
        }
        m_.conn_uids.erase(c.pack());
        const auto& mine = m_.conn_groups[c.pack()];
        ASSERT_EQ(groups_.leave_all(c), mine.size());
        for (const std::string& g : mine)
            if (m_.groups[g].erase(c.pack()) && m_.groups[g].empty()) m_.groups.erase(g);
        m_.conn_groups.erase(c.pack());
        if (++gens_[slot] == 0) gens_[slot] = 1;
        ASSERT_EQ(groups_.membership_count(c), 0u);
        ASSERT_FALSE(groups_.leave(any_group(), c));
        ASSERT_EQ(table_.remove(any_uid(), c), UidTable::RemoveResult::NotFound);
    }

    void note_resize() {
        saw_migration_ |= table_.migrating();
        saw_shrink_ |= table_.capacity() < last_capacity_;
        last_capacity_ = table_.capacity();
        max_uids_ = std::max(max_uids_, table_.uid_count());
    }

    void join(const std::string& g, ConnId c) {
        const auto r = groups_.join(g, c);
        const bool fresh = m_.groups[g].insert(c.pack()).second;
        ASSERT_EQ(r, fresh ? GroupTable::JoinResult::Joined : GroupTable::JoinResult::AlreadyMember);
        m_.conn_groups[c.pack()].insert(g);
    }

    void leave(const std::string& g, ConnId c) {
        auto it = m_.groups.find(g);
        const bool member = it != m_.groups.end() && it->second.erase(c.pack());
        ASSERT_EQ(groups_.leave(g, c), member);
        if (!member) return;
        m_.conn_groups[c.pack()].erase(g);
        if (it->second.empty()) m_.groups.erase(it);
    }

    void ungroup(const std::string& g) {
        auto it = m_.groups.find(g);
        const size_t n = it == m_.groups.end() ? 0 : it->second.size();
        ASSERT_EQ(groups_.ungroup(g), n);
        if (!n) return;
        for (uint64_t c : it->second) m_.conn_groups[c].erase(g);
        m_.groups.erase(it);
    }

    void lookup(const std::string& u) {
        std::set<uint64_t> want, got;
        auto [b, e] = m_.uids.equal_range(u);
        for (auto it = b; it != e; ++it) want.insert(it->second.conn.pack());
        for (ConnId c : table_.find(u)) got.insert(c.pack());
        ASSERT_EQ(got, want) << "uid of length " << u.size();
    }

    void full_check() {
        ASSERT_EQ(table_.uid_count(), m_.uid_count);
        ASSERT_EQ(table_.conn_count(), m_.uids.size());
        for (const auto& [u, reg] : m_.uids) ASSERT_EQ(reg.stored, u);
        for (const std::string& u : uids_) lookup(u);
        std::vector<std::string_view> views(uids_.begin(), uids_.end());
        std::vector<ConnSpan> many(views.size());
        table_.find_many(views.data(), views.size(), many.data());
        for (size_t i = 0; i < views.size(); ++i) ASSERT_EQ(many[i].size, m_.uids.count(uids_[i])) << i;
        size_t visited = 0;
        table_.for_each([&](std::string_view, ConnSpan) { ++visited; });
        ASSERT_EQ(visited, m_.uid_count);
        ASSERT_EQ(groups_.group_count(), m_.groups.size());
        for (const std::string& g : names_) {
            std::set<uint64_t> got;
            for (ConnId c : groups_.members(g)) got.insert(c.pack());
            auto it = m_.groups.find(g);
            ASSERT_EQ(got, it == m_.groups.end() ? std::set<uint64_t>{} : it->second) << g;
            ASSERT_EQ(groups_.group_size(g), got.size());
        }
        for (uint32_t s = 0; s < cfg_.conn_slots; ++s) {
            auto it = m_.conn_groups.find(live(s).pack());
            ASSERT_EQ(groups_.membership_count(live(s)), it == m_.conn_groups.end() ? 0 : it->second.size());
        }
    }

    Config cfg_;
    uint64_t seed_;
    std::mt19937_64 rng_;
    UidTable table_;
    GroupTable groups_;
    std::vector<std::string> uids_, names_;
    std::vector<uint32_t> gens_;
    Model m_;
    unsigned login_bias_ = 70;
    bool saw_migration_ = false;
    bool saw_shrink_ = false;
    size_t last_capacity_ = 0;
    size_t max_uids_ = 0;
};

TEST(RegistryDifferential, MatchesStdContainersUnderXxh3) {
    Differential({nullptr, 60000, 4000, 300, 2000000 / kScale, 250000 / kScale}).run();
}

TEST(RegistryDifferential, MatchesStdContainersWithFourHashValues) {
    Differential({four_values_hash, 1500, 300, 50, 300000 / kScale, 30000 / kScale}).run();
}

TEST(RegistryDifferential, MatchesStdContainersWithConstantHash) {
    Differential({constant_hash, 400, 100, 20, 100000 / kScale, 10000 / kScale}).run();
}

}  // namespace
}  // namespace wspush::registry
