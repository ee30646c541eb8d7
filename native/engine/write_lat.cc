#include "engine/write_lat.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "engine/cq_events.h"
#include "engine/write_bw.h"
#include "engine/stamp_log.h"
#include "engine/wr_id.h"
#include "util/clock.h"
#include "util/stopwatch.h"
#include "util/error.h"

namespace spark {

namespace {

// Exchange n carries (n + 1) mod 256, as ib_write_lat's `*post_buf = (char)++scnt` does
// (perftest src/perftest_resources.c run_iter_lat_write, 5.70 through 6.29), so that a perftest
// peer can be either end. The zeroed region never reads as an arrival: exchange 0 waits for 1,
// and the 0 of exchange 255 follows a 255 that stays in the byte until it is overwritten.
inline uint8_t SeqByte(uint64_t exchange) { return static_cast<uint8_t>(exchange + 1); }

constexpr uint32_t kClockCheckMask = 0xffff;
constexpr uint64_t kStoppedDrainNs = 200000000ull;

class PingPong {
 public:
  PingPong(const WriteLatTarget& t, const WriteLatParams& p, const std::atomic<bool>& stop, const Stopwatch& watch)
      : t_(t), p_(p), stop_(stop), watch_(watch) {
    inline_ = p.size <= p.inlineThreshold && p.size <= t.qp->maxInline;
    // Inline sends need no buffer after posting, so completions can be reaped in batches;
    // otherwise each send must complete before its source byte is rewritten.
    signalEvery_ = inline_ ? std::max<uint32_t>(1, std::min<uint32_t>(16, t.qp->maxSendWr / 2)) : 1;
    arrival_ = t.local->data + p.size - 1;
    outgoing_ = t.source->data + p.size - 1;
    sge_.addr = reinterpret_cast<uint64_t>(t.source->data);
    sge_.length = p.size;
    sge_.lkey = t.source->mr->lkey;
    wr_.sg_list = &sge_;
    wr_.num_sge = 1;
    wr_.opcode = IBV_WR_RDMA_WRITE;
    wr_.wr.rdma.remote_addr = t.remoteAddr;
    wr_.wr.rdma.rkey = t.rkey;
    if (p.events) events_.emplace(t.cq->cq, t.cq->channel);
  }

  bool inlineUsed() const { return inline_; }
  uint64_t eventWakeups() const { return events_ ? events_->wakeups() : 0; }
  uint64_t eventSleeps() const { return events_ ? events_->sleeps() : 0; }

  // Posts exchange `n`'s write and sets `postTicks` to its stamp (0 when `stamp` is false).
  // Returns false when stopped while waiting for a completion.
  bool Send(uint64_t n, bool stamp, uint64_t* postTicks) {
    while (posted_ - completed_ >= std::max<uint32_t>(1, t_.qp->maxSendWr - 1)) {
      if (!Reap(true)) return false;
    }
    bool signaled = (posted_ + 1) % signalEvery_ == 0 || !inline_;
    wr_.wr_id = WrId::Pack(gen_, 0, posted_ + 1);
    wr_.send_flags = (inline_ ? IBV_SEND_INLINE : 0) | (signaled ? IBV_SEND_SIGNALED : 0);
    ibv_send_wr* bad = nullptr;
    // Stamped right before the post, as perftest does: the whole round trip lies between two
    // stamps. (After the post is wrong on soft-RoCE: ibv_post_send itself delivers the write,
    // so the reply may already be in when the call returns, and a late stamp shortens the next
    // sample below any real round trip.)
    *postTicks = stamp ? watch_.Stamp() : 0;
    *outgoing_ = SeqByte(n);
    int rc = ibv_post_send(t_.qp->qp, &wr_, &bad);
    if (rc != 0) ThrowSyscall("ibv_post_send", rc, "latency QP " + std::to_string(t_.qp->qp->qp_num));
    ++posted_;
    if (signaled) lastSignaled_ = posted_;
    if (!inline_) {
      while (completed_ < posted_) {
        if (!Reap(true)) return false;
      }
    }
    return true;
  }

