// The latency loop's record of post times, in counter ticks. Storage comes in chunks whose
// pages are touched when the chunk is made, so the timed loop never takes a page fault or
// copies a growing vector (either would show up as a false outlier in the tail).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace spark {

class StampLog {
 public:
  /** Prepares room for `expected` stamps up front (at most kMaxPrepared; beyond, chunks are added as needed). */
  explicit StampLog(uint64_t expected) {
    uint64_t prepared = expected < kMaxPrepared ? expected : kMaxPrepared;
    while (capacity_ < prepared) AddChunk();
  }

  void Push(uint64_t ticks) {
    if (size_ == capacity_) AddChunk();
    chunks_[size_ >> kChunkShift][size_ & kChunkMask] = ticks;
    ++size_;
  }

  uint64_t size() const { return size_; }
  uint64_t operator[](uint64_t i) const { return chunks_[i >> kChunkShift][i & kChunkMask]; }

 private:
  static constexpr unsigned kChunkShift = 16;  // 64 Ki stamps, 512 KiB a chunk
  static constexpr uint64_t kChunkSize = 1ull << kChunkShift;
  static constexpr uint64_t kChunkMask = kChunkSize - 1;
  static constexpr uint64_t kMaxPrepared = 16 * kChunkSize;

  // new T[n]() zero-fills, which is what touches the pages now rather than mid-run.
  void AddChunk() {
    chunks_.emplace_back(new uint64_t[kChunkSize]());
    capacity_ += kChunkSize;
  }

  std::vector<std::unique_ptr<uint64_t[]>> chunks_;
  uint64_t size_ = 0;
  uint64_t capacity_ = 0;
};

}  // namespace spark
