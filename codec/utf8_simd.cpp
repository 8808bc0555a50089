// Placeholder until the SIMD validators land.
#include "codec/utf8_simd.h"

namespace wspush::codec {
Utf8Validator utf8_simd_validator(SimdLevel) { return nullptr; }
}  // namespace wspush::codec
