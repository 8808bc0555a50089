// SharedFrame: one encoded frame (or any run of bytes to send), reference-counted, shared by
// every connection it is queued on. A broadcast to N clients is one SharedFrame with N
// references: its memory is one buffer plus N queue entries, never N copies.
//
// Layout: [refs:4][len:4][bytes...] in one malloc. The count is not atomic: a frame belongs
// to one event loop (each worker encodes its own copy of a cross-worker message).
#pragma once
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace wspush::engine {

class SharedFrame {
public:
    // A frame of `len` bytes with one reference held by the caller. Throws std::bad_alloc.
    static SharedFrame* create(size_t len) {
        void* p = std::malloc(sizeof(SharedFrame) + len);
        if (!p) throw std::bad_alloc();
        auto* f = static_cast<SharedFrame*>(p);
        f->refs_ = 1;
        f->len_ = static_cast<uint32_t>(len);
        return f;
    }

    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
    const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
    uint32_t size() const { return len_; }
    // Shrinks the visible length after encoding into a buffer sized for the worst case.
    void set_size(uint32_t len) { assert(len <= len_); len_ = len; }
    uint32_t refs() const { return refs_; }

    void ref() { ++refs_; }
    void unref() {
        assert(refs_ > 0);
        if (--refs_ == 0) std::free(this);
    }

private:
    SharedFrame() = default;
    uint32_t refs_;
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