  // Ends the run with an empty send queue: inline writes are signaled one in signalEvery_, so
  // the newest may be unsignaled, and it would stay on the queue into the next run (the next
  // message size) on this QP. Re-posting the last message signaled (the same bytes the peer
  // already has) retires it; then every completion is reaped, within the peer deadline.
  void Drain() {
    if (posted_ > lastSignaled_) {
      wr_.wr_id = WrId::Pack(gen_, 0, posted_ + 1);
      wr_.send_flags = (inline_ ? IBV_SEND_INLINE : 0) | IBV_SEND_SIGNALED;
      ibv_send_wr* bad = nullptr;
      int rc = ibv_post_send(t_.qp->qp, &wr_, &bad);
      if (rc != 0) ThrowSyscall("ibv_post_send", rc, "latency QP " + std::to_string(t_.qp->qp->qp_num));
      lastSignaled_ = ++posted_;
    }
    // Stopped (Ctrl-C, or the peer went away): wait briefly, then give the QP up rather than
    // keep a stopping run waiting for a peer that may never acknowledge.
    const bool stopped = stop_.load();
    const uint64_t limitNs = stopped ? std::min<uint64_t>(p_.peerTimeoutNs, kStoppedDrainNs) : p_.peerTimeoutNs;
    const uint64_t start = NowNs();
    while (completed_ < posted_) {
      Reap(false);
      if (completed_ >= posted_ || NowNs() - start <= limitNs) continue;
      if (stopped) {
        Abandon();
        return;
      }
      ThrowCode("ERR_RDMA_CQ_TIMEOUT",
                "the last latency write did not complete within " + std::to_string(p_.peerTimeoutNs / 1000000) + " ms",
                "the link stalled: check the rail's port state and the peer");
    }
  }

  // After a failure: the QP goes to ERR and its flushes are reaped (see AbandonQps).
  void Abandon() {
    ibv_qp* qp = t_.qp->qp;
    AbandonQps(t_.cq->cq, &qp, 1, 100000000ull, 2000000000ull);
  }

  // Spins until the peer's write for exchange `n` lands. Returns false when stopped.
  bool AwaitArrival(uint64_t n) {
    const uint8_t want = SeqByte(n);
    uint64_t start = 0;  // the deadline clock starts at the first clock checkpoint
    for (uint32_t spins = 1;; ++spins) {
      if (__atomic_load_n(arrival_, __ATOMIC_ACQUIRE) == want) return true;
      if ((spins & 0x3ff) == 0) {
        if (stop_.load(std::memory_order_relaxed)) return false;
        Reap(false);
      }
      // Deadlines are seconds long, so the clock (1 us a read on hpet) is read only every 64 Ki
      // spins: a late arrival must not be made later by looking at the time.
      if ((spins & kClockCheckMask) == 0) {
        uint64_t now = NowNs();
        if (start == 0) start = now;
        if (now - start > p_.peerTimeoutNs) {
          ThrowCode("ERR_RDMA_PEER_SILENT",
                    "no write from the peer for " + std::to_string(p_.peerTimeoutNs / 1000000) + " ms (exchange " +
                        std::to_string(n) + ")",
                    "the peer stopped or its writes do not reach this region: is it running, and did it get our "
                    "address and rkey?");
        }
      }
    }
  }

