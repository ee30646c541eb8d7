// Work-request ids the engines can trust. A QP and its CQ outlive one engine run (one message
// size), so a completion may belong to an earlier run that stalled or failed: every run takes
// a fresh generation, and a completion from another generation, QP slot or count range is
// ignored instead of being counted (a stale count would wrap `count - completed`).
#pragma once

#include <infiniband/verbs.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace spark {

// wr_id = generation (16 bits) | QP slot (8 bits) | count within the run (40 bits: a day at
// twelve million messages a second on one QP).
struct WrId {
  static constexpr int kSlotShift = 40;
  static constexpr int kGenShift = 48;
  static constexpr uint64_t kCountMask = (1ull << kSlotShift) - 1;
  static constexpr uint64_t kMaxSlots = 256;

  static uint64_t Pack(uint16_t gen, uint64_t slot, uint64_t count) {
    return static_cast<uint64_t>(gen) << kGenShift | slot << kSlotShift | count;
  }
  static uint16_t Gen(uint64_t id) { return static_cast<uint16_t>(id >> kGenShift); }
  static uint64_t Slot(uint64_t id) { return (id >> kSlotShift) & 0xff; }
  static uint64_t Count(uint64_t id) { return id & kCountMask; }
};

// A generation no run in this process has used recently (wraps after 65,536 runs, by then
// every earlier run's completions have long been reaped or flushed).
inline uint16_t NextGeneration() {
  static std::atomic<uint16_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// After a failure: moves each QP to ERR so nothing more goes on the wire, then polls the CQ
// until it stays empty for `quietNs` (flushed WRs complete with IBV_WC_WR_FLUSH_ERR) or
// `deadlineNs` passes. Never throws: the failure that got us here is what the caller reports.
void AbandonQps(ibv_cq* cq, ibv_qp* const* qps, size_t count, uint64_t quietNs, uint64_t deadlineNs);

}  // namespace spark
