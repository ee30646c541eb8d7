// The CPU's free-running counter (x86 TSC, aarch64 CNTVCT_EL0), for where clock_gettime is
// too slow to stamp with (see util/stopwatch.h). Unlike perftest's get_cycles(), its rate is
// not read from /proc/cpuinfo: it is measured against CLOCK_MONOTONIC_RAW over the run itself,
// so a wrong "cpu MHz" cannot skew a result, and every figure stays in CLOCK_MONOTONIC_RAW's ns.
// Both architectures have a path; anything else reads the clock itself.
#pragma once

#include <sched.h>

#include <cstdint>

#include "util/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace spark {

inline uint64_t ReadCycles() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#elif defined(__aarch64__)
  uint64_t ticks;
  // isb: the read is not hoisted above the loads and stores before it.
  asm volatile("isb; mrs %0, cntvct_el0" : "=r"(ticks) : : "memory");
  return ticks;
#else
  return NowNs();
#endif
}

/** What ReadCycles() reads, as reported with a latency result that used it. */
inline const char* CycleSourceName() {
#if defined(__x86_64__) || defined(__i386__)
  return "tsc";
#elif defined(__aarch64__)
  return "cntvct";
#else
  return "monotonic_raw";
#endif
}

// Ticks to ns from two (ticks, ns) anchors. Each anchor brackets its clock read by two counter
// reads and takes their midpoint, so a slow clock read (1 us on hpet) costs at most half of
// itself in error per anchor; the window is stretched to kMinWindowNs so that error stays
// below 1e-4 of the rate.
class CycleCalibration {
 public:
  static constexpr uint64_t kMinWindowNs = 20'000'000;

  void Begin() { begin_ = Anchor(); }

  void End() {
    while (NowNs() - begin_.ns < kMinWindowNs) {
    }
    end_ = Anchor();
  }

  double NsPerTick() const { return Rate(begin_, end_); }

 private:
  struct Point {
    double ticks = 0;
    uint64_t ns = 0;
  };

  static Point Anchor() {
    uint64_t before = ReadCycles();
    uint64_t ns = NowNs();
    uint64_t after = ReadCycles();
    return {static_cast<double>(before) / 2 + static_cast<double>(after) / 2, ns};
  }

  static double Rate(const Point& a, const Point& b) {
    double ticks = b.ticks - a.ticks;
    return ticks > 0 ? static_cast<double>(b.ns - a.ns) / ticks : 1.0;
  }

  Point begin_;
  Point end_;
};

/** The CPU this thread runs on (glibc answers from rseq: 16 ns in the TCG guest). -1 when unknown. */
inline int CurrentCpu() { return sched_getcpu(); }

}  // namespace spark