 private:
  // Reaps what has completed. With `mustProgress`, waits for at least one completion and
  // returns false if stop() came first (a peer that went away never acknowledges).
  bool Reap(bool mustProgress) {
    ibv_wc wc[16];
    uint64_t start = 0;  // the clock is read every 64 Ki empty polls, as in AwaitArrival
    for (uint32_t empty = 1;; ++empty) {
      int n = ibv_poll_cq(t_.cq->cq, 16, wc);
      if (n < 0) ThrowSyscall("ibv_poll_cq", EIO, "");
      for (int k = 0; k < n; ++k) {
        // A completion of an earlier run on this CQ (see wr_id.h) is not ours to count.
        if (WrId::Gen(wc[k].wr_id) != gen_) continue;
        if (wc[k].status != IBV_WC_SUCCESS) {
          ErrorInfo info;
          info.code = "ERR_RDMA_WC";
          info.syscall = "ibv_poll_cq";
          info.wcStatus = ibv_wc_status_str(wc[k].status);
          info.wcStatusCode = wc[k].status;
          info.qpn = t_.qp->qp->qp_num;
          info.message = "RDMA WRITE failed on latency QP " + std::to_string(info.qpn) + ": " + info.wcStatus +
                         " (status " + std::to_string(wc[k].status) + ")";
          info.hint = WcHint(wc[k].status);
          throw VerbsError(std::move(info));
        }
        completed_ = std::max(completed_, std::min(WrId::Count(wc[k].wr_id), posted_));
      }
      if (n > 0 || !mustProgress) return true;
      if (events_) {
        // Arm, then poll once more before sleeping (cq_events.h: the race).
        if (!events_->armed()) {
          events_->Arm();
          continue;
        }
        if (stop_.load(std::memory_order_relaxed)) return false;
        uint64_t now = NowNs();
        if (start == 0) start = now;
        if (now - start > p_.peerTimeoutNs) ThrowCompletionTimeout();
        events_->Wait(std::min(kMaxEventSleepNs, start + p_.peerTimeoutNs + 1 - now));
        continue;
      }
      if ((empty & 0x3ff) == 0 && stop_.load(std::memory_order_relaxed)) return false;
      if ((empty & kClockCheckMask) != 0) continue;
      uint64_t now = NowNs();
      if (start == 0) start = now;
      if (now - start > p_.peerTimeoutNs) ThrowCompletionTimeout();
    }
  }

  [[noreturn]] void ThrowCompletionTimeout() const {
    ThrowCode("ERR_RDMA_CQ_TIMEOUT", "a latency write did not complete within " + std::to_string(p_.peerTimeoutNs / 1000000) + " ms",
              "the link stalled: check the rail's port state and the peer");
  }

