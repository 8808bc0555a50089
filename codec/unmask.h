// XOR unmasking, RFC 6455 section 5.3, in place, at memory speed.
// The best implementation the CPU has (AVX-512BW, AVX2, SSE2, scalar) is chosen once at run
// time; every implementation gives the same bytes for every length and alignment.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wspush::codec {

enum class SimdLevel : uint8_t { Scalar = 0, SSE2 = 1, AVX2 = 2, AVX512 = 3 };

// The widest level this CPU supports (cached after the first call).
SimdLevel best_simd_level();
const char* simd_level_name(SimdLevel level);

// XORs data[0..len) with mask[(phase + i) % 4]. Returns the phase after the last byte,
// (phase + len) % 4, so a payload split across reads is unmasked in pieces.
unsigned unmask(uint8_t* data, size_t len, const uint8_t mask[4], unsigned phase = 0);

// The same with a chosen implementation, for tests and benchmarks. A level above
// best_simd_level() falls back to best_simd_level().
unsigned unmask_with(SimdLevel level, uint8_t* data, size_t len, const uint8_t mask[4],
                     unsigned phase = 0);

}  // namespace wspush::codec
