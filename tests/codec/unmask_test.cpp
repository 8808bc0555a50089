// unmask() against a byte loop: every length 0..1024, alignment 0..63 and phase, per level.
#include "codec/unmask.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "tests/codec/simd_levels.h"

namespace wspush::codec {
namespace {

void reference_unmask(uint8_t* d, size_t len, const uint8_t mask[4], unsigned phase) {
    for (size_t i = 0; i < len; ++i) d[i] ^= mask[(phase + i) % 4];
}

TEST(Unmask, RfcExampleMaskedHello) {
    uint8_t data[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    EXPECT_EQ(unmask(data, 5, mask), 1u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(data), 5), "Hello");
}

TEST(Unmask, ReportsLevelName) {
    EXPECT_STREQ(simd_level_name(SimdLevel::AVX2), "avx2");
    EXPECT_STREQ(simd_level_name(SimdLevel::Scalar), "scalar");
}

TEST(Unmask, EveryLevelMatchesByteLoopAtEveryLengthAlignmentAndPhase) {
    constexpr size_t kGuard = 64;
    std::mt19937 rng(42);
    std::vector<uint8_t> src(1024 + 64 + 2 * kGuard);
    for (auto& b : src) b = uint8_t(rng());
    const uint8_t mask[4] = {0x9c, 0x21, 0xe5, 0x4a};
    std::vector<uint8_t> got(src.size()), want(src.size());
    for (SimdLevel level : testing::available_levels()) {
        SCOPED_TRACE(simd_level_name(level));
        for (size_t len = 0; len <= 1024; ++len) {
            for (size_t align = 0; align < 64; ++align) {
                for (unsigned phase = 0; phase < 4; ++phase) {
                    memcpy(got.data(), src.data(), src.size());
                    memcpy(want.data(), src.data(), src.size());
                    uint8_t* g = got.data() + kGuard + align;
                    reference_unmask(want.data() + kGuard + align, len, mask, phase);
                    unsigned next = unmask_with(level, g, len, mask, phase);
                    ASSERT_EQ(next, (phase + len) % 4);
                    // Compares the guard bytes too: nothing outside [g, g+len) is touched.
                    ASSERT_EQ(memcmp(got.data(), want.data(), got.size()), 0)
                        << "len " << len << " align " << align << " phase " << phase;
                }
            }
        }
    }
}

TEST(Unmask, SplitPayloadUnmasksInPiecesWithReturnedPhase) {
    std::vector<uint8_t> a(1000), b;
    for (size_t i = 0; i < a.size(); ++i) a[i] = uint8_t(i);
    b = a;
    const uint8_t mask[4] = {1, 2, 3, 4};
    unmask(a.data(), a.size(), mask);
    unsigned phase = unmask(b.data(), 333, mask);
    phase = unmask(b.data() + 333, 7, mask, phase);
    unmask(b.data() + 340, 660, mask, phase);
    EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace wspush::codec
