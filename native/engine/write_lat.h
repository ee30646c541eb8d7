// The ib_write_lat method: each side RDMA-WRITEs to the peer and spins on the last byte of
// its own region; one sample is half the time between two successive posts.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "engine/latency_histogram.h"
#include "util/clock.h"
#include "util/stopwatch.h"
#include "verbs/resources.h"

namespace spark {

struct WriteLatParams {
  uint32_t size = 2;
  uint32_t inlineThreshold = 220;  // perftest's default for write latency
  uint64_t iterations = 0;         // 0 = duration mode
  uint64_t durationNs = 0;
  uint64_t warmupIterations = 0;
  uint64_t warmupNs = 0;  // the warm-up also lasts at least this long (initiator)
  bool initiator = true;
  uint64_t sampleBudget = 10000000;  // beyond this many samples, percentiles come from a histogram
  bool stampResponder = false;  // a responder stamps its posts too (samples between them)
  uint64_t peerTimeoutNs = 5000000000ull;
  TimerChoice timer = TimerChoice::Auto;
  bool events = false;  // wait for send completions on the CQ's channel (the arrival still spins)
};

struct WriteLatTarget {
  std::shared_ptr<CqRes> cq;
  std::shared_ptr<QpRes> qp;
  std::shared_ptr<MrRes> local;   // the peer writes here; we spin on its last byte
  std::shared_ptr<MrRes> source;  // what we send
  uint64_t remoteAddr = 0;
  uint32_t rkey = 0;
};

struct WriteLatResult {
  std::vector<double> samplesNs;  // the initiator's only; empty when `histogram` is set
  // Set when the run had more samples than params.sampleBudget: bucket bounds are in ticks of
  // a round trip, nsPerHalfTick turns them (and min, max, mean, stdev) into one-way ns.
  std::unique_ptr<LatencyHistogram> histogram;
  double nsPerHalfTick = 0;
  uint64_t exchanges = 0;
  uint64_t warmupExchanges = 0;
  bool stoppedEarly = false;
  bool inlineUsed = false;
  const char* timerSource = "";  // what the stamps were read from (util/stopwatch.h)
  double timerMhz = 0;           // ticks per us: 1000 for the clock, else measured over this run
  uint64_t cpuMigrations = 0;    // timed samples whose two stamps came from different CPUs
  CpuSpan cpu;                   // the engine thread's CPU over the whole loop, warm-up included
  uint64_t eventWakeups = 0;     // events mode: sleeps ended by a completion event
  uint64_t eventSleeps = 0;
};

WriteLatResult RunWriteLatency(const WriteLatTarget& target, const WriteLatParams& params,
                               const std::atomic<bool>& stop);

}  // namespace spark
