// A bounded record of latency samples for runs too long to keep every one (an hour at 2 us
// is 1.8e9 samples). Log-linear buckets as in HdrHistogram: exact below 2^kSubBits ticks,
// above that 2^kSubBits buckets per power of two, so a bucket is at most 2^-kSubBits of its
// lower bound wide and its midpoint is within 2^-(kSubBits+1) (0.39 %) of any value in it.
// Count, min, max, sum and sum of squares are kept exactly (128-bit integers), so min, max,
// mean and stdev stay exact; only the percentiles carry the bucket error. Buckets merge by
// adding counts. Adding a value is a count-leading-zeros and a few adds: cheap enough for the
// gap between two latency posts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace spark {

__extension__ typedef unsigned __int128 Uint128;  // GCC and Clang, every target we build for

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 7;
  static constexpr uint64_t kSub = 1ull << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;
  static constexpr double kRelativeError = 1.0 / (2 * kSub);  // of a bucket midpoint

  LatencyHistogram() : counts_(kBuckets, 0) {}

  void Add(uint64_t v) {
    ++counts_[Index(v)];
    ++count_;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += v;
    sumSq_ += static_cast<Uint128>(v) * v;
  }

  static size_t Index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const unsigned shift = 63 - static_cast<unsigned>(__builtin_clzll(v)) - kSubBits;
    return (static_cast<size_t>(shift + 1) << kSubBits) + static_cast<size_t>((v >> shift) - kSub);
  }
  static uint64_t Lower(size_t index) {
    if (index < kSub) return index;
    const unsigned shift = static_cast<unsigned>(index >> kSubBits) - 1;
    return ((index & (kSub - 1)) + kSub) << shift;
  }
  static uint64_t Upper(size_t index) {
    if (index < kSub) return index + 1;
    const unsigned shift = static_cast<unsigned>(index >> kSubBits) - 1;
    return ((index & (kSub - 1)) + kSub + 1) << shift;
  }

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  uint64_t bucketCount(size_t index) const { return counts_[index]; }
  double Mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // Sample (n - 1) variance, as lib/stats/moments.ts: n*sumSq - sum^2 is exact. (Its square
  // root is taken in JS: std::sqrt would add libm to the addon's needed libraries.)
  double Variance() const {
    if (count_ < 2) return 0;
    const Uint128 n = count_;
    const Uint128 num = n * sumSq_ - sum_ * sum_;
    return static_cast<double>(num) / (static_cast<double>(count_) * static_cast<double>(count_ - 1));
  }

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  Uint128 sum_ = 0;
  Uint128 sumSq_ = 0;
};

}  // namespace spark
