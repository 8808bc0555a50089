// XOR unmasking, RFC 6455 section 5.3. The 4-byte mask repeats with period 4, which divides
// every vector width, so one mask vector rotated by `phase` serves the whole buffer: each
// loop is load, xor, store. Tails use masked loads (AVX-512) or the scalar loop (< 1 vector).
// The CPU feature test runs once; the chosen level is the only global in codec/.
#include "codec/unmask.h"

#include <immintrin.h>

#include <cstring>

namespace wspush::codec {
namespace {

// mask bytes rotated so that byte 0 of the result applies to data[0].
uint32_t rotated_mask(const uint8_t mask[4], unsigned phase) {
    uint8_t m[4] = {mask[phase & 3], mask[(phase + 1) & 3], mask[(phase + 2) & 3],
                    mask[(phase + 3) & 3]};
    uint32_t v;
    memcpy(&v, m, 4);
    return v;
}

// 8 bytes per step: about 8x the byte loop, and the fallback for tails.
void unmask_scalar(uint8_t* data, size_t len, uint32_t m32) {
    uint64_t m64 = uint64_t(m32) << 32 | m32;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, data + i, 8);
        v ^= m64;
        memcpy(data + i, &v, 8);
    }
    for (; i < len; ++i) data[i] ^= uint8_t(m64 >> (8 * (i & 7)));
}

__attribute__((target("sse2"))) void unmask_sse2(uint8_t* data, size_t len, uint32_t m32) {
    const __m128i m = _mm_set1_epi32(int(m32));
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<__m128i*>(data + i));
        __m128i b = _mm_loadu_si128(reinterpret_cast<__m128i*>(data + i + 16));
        __m128i c = _mm_loadu_si128(reinterpret_cast<__m128i*>(data + i + 32));
        __m128i d = _mm_loadu_si128(reinterpret_cast<__m128i*>(data + i + 48));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(data + i), _mm_xor_si128(a, m));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(data + i + 16), _mm_xor_si128(b, m));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(data + i + 32), _mm_xor_si128(c, m));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(data + i + 48), _mm_xor_si128(d, m));
    }
    for (; i + 16 <= len; i += 16) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<__m128i*>(data + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(data + i), _mm_xor_si128(a, m));
    }
    unmask_scalar(data + i, len - i, m32);  // i is a multiple of 4: phase unchanged
}

__attribute__((target("avx2"))) void unmask_avx2(uint8_t* data, size_t len, uint32_t m32) {
    const __m256i m = _mm256_set1_epi32(int(m32));
    size_t i = 0;
    for (; i + 128 <= len; i += 128) {
        __m256i a = _mm256_loadu_si256(reinterpret_cast<__m256i*>(data + i));
        __m256i b = _mm256_loadu_si256(reinterpret_cast<__m256i*>(data + i + 32));
        __m256i c = _mm256_loadu_si256(reinterpret_cast<__m256i*>(data + i + 64));
        __m256i d = _mm256_loadu_si256(reinterpret_cast<__m256i*>(data + i + 96));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(data + i), _mm256_xor_si256(a, m));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(data + i + 32), _mm256_xor_si256(b, m));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(data + i + 64), _mm256_xor_si256(c, m));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(data + i + 96), _mm256_xor_si256(d, m));
    }
    for (; i + 32 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256(reinterpret_cast<__m256i*>(data + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(data + i), _mm256_xor_si256(a, m));
    }
    if (i + 16 <= len) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<__m128i*>(data + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(data + i),
                         _mm_xor_si128(a, _mm256_castsi256_si128(m)));
        i += 16;
    }
    unmask_scalar(data + i, len - i, m32);
}

__attribute__((target("avx512f,avx512bw"))) void unmask_avx512(uint8_t* data, size_t len,
                                                                uint32_t m32) {
    const __m512i m = _mm512_set1_epi32(int(m32));
    size_t i = 0;
    for (; i + 256 <= len; i += 256) {
        __m512i a = _mm512_loadu_si512(data + i);
        __m512i b = _mm512_loadu_si512(data + i + 64);
        __m512i c = _mm512_loadu_si512(data + i + 128);
        __m512i d = _mm512_loadu_si512(data + i + 192);
        _mm512_storeu_si512(data + i, _mm512_xor_si512(a, m));
        _mm512_storeu_si512(data + i + 64, _mm512_xor_si512(b, m));
        _mm512_storeu_si512(data + i + 128, _mm512_xor_si512(c, m));
        _mm512_storeu_si512(data + i + 192, _mm512_xor_si512(d, m));
    }
    for (; i + 64 <= len; i += 64) {
        __m512i a = _mm512_loadu_si512(data + i);
        _mm512_storeu_si512(data + i, _mm512_xor_si512(a, m));
    }
    if (i < len) {  // masked load/store: touches only data[i..len), no scalar tail
        __mmask64 k = (1ULL << (len - i)) - 1;  // len - i < 64
        __m512i a = _mm512_maskz_loadu_epi8(k, data + i);
        _mm512_mask_storeu_epi8(data + i, k, _mm512_xor_si512(a, m));
    }
}

SimdLevel detect_level() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f"))
        return SimdLevel::AVX512;
    if (__builtin_cpu_supports("avx2")) return SimdLevel::AVX2;
    if (__builtin_cpu_supports("sse2")) return SimdLevel::SSE2;
    return SimdLevel::Scalar;
}

}  // namespace

SimdLevel best_simd_level() {
    static const SimdLevel level = detect_level();  // thread-safe static init, read-only after
    return level;
}

const char* simd_level_name(SimdLevel level) {
    switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::SSE2: return "sse2";
    case SimdLevel::AVX2: return "avx2";
    case SimdLevel::AVX512: return "avx512bw";
    }
    return "unknown";
}

unsigned unmask_with(SimdLevel level, uint8_t* data, size_t len, const uint8_t mask[4],
                     unsigned phase) {
    if (level > best_simd_level()) level = best_simd_level();
    uint32_t m32 = rotated_mask(mask, phase);
    switch (level) {
    case SimdLevel::AVX512: unmask_avx512(data, len, m32); break;
    case SimdLevel::AVX2: unmask_avx2(data, len, m32); break;
    case SimdLevel::SSE2: unmask_sse2(data, len, m32); break;
    case SimdLevel::Scalar: unmask_scalar(data, len, m32); break;
    }
    return unsigned((phase + len) & 3);
}

unsigned unmask(uint8_t* data, size_t len, const uint8_t mask[4], unsigned phase) {
    if (len < 16) {  // control frames and tiny messages: skip the dispatch
        unmask_scalar(data, len, rotated_mask(mask, phase));
        return unsigned((phase + len) & 3);
    }
    return unmask_with(best_simd_level(), data, len, mask, phase);
}

}  // namespace wspush::codec
