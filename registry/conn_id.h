// Generation-tagged connection handle: a slot index plus the generation of the slot when the
// handle was made. A slot's generation is bumped when its connection closes, so a handle kept
// past the close never reaches the next connection that reuses the slot.
#pragma once
#include <cstdint>
#include <functional>

namespace wspush::registry {

struct ConnId {
    uint32_t slot = 0;
    uint32_t gen = 0;  // 0 is never a live generation: ConnId{} is "no connection"

    constexpr bool valid() const { return gen != 0; }
    constexpr uint64_t pack() const { return (uint64_t(gen) << 32) | slot; }
    static constexpr ConnId unpack(uint64_t v) { return ConnId{uint32_t(v), uint32_t(v >> 32)}; }
    friend constexpr bool operator==(ConnId a, ConnId b) { return a.slot == b.slot && a.gen == b.gen; }
    friend constexpr bool operator!=(ConnId a, ConnId b) { return !(a == b); }
};
static_assert(sizeof(ConnId) == 8);

}  // namespace wspush::registry

template <>
struct std::hash<wspush::registry::ConnId> {
    size_t operator()(wspush::registry::ConnId c) const noexcept { return std::hash<uint64_t>()(c.pack()); }
};
