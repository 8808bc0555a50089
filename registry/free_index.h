// Index recycling for tables whose entries live in a sequence (vector or deque) addressed by
// index: a freed entry's index goes on a free list and the next allocation takes it back, so
// the entry (and the capacity it kept) is reused and other indices never move.
#pragma once
#include <cstdint>
#include <vector>

namespace wspush::registry {

// The index of an entry to use: the most recently freed one, else a new default entry at the end.
template <class Seq>
uint32_t take_index(std::vector<uint32_t>& free, Seq& items) {
    if (!free.empty()) {
        const uint32_t i = free.back();
        free.pop_back();
        return i;
    }
    items.emplace_back();
    return uint32_t(items.size() - 1);
}

}  // namespace wspush::registry
