// Internal to codec/: the SIMD UTF-8 validators (Keiser and Lemire 2021, "lookup" algorithm).
// A validator answers the same as the scalar one: is data[0..len) complete, valid UTF-8?
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/unmask.h"  // SimdLevel

namespace wspush::codec {

using Utf8Validator = bool (*)(const uint8_t* data, size_t len);

// The validator for `level`, or nullptr for Scalar or a level this CPU lacks.
// SSE2 uses SSSE3's pshufb (every x86-64 CPU since 2006 has it); nullptr without it.
Utf8Validator utf8_simd_validator(SimdLevel level);

}  // namespace wspush::codec
