// The SIMD levels this CPU can run, for tests that compare every implementation.
#pragma once
#include <vector>

#include "codec/unmask.h"

namespace wspush::codec::testing {

inline std::vector<SimdLevel> available_levels() {
    std::vector<SimdLevel> levels;
    for (int l = 0; l <= int(best_simd_level()); ++l) levels.push_back(SimdLevel(l));
    return levels;
}

}  // namespace wspush::codec::testing
