// SharedFrame: one encoded frame (or any run of bytes to send), reference-counted, shared by
// every connection it is queued on. A broadcast to N clients is one SharedFrame with N
// references: its memory is one buffer plus N queue entries, never N copies.
//
// Layout: [refs:24 | size class:8][len:32][bytes...]. Frames up to 4 KiB (every push message
// in practice) come from per-thread free lists by size class, so routing a message costs no
// malloc: a free frame is popped, filled, and pushed back when its last reference goes.
// Larger frames use malloc. The count is not atomic: a frame belongs to one event loop (each
// worker encodes its own copy of a cross-worker message).
#pragma once
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace wspush::engine {

class SharedFrame {
public:
    // A frame of `len` bytes with one reference held by the caller. Throws std::bad_alloc.
    static SharedFrame* create(size_t len);
    // A frame holding a copy of data[0..len), one reference held by the caller.
    static SharedFrame* copy_of(const void* data, size_t len) {
        SharedFrame* f = create(len);
        if (len) std::memcpy(f->data(), data, len);
        return f;
    }

    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
    const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
    uint32_t size() const { return len_; }
    // Shrinks the visible length after encoding into a buffer sized for the worst case.
    void set_size(uint32_t len) { assert(len <= len_); len_ = len; }
    uint32_t refs() const { return refs_; }

    void ref() {
        assert(refs_ < kMaxRefs);
        ++refs_;
    }
    void unref() {
        assert(refs_ > 0);
        if (--refs_ == 0) release();
    }

    static constexpr uint32_t kMaxRefs = (1u << 24) - 1;  // recipients of one frame

private:
    friend class FramePool;
    SharedFrame() = default;
    void release();

    uint32_t refs_ : 24;
    uint32_t size_class_ : 8;  // FramePool class, or kMallocClass
    uint32_t len_;
};
static_assert(sizeof(SharedFrame) == 8);

// Owns one reference; for code paths that may return early.
class FrameRef {
public:
    explicit FrameRef(SharedFrame* f) : f_(f) {}
    ~FrameRef() { if (f_) f_->unref(); }
    FrameRef(const FrameRef&) = delete;
    FrameRef& operator=(const FrameRef&) = delete;
    SharedFrame* get() const { return f_; }
    SharedFrame* operator->() const { return f_; }

private:
    SharedFrame* f_;
};

}  // namespace wspush::engine
