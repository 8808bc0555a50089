#include "tools/wsload/broadcast_traffic.h"

#include <algorithm>
#include <cstring>

#include "tools/wsload/decimal_text.h"
#include "tools/wsload/load_options.h"
#include "tools/wsload/worker_loop.h"

namespace wsload {

using wspush::codec::Opcode;

namespace {
constexpr int64_t kPollNs = 200000;  // 0.2 ms: how often another worker's completions are seen
}

BroadcastTraffic::BroadcastTraffic(WorkerLoop& loop) : loop_(loop), is_sender_(loop.owns(0)) {
    const LoadOptions& o = loop.options();
    limit_ = o.messages ? std::min<uint64_t>(o.messages, o.max_broadcasts) : o.max_broadcasts;
}

uint32_t BroadcastTraffic::ring_capacity(uint32_t global_index) const {
    return global_index == 0 ? 256 * 1024 : 4096;
}

void BroadcastTraffic::start(uint64_t run_start_ns) {
    start_ns_ = run_start_ns;
    if (!is_sender_) done_ = true;
}

int64_t BroadcastTraffic::pump(uint64_t now_ns) {
    if (done_) return -1;
    const LoadOptions& o = loop_.options();
    SharedRunState& s = loop_.shared();
    bool timed_out = !o.messages && now_ns - start_ns_ >= uint64_t(o.duration_s * 1e9);
    if (sent_ >= limit_ || timed_out) {
        done_ = true;
        return -1;
    }
    ClientConnection& sender = loop_.local(loop_.local_of(0));
    if (sender.state != ConnState::Ready) {
        done_ = true;
        return -1;
    }
    while (sent_ < limit_ && sent_ - s.broadcasts_completed.load() < o.inflight) {
        char* p = payload_;
        memcpy(p, "all:B", 5);
        p = write_decimal(p + 5, sent_);
        *p++ = ' ';
        p = write_decimal(p, now_ns);
        *p++ = ' ';
        size_t body = static_cast<size_t>(p - payload_) - 4;  // what receivers get
        if (body < o.payload_bytes) {
            memset(p, 'x', o.payload_bytes - body);
            p += o.payload_bytes - body;
        }
        s.slots[sent_].send_ns.store(now_ns, std::memory_order_relaxed);
        if (!loop_.queue_frame(sender, o.binary ? Opcode::Binary : Opcode::Text,
                               reinterpret_cast<uint8_t*>(payload_),
                               static_cast<size_t>(p - payload_)))
            return kPollNs;  // ring full: the socket drains first
        sent_++;
        s.sent.fetch_add(1, std::memory_order_release);
    }
    // Waiting for completions: they arrive as events here when procs == 1; other workers'
    // completions are only visible by polling shared memory.
    return loop_.options().procs > 1 ? kPollNs : -1;
}

void BroadcastTraffic::on_message(ClientConnection& conn, const uint8_t* data, size_t len,
                                  uint64_t now_ns) {
    const char* p = reinterpret_cast<const char*>(data);
    const char* end = p + len;
    uint64_t seq = 0, sent_ns = 0;
    WorkerReport& r = loop_.report();
    if (len < 4 || *p != 'B' || !(p = parse_decimal(p + 1, end, seq)) || p == end || *p != ' ' ||
        !(p = parse_decimal(p + 1, end, sent_ns)) || seq >= loop_.shared().max_broadcasts) {
        r.unexpected_messages++;
        return;
    }
    if (seq < conn.next_broadcast_seq) {  // seen already, or arrived after a later one
        r.out_of_order++;
        return;
    }
    r.gaps += seq - conn.next_broadcast_seq;
    conn.next_broadcast_seq = seq + 1;
    r.deliveries_ok++;
    ok_unpublished_++;
    r.delivery_latency.record(now_ns > sent_ns ? now_ns - sent_ns : 0);

    uint32_t at = static_cast<uint32_t>(seq % kRing);
    PendingCount& pc = pending_[at];
    if (pc.count != 0 && pc.seq != seq) publish_slot(pc);  // ring wrapped: can't with inflight <= 1024
    if (pc.count == 0) {
        if (touched_count_ == kRing) publish();
        pc.seq = seq;
        pc.last_ns = 0;
        touched_[touched_count_++] = at;
    }
    pc.count++;
    pc.last_ns = std::max(pc.last_ns, now_ns);
}

void BroadcastTraffic::publish_slot(PendingCount& p) {
    SharedRunState& s = loop_.shared();
    BroadcastSlot& slot = s.slots[p.seq];
    uint64_t prev = slot.done_ns.load();
    while (prev < p.last_ns && !slot.done_ns.compare_exchange_weak(prev, p.last_ns)) {
    }
    // The publisher that brings the count to every connection completes the broadcast; its
    // done_ns max happened before, so done_ns is final when the count is.
    uint32_t before = slot.delivered.fetch_add(p.count);
    if (before + p.count == loop_.options().connections) s.broadcasts_completed.fetch_add(1);
    p.count = 0;
}

void BroadcastTraffic::publish() {
    for (uint32_t i = 0; i < touched_count_; i++) {
        PendingCount& p = pending_[touched_[i]];
        if (p.count) publish_slot(p);
    }
    touched_count_ = 0;
    if (ok_unpublished_) {
        loop_.shared().delivered.fetch_add(ok_unpublished_);
        ok_unpublished_ = 0;
    }
}

}  // namespace wsload