  const WriteLatTarget& t_;
  const WriteLatParams& p_;
  const std::atomic<bool>& stop_;
  const Stopwatch& watch_;
  bool inline_ = false;
  uint32_t signalEvery_ = 1;
  volatile uint8_t* arrival_ = nullptr;
  uint8_t* outgoing_ = nullptr;
  ibv_sge sge_{};
  ibv_send_wr wr_{};
  uint64_t posted_ = 0;
  uint64_t completed_ = 0;
  uint64_t lastSignaled_ = 0;
  const uint16_t gen_ = NextGeneration();
  std::optional<CqEvents> events_;
};

}  // namespace

WriteLatResult RunWriteLatency(const WriteLatTarget& target, const WriteLatParams& p,
                               const std::atomic<bool>& stop) {
  WriteLatResult result;
  Stopwatch watch(p.timer);
  PingPong pp(target, p, stop, watch);
  result.inlineUsed = pp.inlineUsed();
  result.timerSource = watch.Source();
  const bool durationMode = p.iterations == 0;
  // The initiator's warm-up ends at the first exchange that is both past warmupIterations and
  // warmupNs after the start, so where it ends is only known when it does. A responder counts
  // exchanges only when that is fixed (warmupNs 0); otherwise it follows until stopped.
  const bool responderCounts = !p.initiator && p.warmupNs == 0 && !durationMode;
  const uint64_t responderTotal = responderCounts ? p.warmupIterations + p.iterations : UINT64_MAX;
  uint64_t warm = p.initiator && p.warmupNs == 0 ? p.warmupIterations : UINT64_MAX;  // first timed exchange
  const uint64_t startNs = NowNs();
  // The initiator's samples are the measurement; a responder stamps only when asked (the
  // perftest client's role: ib_write_lat times both ends), and never has a warm-up in time.
  const bool stamping = p.initiator || p.stampResponder;
  if (!p.initiator && stamping) warm = p.warmupIterations;
  // Post n's stamp for every timed n (warm..), then the last reply's arrival: iterations + 1.
  // Stamps are kept up to the sample budget; the histogram takes every sample from the start,
  // so a run that outgrows the budget needs no second pass (which would stall the loop).
  const uint64_t keep = p.sampleBudget + 1;
  const uint64_t expected = stamping && !durationMode ? p.iterations + 1 : stamping ? 1ull << 16 : 0;
  StampLog stamps(std::min(expected, keep));
  LatencyHistogram histogram;
  watch.Begin();
  int lastCpu = -1;
  uint64_t timedStartNs = 0;
  uint64_t recorded = 0;
  uint64_t lastTicks = 0;
  auto record = [&](uint64_t ticks) {
    if (recorded < keep) stamps.Push(ticks);
    if (recorded > 0) histogram.Add(ticks - lastTicks);
    lastTicks = ticks;
    ++recorded;
    int cpu = CurrentCpu();
    if (cpu != lastCpu && recorded > 1) ++result.cpuMigrations;
    lastCpu = cpu;
  };

  bool lastExchangeComplete = false;
  CpuMeter meter;
  meter.Begin();
  try {
    for (uint64_t n = 0; n < responderTotal; ++n) {
      // Checked first, so a stop() that came before start() ends the run before any write.
      if (stop.load(std::memory_order_relaxed)) break;
      // Warm-up exchanges are untimed, so reading the clock there costs nothing that is measured.
      if (p.initiator && warm == UINT64_MAX && n >= p.warmupIterations && NowNs() - startNs >= p.warmupNs) warm = n;
      const bool timed = stamping && n >= warm;
      uint64_t postTicks = 0;
      lastExchangeComplete = false;
      if (p.initiator) {
        if (!pp.Send(n, timed, &postTicks) || !pp.AwaitArrival(n)) break;
      } else {
        if (!pp.AwaitArrival(n) || !pp.Send(n, timed, &postTicks)) break;
      }
      lastExchangeComplete = true;
      ++result.exchanges;
      if (!timed) continue;
      // Sample i spans post i to post i+1 (perftest's definition); warm-up posts are excluded.
      record(postTicks);
      // The clock proper is read once per 256 exchanges: the end overshoots by at most that many.
      if (durationMode && (n - warm) % 256 == 0) {
        uint64_t now = NowNs();
        if (n == warm) timedStartNs = now;
        if (now - timedStartNs >= p.durationNs) break;
      }
      if (!durationMode && n - warm + 1 == p.iterations) break;
    }
    // The last sample ends when its reply arrived: that is when the next post would have been
    // (stamped before the drain, which is not part of any exchange). A responder's last post
    // has no reply to wait for: N posts give N - 1 samples, as ib_write_lat's client reports.
    if (p.initiator && lastExchangeComplete && recorded > 0) record(watch.Stamp());
    pp.Drain();
    result.cpu = meter.End();
  } catch (...) {
    // Writes may still be in flight: stop them and reap their flushes before the QP and CQ
    // are used again.
    pp.Abandon();
    throw;
  }
  result.eventWakeups = pp.eventWakeups();
  result.eventSleeps = pp.eventSleeps();
  result.warmupExchanges = warm == UINT64_MAX ? result.exchanges : warm;
  if (stamping) {
    watch.End();
    const double nsPerTick = watch.NsPerTick();
    result.timerMhz = 1000.0 / nsPerTick;
    result.nsPerHalfTick = nsPerTick / 2.0;
    if (histogram.count() > p.sampleBudget) {
      result.histogram = std::make_unique<LatencyHistogram>(std::move(histogram));
    } else {
      result.samplesNs.reserve(stamps.size());
      for (uint64_t i = 1; i < stamps.size(); ++i) {
        result.samplesNs.push_back(static_cast<double>(stamps[i] - stamps[i - 1]) * nsPerTick / 2.0);
      }
    }
  }
  const uint64_t timedExchanges = warm == UINT64_MAX ? 0 : result.exchanges - warm;
  result.stoppedEarly = stop.load() && !durationMode &&
                        (p.initiator ? timedExchanges < p.iterations : responderCounts && result.exchanges < responderTotal);
  return result;
}

}  // namespace spark
