#include "tools/wsload/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace wsload {

// Below 256 each value has its own bucket. Above, the exponent (msb) picks a band of 128
// buckets and the next 7 bits below the msb pick the bucket inside it.
size_t LatencyHistogram::index_of(uint64_t v) {
    if (v < 256) return static_cast<size_t>(v);
    int msb = 63 - std::countl_zero(v);
    if (msb > kMaxBit) return kBuckets - 1;
    uint64_t sub = v >> (msb - kSubBits);  // in [128, 255]
    return 256 + static_cast<size_t>(msb - 8) * 128 + static_cast<size_t>(sub - 128);
}

uint64_t LatencyHistogram::highest_in_bucket(size_t index) {
    if (index < 256) return index;
    size_t band = (index - 256) / 128;
    uint64_t sub = (index - 256) % 128 + 128;
    int shift = static_cast<int>(band) + 8 - kSubBits;
    return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; i++) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
}

uint64_t LatencyHistogram::percentile(double p) const {
    if (total_ == 0) return 0;
    // Rank of the sample at percentile p, 1-based: p99 of 100 samples is the 99th.
    uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * double(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; i++) {
        seen += counts_[i];
        if (seen >= rank) return std::min(highest_in_bucket(i), max_);
    }
    return max_;
}

}  // namespace wsload
