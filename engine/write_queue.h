// WriteQueue: a connection's pending output, as references to SharedFrames, flushed with one
// writev per connection per loop iteration.
//
// Layout (24 bytes, static_assert in write_queue.cpp): a ring of SharedFrame* allocated only when two or more frames are queued
// at once; a single pending frame (the common case: one reply, one push) sits in the pointer
// field itself, so an idle connection owns no queue memory at all.
//
//   slots_ -> [ f0 | f1 | f2 | .. ]   head_ indexes the oldest; offset_ bytes of it are sent
//
// Costs: push O(1) amortised; fill_iov O(k) for k iovecs; consume O(frames completed).
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "engine/shared_frame.h"

namespace wspush::engine {

class WriteQueue {
public:
    WriteQueue() = default;
    ~WriteQueue() { clear(); }
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;

    // Queues f, taking a new reference to it. Throws std::bad_alloc (nothing queued then).
    void push(SharedFrame* f);

    bool empty() const { return count_ == 0; }
    uint32_t frames() const { return count_; }
    // Bytes not yet written, across all queued frames.
    uint32_t bytes() const { return bytes_; }
    // Whether the oldest frame has been partly written (it must be finished before anything
    // else goes out, or the stream of frames would be corrupt).
    bool head_started() const { return offset_ != 0; }

    // Fills up to max iovecs from the oldest frame on; returns how many.
    int fill_iov(struct iovec* iov, int max) const;
    // Records that n bytes were written: releases completed frames.
    void consume(size_t n);
    // Drops every frame except a partly written head and those holding the first `committed`
    // unsent bytes (TLS: handed to a record write that must be retried with the same bytes).
    // Slow consumer: make room for a close.
    void drop_unstarted(uint32_t committed = 0);
    // Releases everything.
    void clear();

private:
    SharedFrame* at(uint32_t i) const;
    void grow();

    union {
        SharedFrame** ring_;   // when cap_log2_ > 0
        SharedFrame* single_;  // when cap_log2_ == 0 and count_ == 1
    };
    uint32_t cap() const { return cap_log2_ ? 1u << cap_log2_ : 0u; }

    uint32_t head_ = 0;
    uint32_t count_ : 27 = 0;    // frames queued (a 4 MiB backlog of 2-byte frames fits)
    uint32_t cap_log2_ : 5 = 0;  // ring capacity 2^cap_log2_; 0 = no ring
    uint32_t offset_ = 0;        // bytes of the head frame already written
    uint32_t bytes_ = 0;         // unsent bytes; the backlog limit (< 2 GiB) bounds it
};

}  // namespace wspush::engine
