#include "engine/write_queue.h"

#include <cassert>
#include <cstdlib>
#include <new>

namespace wspush::engine {

namespace {
// Rings up to this many slots survive a drain: a connection under steady load keeps its ring
// (no allocation per batch); one that once queued a burst gives the memory back.
constexpr uint32_t kKeepRingSlots = 8;
}  // namespace

static_assert(sizeof(WriteQueue) == 24, "WriteQueue is in every connection");

SharedFrame* WriteQueue::at(uint32_t i) const {
    assert(i < count_);
    return cap_log2_ == 0 ? single_ : ring_[(head_ + i) & (cap() - 1)];
}

void WriteQueue::grow() {
    uint32_t new_log2 = cap_log2_ == 0 ? 2 : cap_log2_ + 1;
    uint32_t new_cap = 1u << new_log2;
    auto** ring = static_cast<SharedFrame**>(std::malloc(sizeof(SharedFrame*) * new_cap));
    if (!ring) throw std::bad_alloc();
    for (uint32_t i = 0; i < count_; ++i) ring[i] = at(i);
    if (cap_log2_ != 0) std::free(ring_);
    ring_ = ring;
    cap_log2_ = new_log2 & 31;
    head_ = 0;
}

void WriteQueue::push(SharedFrame* f) {
    if (cap_log2_ == 0 && count_ == 0) {
        single_ = f;
    } else {
        if (cap_log2_ == 0 || count_ == cap()) grow();
        ring_[(head_ + count_) & (cap() - 1)] = f;
    }
    f->ref();
    count_ = count_ + 1;
    bytes_ += f->size();
}

int WriteQueue::fill_iov(struct iovec* iov, int max) const {
    int n = 0;
    for (uint32_t i = 0; i < count_ && n < max; ++i, ++n) {
        SharedFrame* f = at(i);
        uint32_t skip = i == 0 ? offset_ : 0;
        iov[n].iov_base = f->data() + skip;
        iov[n].iov_len = f->size() - skip;
    }
    return n;
}

void WriteQueue::consume(size_t n) {
    bytes_ -= static_cast<uint32_t>(n);
    while (n > 0) {
        SharedFrame* f = at(0);
        size_t left = f->size() - offset_;
        if (n < left) {
            offset_ += static_cast<uint32_t>(n);
            return;
        }
        n -= left;
        offset_ = 0;
        f->unref();
        count_ = count_ - 1;
        if (cap_log2_ != 0) head_ = (head_ + 1) & (cap() - 1);
    }
    // Frames of zero bytes never occur; an empty queue gives back a large ring.
    if (count_ == 0 && cap() > kKeepRingSlots) {
        std::free(ring_);
        cap_log2_ = 0;
        head_ = 0;
    }
}

void WriteQueue::drop_unstarted(uint32_t committed) {
    uint32_t keep = 0;
    uint64_t held = 0;  // unsent bytes in the frames kept
    if (offset_ != 0) held = at(keep++)->size() - offset_;
    while (keep < count_ && held < committed) held += at(keep++)->size();
    while (count_ > keep) {
        SharedFrame* f = at(count_ - 1);
        bytes_ -= f->size();
        f->unref();
        count_ = count_ - 1;
    }
}

void WriteQueue::clear() {
    while (count_ > 0) {
        SharedFrame* f = at(count_ - 1);
        f->unref();
        count_ = count_ - 1;
    }
    if (cap_log2_ != 0) std::free(ring_);
    cap_log2_ = 0;
    head_ = 0;
    offset_ = 0;
    bytes_ = 0;
}

}  // namespace wspush::engine
