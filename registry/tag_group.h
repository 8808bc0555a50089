// TagGroup: 16 one-byte slot tags examined at once (SwissTable's control-byte trick).
// A tag is 0 for an empty slot (so zeroed memory is an empty table) or 0x80 | 7 hash bits for
// a full one. Returns bitmasks, bit i for tag i: match() the full slots whose 7 bits equal the
// probe's, empty() the empty slots. SSE2 path and a scalar fallback with the same results.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace wspush::registry {

inline constexpr uint8_t kTagEmpty = 0;
inline constexpr unsigned kGroupWidth = 16;

inline uint8_t tag_of(uint64_t hash) { return uint8_t(0x80 | (hash >> 57)); }

#if defined(__SSE2__)
struct TagGroup {
    __m128i v;
    explicit TagGroup(const uint8_t* p) : v(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))) {}
    uint32_t match(uint8_t tag) const {
        // The tag spread over 4 bytes in a general register, then one shuffle: _mm_set1_epi8
        // compiled to movd and three unpacks/shuffles, and in add() g++ fed the movd from a
        // 1-byte spill of the tag, a 4-byte load that store-to-load forwarding cannot serve (it
        // waited until the store left the store buffer, behind every older instruction).
        const __m128i t = _mm_shuffle_epi32(_mm_cvtsi32_si128(int(uint32_t(tag) * 0x01010101u)), 0);
        return uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(v, t)));
    }
    uint32_t empty() const { return ~uint32_t(_mm_movemask_epi8(v)) & 0xffff; }  // high bit clear
};
#else
struct TagGroup {
    uint8_t t[kGroupWidth];
    explicit TagGroup(const uint8_t* p) { std::memcpy(t, p, kGroupWidth); }
    uint32_t match(uint8_t tag) const {
        uint32_t m = 0;
        for (unsigned i = 0; i < kGroupWidth; ++i) m |= uint32_t(t[i] == tag) << i;
        return m;
    }
    uint32_t empty() const {
        uint32_t m = 0;
        for (unsigned i = 0; i < kGroupWidth; ++i) m |= uint32_t(t[i] == kTagEmpty) << i;
        return m;
    }
};
#endif

}  // namespace wspush::registry
