// Point-to-point scenario: connections 0..S-1 send `u<target>:P<sender> <seq> <send_ns> <pad>`
// to random other uids, either at a fixed total --rate (send_ns is the time the message was
// due, not when it left, so a stalled sender cannot hide latency: no coordinated omission) or
// as fast as a window of --window unacknowledged messages per sender allows (a receiver in any
// process acknowledges through shared memory).
//
// Every (sender, receiver) pair is its own stream numbered 0, 1, 2, ...: the receiver checks
// each arrives once and in order. Memory: 4 B x S x N on each side, allocated at start.
#pragma once
#include <cstdint>
#include <vector>

#include "tools/wsload/traffic_model.h"

namespace wsload {

class P2pTraffic final : public TrafficModel {
public:
    explicit P2pTraffic(WorkerLoop& loop);
    void start(uint64_t run_start_ns) override;
    int64_t pump(uint64_t now_ns) override;
    void on_message(ClientConnection& conn, const uint8_t* data, size_t len,
                    uint64_t now_ns) override;
    void publish() override;
    bool done_sending() const override { return done_; }
    uint32_t ring_capacity(uint32_t global_index) const override;

private:
    bool send_one(uint32_t sender_slot, uint64_t stamp_ns);
    uint64_t quota(uint32_t sender) const;  // --messages share of one sender

    WorkerLoop& loop_;
    uint32_t senders_;                       // S
    uint32_t n_;                             // connections
    std::vector<uint32_t> local_senders_;    // global index of each sender this worker owns
    std::vector<uint32_t> next_seq_;         // [sender slot][target]
    std::vector<uint64_t> sent_by_;          // [sender slot]
    std::vector<uint64_t> quota_;            // [sender slot], 0 = unlimited
    std::vector<uint32_t> expected_;         // [local receiver][sender]
    std::vector<uint32_t> acks_;             // [sender] arrivals this turn, not yet published
    std::vector<uint32_t> acked_senders_;    // senders with acks_ != 0
    uint64_t start_ns_ = 0;
    uint64_t sent_total_ = 0, sent_unpublished_ = 0, ok_unpublished_ = 0;
    uint64_t quota_total_ = 0;
    double rate_local_ = 0;                  // messages/s from this worker
    uint32_t round_robin_ = 0;
    uint64_t rng_;
    bool done_ = false;
    char payload_[4096 + 64];
};

}  // namespace wsload
