// SIMD UTF-8 validators: the lookup algorithm of utf8_lookup.inc instantiated for SSSE3
// (16-byte vectors), AVX2 (32) and AVX-512BW (64). Each namespace supplies the handful of
// vector operations the algorithm uses; per-function target attributes (no -march) let one
// binary carry all three, picked at run time by utf8_simd_validator().
#include "codec/utf8_simd.h"

#include <immintrin.h>

#include <cstring>

namespace wspush::codec {
namespace ssse3 {
#define TARGET __attribute__((target("ssse3")))
#define TARGET_INLINE TARGET inline __attribute__((always_inline))
using vec = __m128i;
constexpr size_t kWidth = 16;
TARGET_INLINE vec load(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const vec*>(p)); }
TARGET_INLINE vec splat(uint8_t x) { return _mm_set1_epi8(char(x)); }
TARGET_INLINE vec table16(const uint8_t* t) { return load(t); }
TARGET_INLINE vec lookup(vec table, vec idx) { return _mm_shuffle_epi8(table, idx); }
TARGET_INLINE vec shr4(vec v) { return _mm_and_si128(_mm_srli_epi16(v, 4), splat(0x0F)); }
TARGET_INLINE vec and_(vec a, vec b) { return _mm_and_si128(a, b); }
TARGET_INLINE vec or_(vec a, vec b) { return _mm_or_si128(a, b); }
TARGET_INLINE vec xor_(vec a, vec b) { return _mm_xor_si128(a, b); }
TARGET_INLINE vec subs_u8(vec a, vec b) { return _mm_subs_epu8(a, b); }
template <int N> TARGET_INLINE vec prev(vec cur, vec before) { return _mm_alignr_epi8(cur, before, 16 - N); }
TARGET_INLINE bool is_ascii(vec v) { return _mm_movemask_epi8(v) == 0; }
TARGET_INLINE bool any_set(vec v) { return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xFFFF; }
#include "codec/utf8_lookup.inc"
#undef TARGET
#undef TARGET_INLINE
}  // namespace ssse3

namespace avx2 {
#define TARGET __attribute__((target("avx2")))
#define TARGET_INLINE TARGET inline __attribute__((always_inline))
using vec = __m256i;
constexpr size_t kWidth = 32;
TARGET_INLINE vec load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const vec*>(p)); }
TARGET_INLINE vec splat(uint8_t x) { return _mm256_set1_epi8(char(x)); }
TARGET_INLINE vec table16(const uint8_t* t) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
TARGET_INLINE vec lookup(vec table, vec idx) { return _mm256_shuffle_epi8(table, idx); }
TARGET_INLINE vec shr4(vec v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), splat(0x0F)); }
TARGET_INLINE vec and_(vec a, vec b) { return _mm256_and_si256(a, b); }
TARGET_INLINE vec or_(vec a, vec b) { return _mm256_or_si256(a, b); }
TARGET_INLINE vec xor_(vec a, vec b) { return _mm256_xor_si256(a, b); }
TARGET_INLINE vec subs_u8(vec a, vec b) { return _mm256_subs_epu8(a, b); }
// Bytes shifted in from the previous vector across the 128-bit lane boundary.
template <int N> TARGET_INLINE vec prev(vec cur, vec before) {
    return _mm256_alignr_epi8(cur, _mm256_permute2x128_si256(before, cur, 0x21), 16 - N);
}
TARGET_INLINE bool is_ascii(vec v) { return _mm256_movemask_epi8(v) == 0; }
TARGET_INLINE bool any_set(vec v) { return !_mm256_testz_si256(v, v); }
#include "codec/utf8_lookup.inc"
#undef TARGET
#undef TARGET_INLINE
}  // namespace avx2

namespace avx512 {
#define TARGET __attribute__((target("avx512f,avx512bw")))
#define TARGET_INLINE TARGET inline __attribute__((always_inline))
using vec = __m512i;
constexpr size_t kWidth = 64;
TARGET_INLINE vec load(const uint8_t* p) { return _mm512_loadu_si512(p); }
TARGET_INLINE vec splat(uint8_t x) { return _mm512_set1_epi8(char(x)); }
TARGET_INLINE vec table16(const uint8_t* t) {
    return _mm512_maskz_broadcast_i32x4(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
TARGET_INLINE vec lookup(vec table, vec idx) { return _mm512_shuffle_epi8(table, idx); }
TARGET_INLINE vec shr4(vec v) { return _mm512_and_si512(_mm512_srli_epi16(v, 4), splat(0x0F)); }
TARGET_INLINE vec and_(vec a, vec b) { return _mm512_and_si512(a, b); }
TARGET_INLINE vec or_(vec a, vec b) { return _mm512_or_si512(a, b); }
TARGET_INLINE vec xor_(vec a, vec b) { return _mm512_xor_si512(a, b); }
TARGET_INLINE vec subs_u8(vec a, vec b) { return _mm512_subs_epu8(a, b); }
// Lanes [before.3, cur.0, cur.1, cur.2], then a per-lane alignr.
template <int N> TARGET_INLINE vec prev(vec cur, vec before) {
    vec shifted = _mm512_permutex2var_epi64(before, _mm512_set_epi64(13, 12, 11, 10, 9, 8, 7, 6), cur);
    return _mm512_alignr_epi8(cur, shifted, 16 - N);
}
TARGET_INLINE bool is_ascii(vec v) { return _mm512_movepi8_mask(v) == 0; }
TARGET_INLINE bool any_set(vec v) { return _mm512_test_epi8_mask(v, v) != 0; }
#include "codec/utf8_lookup.inc"
#undef TARGET
#undef TARGET_INLINE
}  // namespace avx512

// validate() itself must not be always_inline: it is called through a pointer.
Utf8Validator utf8_simd_validator(SimdLevel level) {
    __builtin_cpu_init();
    switch (level) {
    case SimdLevel::AVX512:
        if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f")) return avx512::validate;
        return nullptr;
    case SimdLevel::AVX2:
        return __builtin_cpu_supports("avx2") ? avx2::validate : nullptr;
    case SimdLevel::SSE2:
        return __builtin_cpu_supports("ssse3") ? ssse3::validate : nullptr;
    case SimdLevel::Scalar:
        return nullptr;
    }
    return nullptr;
}

}  // namespace wspush::codec
