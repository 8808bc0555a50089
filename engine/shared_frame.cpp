#include "engine/shared_frame.h"

namespace wspush::engine {

// Per-thread free lists of frames by size class: 64, 128, ..., 4096 bytes including the
// 8-byte header. A list keeps at most kKeepBytes (256 KiB) of idle frames, so a burst (a large batch of
// pushes) gives its memory back to malloc instead of pinning it.
class FramePool {
public:
    static constexpr uint32_t kClasses = 7;
    static constexpr uint32_t kMallocClass = 255;
    static constexpr size_t kKeepBytes = 256 << 10;

    static uint32_t class_for(size_t total) {
        if (total > (size_t(64) << (kClasses - 1))) return kMallocClass;
        uint32_t c = 0;
        while ((size_t(64) << c) < total) ++c;
        return c;
    }

    void* get(uint32_t c) {
        List& l = lists_[c];
        if (!l.head) return std::malloc(size_t(64) << c);
        Node* n = l.head;
        l.head = n->next;
        --l.count;
        return n;
    }

    void put(uint32_t c, void* p) {
        List& l = lists_[c];
        if (l.count * (size_t(64) << c) >= kKeepBytes) return std::free(p);
        Node* n = static_cast<Node*>(p);
        n->next = l.head;
        l.head = n;
        ++l.count;
    }

    ~FramePool() {
        for (List& l : lists_)
            while (l.head) {
                Node* n = l.head;
                l.head = n->next;
                std::free(n);
            }
    }

private:
    struct Node {
        Node* next;
    };
    struct List {
        Node* head = nullptr;
        size_t count = 0;
    };
    List lists_[kClasses];
};

namespace {
thread_local FramePool t_pool;
}

SharedFrame* SharedFrame::create(size_t len) {
    size_t total = sizeof(SharedFrame) + len;
    uint32_t c = FramePool::class_for(total);
    void* p = c == FramePool::kMallocClass ? std::malloc(total) : t_pool.get(c);
    if (!p) throw std::bad_alloc();
    auto* f = static_cast<SharedFrame*>(p);
    f->refs_ = 1;
    f->size_class_ = c;
    f->len_ = static_cast<uint32_t>(len);
    return f;
}

void SharedFrame::release() {
    if (size_class_ == FramePool::kMallocClass) std::free(this);
    else t_pool.put(size_class_, this);
}

}  // namespace wspush::engine
