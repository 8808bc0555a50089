// Broadcast scenario: connection 0 sends `all:B<seq> <send_ns> <padding>`, keeping at most
// --inflight broadcasts that have not yet reached every connection (the sender included:
// `all:` goes to every logged-in connection). Every connection expects seq 0, 1, 2, ... in
// order; each arrival is timed from send_ns and counted toward its broadcast's slot in shared
// memory, and the arrival that completes a slot counts the broadcast as completed.
#pragma once
#include <cstdint>

#include "tools/wsload/load_options.h"
#include "tools/wsload/traffic_model.h"

namespace wsload {

class BroadcastTraffic final : public TrafficModel {
public:
    explicit BroadcastTraffic(WorkerLoop& loop);
    void start(uint64_t run_start_ns) override;
    int64_t pump(uint64_t now_ns) override;
    void on_message(ClientConnection& conn, const uint8_t* data, size_t len,
                    uint64_t now_ns) override;
    void publish() override;
    bool done_sending() const override { return done_; }
    uint32_t ring_capacity(uint32_t global_index) const override;

private:
    // Arrivals of one sequence number seen this turn, before they are published.
    struct PendingCount {
        uint64_t seq;
        uint64_t last_ns;
        uint32_t count;
    };
    static constexpr uint32_t kRing = LoadOptions::kMaxInflight * 2;

    void publish_slot(PendingCount& p);

    WorkerLoop& loop_;
    const bool is_sender_;
    uint64_t start_ns_ = 0;
    uint64_t sent_ = 0;
    uint64_t limit_ = 0;
    uint64_t ok_unpublished_ = 0;
    bool done_ = false;
    PendingCount pending_[kRing] = {};
    uint32_t touched_[kRing];
    uint32_t touched_count_ = 0;
    char payload_[4096 + 64];
};

}  // namespace wsload
