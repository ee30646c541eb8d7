// Sleeping on a CQ instead of spinning on it (perftest's -e, which blocks in ibv_get_cq_event
// before each poll: perftest src/perftest_resources.c ctx_notify_events, 4.x through 6.x).
// Here the wait is poll() on the channel's non-blocking fd with a deadline, so an engine
// thread still notices stop(), the end of its duration and its completion timeout.
//
// The race every event loop over a CQ has: a completion that lands between an empty poll and
// the request for notification raises no event. So: poll, find nothing, Arm(), poll AGAIN,
// and only sleep if that poll is empty too. Every event taken is acked at once, so destroying
// the CQ (which waits for all events to be acked) never blocks.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>

namespace spark {

class CqEvents {
 public:
  CqEvents(ibv_cq* cq, ibv_comp_channel* channel) : cq_(cq), channel_(channel) {}

  bool armed() const { return armed_; }
  // ibv_req_notify_cq: the next completion on the CQ raises an event. Throws on failure.
  void Arm();
  // Sleeps until an event or `timeoutNs`; takes and acks the event (the CQ is then disarmed).
  // Returns true when woken by an event.
  bool Wait(uint64_t timeoutNs);

  uint64_t wakeups() const { return wakeups_; }
  uint64_t sleeps() const { return sleeps_; }

 private:
  ibv_cq* cq_;
  ibv_comp_channel* channel_;
  bool armed_ = false;
  uint64_t wakeups_ = 0;
  uint64_t sleeps_ = 0;
};

// The longest single sleep: stop() is an atomic flag, not an fd, so it is seen at the latest
// this long after it was set.
constexpr uint64_t kMaxEventSleepNs = 20000000ull;

}  // namespace spark
