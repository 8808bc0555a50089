// Bus::shard_for: where a channel lives among the --redis shards. Every node must compute the
// same shard for a channel (a node subscribes to its own channel on one shard, the others
// publish to it on theirs), across processes, restarts and versions (a rolling upgrade runs
// two at once). So the placement is pinned here to literal values of unseeded XXH3: a random
// per-process seed, or any other hash, would fail this test before it split a cluster.
#include "cluster/bus.h"

#include <gtest/gtest.h>

#include <string>

namespace wspush::cluster {
namespace {

TEST(BusShard, PlacementIsUnseededXxh3ModTheShardCountOnEveryNode) {
    struct Case {
        const char* channel;
        size_t of2, of3, of7;
    };
    // XXH3_64bits: wspush:all ea71a41f203b31b0, control ebf121139f1fe484, node.a 7bb559d0cf2338ea,
    // node.b 784e4a997047131b, node.host-1234 bacb24aa045b60b0.
    const Case cases[] = {
        {"wspush:all", 0, 0, 0},          {"wspush:control", 0, 1, 5},
        {"wspush:node.a", 0, 2, 3},       {"wspush:node.b", 1, 0, 2},
        {"wspush:node.host-1234", 0, 2, 2},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(Bus::shard_for(c.channel, 1), 0u) << c.channel;
        EXPECT_EQ(Bus::shard_for(c.channel, 2), c.of2) << c.channel;
        EXPECT_EQ(Bus::shard_for(c.channel, 3), c.of3) << c.channel;
        EXPECT_EQ(Bus::shard_for(c.channel, 7), c.of7) << c.channel;
    }
}

}  // namespace
}  // namespace wspush::cluster
