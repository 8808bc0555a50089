// SlotMap<T>: objects addressed by generation-tagged ConnIds, stored in fixed chunks so that a
// pointer to an object stays valid until that object is erased (the engine keeps Connection*
// across calls). Free slots are reused LIFO (warm cache lines). No per-object allocation:
// one chunk of kChunk objects at a time.
//
// Cost: get() is two loads and a compare; insert/erase O(1); iteration O(capacity).
#pragma once
#include <cassert>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "registry/conn_id.h"

namespace wspush::registry {

template <class T, uint32_t kChunk = 1024>
class SlotMap {
    struct Slot {
        uint32_t gen = 1;        // current generation; live iff `live`
        bool live = false;
        alignas(T) unsigned char storage[sizeof(T)];
        T* obj() { return std::launder(reinterpret_cast<T*>(storage)); }
    };

public:
    SlotMap() = default;
    SlotMap(const SlotMap&) = delete;
    SlotMap& operator=(const SlotMap&) = delete;
    ~SlotMap() {
        for (uint32_t i = 0; i < capacity_; ++i)
            if (slot(i).live) slot(i).obj()->~T();
    }

    // Strong guarantee: if T's constructor or a chunk allocation throws, the map is as before
    // (the free index stays on the free list; a new chunk is owned before the vector grows).
    template <class... Args>
    std::pair<ConnId, T*> emplace(Args&&... args) {
        const bool reuse = !free_.empty();
        const uint32_t index = reuse ? free_.back() : capacity_;
        if (!reuse && index / kChunk == chunks_.size()) {  // not %: a throw may leave a spare chunk
            std::unique_ptr<Slot[]> chunk(new Slot[kChunk]);
            chunks_.push_back(std::move(chunk));  // on throw, chunk frees itself
        }
        Slot& s = slot(index);
        T* p = new (s.storage) T(std::forward<Args>(args)...);  // may throw: nothing taken yet
        if (reuse)
            free_.pop_back();
        else
            ++capacity_;
        s.live = true;
        ++size_;
        return {ConnId{index, s.gen}, p};
    }

    // The object, or null when the handle is stale (erased, possibly reused since).
    T* get(ConnId id) {
        if (id.slot >= capacity_) return nullptr;
        Slot& s = slot(id.slot);
        return (s.live && s.gen == id.gen) ? s.obj() : nullptr;
    }

    // The live object in a slot, whatever its generation (for intrusive lists that link
    // objects by slot index). The slot must be live.
    T& at_slot(uint32_t index) {
        assert(index < capacity_ && slot(index).live);
        return *slot(index).obj();
    }
    ConnId id_of_slot(uint32_t index) {
        assert(index < capacity_ && slot(index).live);
        return ConnId{index, slot(index).gen};
    }

    // Destroys the object and bumps the slot's generation. False for a stale handle.
    bool erase(ConnId id) {
        T* p = get(id);
        if (!p) return false;
        Slot& s = slot(id.slot);
        p->~T();
        s.live = false;
        if (++s.gen == 0) s.gen = 1;  // 0 means "no connection"
        free_.push_back(id.slot);
        --size_;
        return true;
    }

    size_t size() const { return size_; }
    uint32_t capacity() const { return capacity_; }

    // Calls f(ConnId, T&) for every live object. f must not insert or erase.
    template <class F>
    void for_each(F&& f) {
        for (uint32_t i = 0; i < capacity_; ++i) {
            Slot& s = slot(i);
            if (s.live) f(ConnId{i, s.gen}, *s.obj());
        }
    }

private:
    Slot& slot(uint32_t i) { return chunks_[i / kChunk][i % kChunk]; }

    std::vector<std::unique_ptr<Slot[]>> chunks_;
    std::vector<uint32_t> free_;
    uint32_t capacity_ = 0;
    size_t size_ = 0;
};

}  // namespace wspush::registry
