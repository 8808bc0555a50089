#include "tools/wsload/p2p_traffic.h"

#include <algorithm>
#include <cstring>

#include "tools/wsload/decimal_text.h"
#include "tools/wsload/load_options.h"
#include "tools/wsload/worker_loop.h"

namespace wsload {

using wspush::codec::Opcode;

namespace {
constexpr uint32_t kMaxSendsPerTurn = 4096;  // keep reading while catching up with the rate
constexpr int64_t kPollNs = 200000;          // 0.2 ms: how often acks from other workers are seen
}

P2pTraffic::P2pTraffic(WorkerLoop& loop)
    : loop_(loop), senders_(loop.shared().senders), n_(loop.options().connections),
      rng_(0x9E3779B97F4A7C15ull * (loop.worker() + 7)) {
    for (uint32_t s = 0; s < senders_; s++)
        if (loop.owns(s)) local_senders_.push_back(s);
    next_seq_.assign(size_t(local_senders_.size()) * n_, 0);
    sent_by_.assign(local_senders_.size(), 0);
    for (uint32_t s : local_senders_) {
        quota_.push_back(quota(s));
        quota_total_ += quota_.back();
    }
    expected_.assign(size_t(loop.local_count()) * senders_, 0);
    acks_.assign(senders_, 0);
    acked_senders_.reserve(senders_);
    const LoadOptions& o = loop.options();
    rate_local_ = o.rate * double(local_senders_.size()) / double(senders_);
}

uint64_t P2pTraffic::quota(uint32_t sender) const {
    uint64_t m = loop_.options().messages;
    if (m == 0) return 0;
    return m / senders_ + (sender < m % senders_ ? 1 : 0);
}

uint32_t P2pTraffic::ring_capacity(uint32_t global_index) const {
    return global_index < senders_ ? 256 * 1024 : 4096;
}

void P2pTraffic::start(uint64_t run_start_ns) {
    start_ns_ = run_start_ns;
    if (local_senders_.empty()) done_ = true;
}

bool P2pTraffic::send_one(uint32_t slot, uint64_t stamp_ns) {
    const LoadOptions& o = loop_.options();
    uint32_t from = local_senders_[slot];
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    uint32_t to = static_cast<uint32_t>(rng_ % (n_ - 1));
    if (to >= from) to++;  // anyone but the sender itself
    uint32_t& seq = next_seq_[size_t(slot) * n_ + to];

    char* p = payload_;
    *p++ = 'u';
    p = write_decimal(p, to);
    *p++ = ':';
    char* body = p;
    *p++ = 'P';
    p = write_decimal(p, from);
    *p++ = ' ';
    p = write_decimal(p, seq);
    *p++ = ' ';
    p = write_decimal(p, stamp_ns);
    *p++ = ' ';
    size_t body_len = static_cast<size_t>(p - body);
    if (body_len < o.payload_bytes) {
        memset(p, 'x', o.payload_bytes - body_len);
        p += o.payload_bytes - body_len;
    }
    ClientConnection& c = loop_.local(loop_.local_of(from));
    if (c.state != ConnState::Ready) return false;
    if (!loop_.queue_frame(c, o.binary ? Opcode::Binary : Opcode::Text,
                           reinterpret_cast<uint8_t*>(payload_), static_cast<size_t>(p - payload_)))
        return false;
    seq++;
    sent_by_[slot]++;
    sent_total_++;
    sent_unpublished_++;
    return true;
}

int64_t P2pTraffic::pump(uint64_t now_ns) {
    if (done_) return -1;
    const LoadOptions& o = loop_.options();
    uint64_t elapsed = now_ns - start_ns_;
    bool out_of_time = !o.messages && elapsed >= uint64_t(o.duration_s * 1e9);
    if (out_of_time || (quota_total_ && sent_total_ >= quota_total_)) {
        done_ = true;
        return -1;
    }
    uint32_t budget = kMaxSendsPerTurn;
    if (o.rate > 0) {
        // Messages due by now; each is stamped with the moment it was due. Message k is due at
        // k / rate, so k = 0 goes at once and floor(elapsed * rate) + 1 are due by now (counting
        // one fewer would send every message one interval after its stamp: +1/rate latency).
        uint64_t due = static_cast<uint64_t>(double(elapsed) * rate_local_ / 1e9) + 1;
        if (quota_total_) due = std::min(due, quota_total_);
        uint32_t n = static_cast<uint32_t>(local_senders_.size());
        while (sent_total_ < due && budget--) {
            uint32_t slot = round_robin_++ % n;
            if (quota_[slot] && sent_by_[slot] >= quota_[slot]) continue;
            uint64_t stamp = start_ns_ + static_cast<uint64_t>(double(sent_total_) * 1e9 / rate_local_);
            if (!send_one(slot, stamp)) break;
        }
        if (sent_total_ < due) return 0;
        // Wake when the next message (index sent_total_) is due.
        uint64_t next = start_ns_ + static_cast<uint64_t>(double(sent_total_) * 1e9 / rate_local_);
        return next > now_ns ? int64_t(next - now_ns) : 0;
    }
    SharedRunState& s = loop_.shared();
    for (uint32_t slot = 0; slot < local_senders_.size() && budget; slot++) {
        uint64_t acked = s.delivered_by_sender[local_senders_[slot]].load(std::memory_order_relaxed);
        while (budget && sent_by_[slot] - acked < o.window &&
               (!quota_[slot] || sent_by_[slot] < quota_[slot])) {
            if (!send_one(slot, now_ns)) break;
            budget--;
        }
    }
    return budget == 0 ? 0 : loop_.options().procs > 1 ? kPollNs : -1;
}

void P2pTraffic::on_message(ClientConnection& conn, const uint8_t* data, size_t len,
                            uint64_t now_ns) {
    const char* p = reinterpret_cast<const char*>(data);
    const char* end = p + len;
    uint64_t from = 0, seq = 0, sent_ns = 0;
    WorkerReport& r = loop_.report();
    if (len < 6 || *p != 'P' || !(p = parse_decimal(p + 1, end, from)) || p == end ||
        *p != ' ' || !(p = parse_decimal(p + 1, end, seq)) || p == end || *p != ' ' ||
        !(p = parse_decimal(p + 1, end, sent_ns)) || from >= senders_) {
        r.unexpected_messages++;
        return;
    }
    uint32_t& expected = expected_[size_t(loop_.local_of(conn.global_index)) * senders_ + from];
    if (seq < expected) {
        r.out_of_order++;
        return;
    }
    r.gaps += seq - expected;
    expected = static_cast<uint32_t>(seq + 1);
    r.deliveries_ok++;
    ok_unpublished_++;
    r.delivery_latency.record(now_ns > sent_ns ? now_ns - sent_ns : 0);
    if (acks_[from]++ == 0) acked_senders_.push_back(static_cast<uint32_t>(from));
}

void P2pTraffic::publish() {
    SharedRunState& s = loop_.shared();
    for (uint32_t from : acked_senders_) {
        s.delivered_by_sender[from].fetch_add(acks_[from], std::memory_order_relaxed);
        acks_[from] = 0;
    }
    acked_senders_.clear();
    // sent before delivered: the coordinator compares delivered against sent.
    if (sent_unpublished_) {
        s.sent.fetch_add(sent_unpublished_);
        sent_unpublished_ = 0;
    }
    if (ok_unpublished_) {
        s.delivered.fetch_add(ok_unpublished_);
        ok_unpublished_ = 0;
    }
}

}  // namespace wsload
