// Log-linear latency histogram in the manner of HdrHistogram: fixed memory (35 KB), O(1)
// record, mergeable by adding counts, so workers in other processes can ship it over a pipe
// as plain bytes. Values are nanoseconds; precision is 1/128 of the value (< 0.8 %) above
// 256 ns, exact below. Values past 2^41 ns (~37 min) are clamped into the last bucket.
//
// percentile() returns the highest value of the bucket holding that rank (never understates),
// except that the largest recorded value is kept exactly and caps every answer.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wsload {

class LatencyHistogram {
public:
    static constexpr int kSubBits = 7;                    // 128 sub-buckets per power of two
    static constexpr int kMaxBit = 41;                    // top tracked exponent
    static constexpr size_t kBuckets = 256 + (kMaxBit - 8 + 1) * 128;

    void record(uint64_t ns) {
        counts_[index_of(ns)]++;
        total_++;
        sum_ += ns;
        if (ns > max_) max_ = ns;
        if (ns < min_) min_ = ns;
    }
    void merge(const LatencyHistogram& other);

    uint64_t count() const { return total_; }
    uint64_t max() const { return total_ ? max_ : 0; }
    uint64_t min() const { return total_ ? min_ : 0; }
    double mean() const { return total_ ? double(sum_) / double(total_) : 0; }
    uint64_t percentile(double p) const;  // p in [0, 100]

    static size_t index_of(uint64_t v);
    static uint64_t highest_in_bucket(size_t index);

private:
    uint64_t counts_[kBuckets] = {};
    uint64_t total_ = 0;
    uint64_t sum_ = 0;
    uint64_t max_ = 0;
    uint64_t min_ = UINT64_MAX;
};

}  // namespace wsload
