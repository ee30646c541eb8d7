// The latency loop's stopwatch. Time comes from CLOCK_MONOTONIC_RAW, read directly where that
// is cheap (the vDSO over the TSC or the arm64 generic timer: ~20-30 ns). Where the kernel's
// clocksource makes each read a device access (hpet or acpi_pm in an emulated guest: ~1.2 us,
// a sixth of a soft-RoCE round trip), stamps come from the CPU counter instead and are scaled
// to CLOCK_MONOTONIC_RAW by a rate measured over the run (util/cycles.h).
#pragma once

#include <cstdint>

#include "util/clock.h"
#include "util/cycles.h"

namespace spark {

enum class TimerChoice { Auto, Clock, Counter };

class Stopwatch {
 public:
  // A clock read slower than this would be a visible part of a microsecond sample.
  static constexpr double kSlowClockNs = 200;

  explicit Stopwatch(TimerChoice choice) {
    useCounter_ = choice == TimerChoice::Counter || (choice == TimerChoice::Auto && ClockReadNs() > kSlowClockNs);
  }

  /** A post time: ns, or counter ticks; differences become ns through NsPerTick(). */
  uint64_t Stamp() const { return useCounter_ ? ReadCycles() : NowNs(); }

  void Begin() {
    if (useCounter_) calibration_.Begin();
  }
  void End() {
    if (useCounter_) calibration_.End();
  }
  double NsPerTick() const { return useCounter_ ? calibration_.NsPerTick() : 1.0; }
  const char* Source() const { return useCounter_ ? CycleSourceName() : "monotonic_raw"; }

  /** What one clock_gettime(CLOCK_MONOTONIC_RAW) costs here, over 32 reads. */
  static double ClockReadNs() {
    constexpr int kReads = 32;
    uint64_t first = NowNs();
    uint64_t last = first;
    for (int i = 0; i < kReads; ++i) last = NowNs();
    return static_cast<double>(last - first) / kReads;
  }

 private:
  bool useCounter_ = false;
  CycleCalibration calibration_;
};

}  // namespace spark
