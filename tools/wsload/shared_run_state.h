// State shared by the coordinator (parent) and every worker process: one anonymous
// MAP_SHARED mapping made before fork(). It carries the phase, progress counters and the
// per-broadcast / per-sender accounting that lets a sender in one process know when a
// receiver in another got its message, without a socket between them.
//
// Workers batch their increments and publish them once per event-loop turn (see
// BatchedCounters), so the cross-process cache-line traffic is per turn, not per message.
//
// Layout:  [SharedRunState][BroadcastSlot x max_broadcasts][atomic<u64> x senders]
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace wsload {

enum class Phase : uint32_t { Connect, Connected, Run, Drain, Stop };

struct BroadcastSlot {                       // 24 bytes
    std::atomic<uint64_t> send_ns;           // CLOCK_MONOTONIC at send (system-wide clock)
    std::atomic<uint64_t> done_ns;           // latest arrival seen so far (atomic max)
    std::atomic<uint32_t> delivered;         // receivers that have it
    uint32_t pad;
};

struct SharedRunState {
    std::atomic<Phase> phase;
    std::atomic<uint64_t> run_start_ns;
    std::atomic<uint32_t> opened;            // TCP connects started
    std::atomic<uint32_t> logged_in;
    std::atomic<uint32_t> failed;            // connections that never logged in
    std::atomic<uint32_t> lost_connections;  // logged in, then closed or reset by the server
    std::atomic<uint32_t> workers_done_sending;
    std::atomic<uint32_t> workers_in_error;
    std::atomic<uint64_t> sent;              // messages sent (broadcasts count once)
    std::atomic<uint64_t> delivered;         // verified deliveries
    std::atomic<uint64_t> broadcasts_completed;

    BroadcastSlot* slots;                    // valid in every process: same mapping address
    std::atomic<uint64_t>* delivered_by_sender;
    uint64_t max_broadcasts;
    uint32_t senders;

    // Maps the region (zeroed) before fork; never unmapped: the process exits with it.
    static SharedRunState* create(uint64_t max_broadcasts, uint32_t senders);
};

}  // namespace wsload
