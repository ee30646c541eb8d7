// CLOCK_MONOTONIC_RAW: not slewed by NTP, no CPU-frequency guessing, and portable to aarch64
// (perftest's rdtsc path is x86-only). Read through the vDSO: ~20 ns a call.
#pragma once

#include <cstdint>
#include <ctime>

namespace spark {

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace spark

namespace spark {

// CPU time the calling thread has used (user + system), from its own clock: what an engine
// thread cost, wherever the scheduler put it.
inline uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The CPU an engine thread used over a span of wall time (both ns).
struct CpuSpan {
  uint64_t threadNs = 0;
  uint64_t wallNs = 0;
};

// Measures one span: Begin() and End() on the engine thread itself.
class CpuMeter {
 public:
  void Begin() {
    cpu0_ = ThreadCpuNs();
    wall0_ = NowNs();
  }
  CpuSpan End() const { return {ThreadCpuNs() - cpu0_, NowNs() - wall0_}; }

 private:
  uint64_t cpu0_ = 0;
  uint64_t wall0_ = 0;
};

}  // namespace spark
