// The RDMA WRITE bandwidth loop: plain C++ on its own thread, no N-API inside.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "util/clock.h"
#include "util/error.h"
#include "verbs/resources.h"

namespace spark {

struct WriteBwParams {
  uint32_t size = 65536;
  uint32_t txDepth = 128;
  uint32_t postList = 1;
  uint32_t signalEvery = 100;
  uint32_t inlineThreshold = 0;
  uint64_t iterations = 0;   // per QP; 0 = duration mode
  uint64_t durationNs = 0;
  uint64_t warmupNs = 0;
  uint64_t intervalNs = 1000000000ull;
  uint64_t completionTimeoutNs = 5000000000ull;
  bool events = false;  // sleep on the CQ's completion channel instead of spinning
  int niceIncrement = 0;  // added to the engine thread's nice value (0..19), see RunWriteBandwidth
};

struct WriteTargetRes {
  std::shared_ptr<QpRes> qp;
  std::shared_ptr<MrRes> local;
  uint64_t remoteAddr = 0;
  uint32_t rkey = 0;
};

struct BwSample {
  uint64_t tNs = 0;
  uint64_t intervalNs = 0;
  uint64_t bytes = 0;
  uint64_t messages = 0;
};

struct QpCounters {
  uint32_t qpn = 0;
  uint64_t bytes = 0;
  uint64_t messages = 0;
  uint64_t firstPostNs = 0;
  uint64_t lastCompletionNs = 0;
};

struct WriteBwResult {
  std::vector<QpCounters> qps;
  uint64_t bytes = 0;
  uint64_t messages = 0;
  uint64_t firstPostNs = 0;
  uint64_t lastCompletionNs = 0;
  uint64_t warmupMessages = 0;
  bool stoppedEarly = false;
  uint64_t postCalls = 0;
  uint64_t pollCalls = 0;
  uint64_t emptyPolls = 0;
  bool inlineUsed = false;
  uint64_t eventWakeups = 0;  // events mode: sleeps ended by a completion event
  uint64_t eventSleeps = 0;   // events mode: sleeps on the channel (some end at a deadline)
  int nice = 0;               // the engine thread's nice value while it ran
  CpuSpan cpu;  // the engine thread's CPU over the timed phase
};

// Runs warm-up then the timed phase. Throws VerbsError on a failed completion or a stall.
// `stop` ends the current phase at the next signaled boundary; `onSample` runs on this thread.
WriteBwResult RunWriteBandwidth(const std::shared_ptr<CqRes>& cq, const std::vector<WriteTargetRes>& targets,
                                const WriteBwParams& params, const std::atomic<bool>& stop,
                                const std::function<void(const BwSample&)>& onSample);

// Hint for a failed work completion, keyed by ibv_wc_status.
std::string WcHint(int status);

}  // namespace spark
