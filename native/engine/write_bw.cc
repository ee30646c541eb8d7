#include "engine/write_bw.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "engine/cq_events.h"
#include "engine/wr_id.h"
#include "util/clock.h"
#include "util/thread_nice.h"

namespace spark {

namespace {

constexpr int kPollBatch = 16;
// After a failure, flushes are drained until the CQ is quiet this long, or at most this long.
constexpr uint64_t kFlushQuietNs = 100000000ull;
constexpr uint64_t kFlushDeadlineNs = 2000000000ull;
// At most this much data per QP goes unsignaled, whatever signalEvery says: with 8 MiB writes,
// one signaled WR per 100 meant 800 MiB between completions (4.5 s at the 1.5 Gb/s of an
// emulated guest), and the stall deadline fired on a healthy run. signalEvery 100 still holds
// up to 64 KiB messages; above, every 8 MiB of data brings a completion. (perftest signals
// every WR above 8 KiB, except with -a.)
constexpr uint64_t kMaxUnsignaledBytes = 8ull << 20;

// Per-QP posting state for one phase. Prebuilt WR chains: the hot loop only patches wr_id
// and send_flags before each ibv_post_send.
struct QpLane {
  ibv_qp* qp = nullptr;
  uint32_t qpn = 0;
  uint64_t posted = 0;
  uint64_t completed = 0;
  uint64_t lastSignaled = 0;  // count of the newest signaled WR posted
  uint64_t target = 0;  // 0 = until time is up
  bool donePosting = false;
  uint64_t firstPostNs = 0;
  uint64_t lastCompletionNs = 0;
  std::vector<ibv_send_wr> wrs;
  std::vector<ibv_sge> sges;
};

struct Phase {
  uint64_t bytes = 0;
  uint64_t messages = 0;
  uint64_t startNs = 0;
};

[[noreturn]] void ThrowWc(const ibv_wc& wc, const QpLane& lane) {
  ErrorInfo info;
  info.code = "ERR_RDMA_WC";
  info.wcStatus = ibv_wc_status_str(wc.status);
  info.wcStatusCode = wc.status;
  info.qpn = lane.qpn;
  info.syscall = "ibv_poll_cq";
  info.message = "RDMA WRITE failed on QP " + std::to_string(lane.qpn) + ": " + info.wcStatus + " (status " +
                 std::to_string(wc.status) + ", vendor error 0x" + [&] {
                   char b[16];
                   std::snprintf(b, sizeof b, "%x", wc.vendor_err);
                   return std::string(b);
                 }() + ")";
  info.hint = WcHint(wc.status);
  throw VerbsError(std::move(info));
}

class BandwidthLoop {
 public:
  BandwidthLoop(const std::shared_ptr<CqRes>& cq, const std::vector<WriteTargetRes>& targets,
                const WriteBwParams& p, const std::atomic<bool>& stop, WriteBwResult& result)
      : cq_(cq->cq), p_(p), stop_(stop), result_(result) {
    if (p.events) events_.emplace(cq->cq, cq->channel);
    lanes_.resize(targets.size());
    bool useInline = p.inlineThreshold > 0 && p.size <= p.inlineThreshold;
    for (size_t i = 0; i < targets.size(); ++i) {
      const WriteTargetRes& t = targets[i];
      QpLane& lane = lanes_[i];
      lane.qp = t.qp->qp;
      lane.qpn = t.qp->qp->qp_num;
      useInline = useInline && p.size <= t.qp->maxInline;
      lane.wrs.resize(p.postList);
      lane.sges.resize(p.postList);
      for (uint32_t k = 0; k < p.postList; ++k) {
        ibv_sge& sge = lane.sges[k];
        sge.addr = reinterpret_cast<uint64_t>(t.local->data);
        sge.length = p.size;
        sge.lkey = t.local->mr->lkey;
        ibv_send_wr& wr = lane.wrs[k];
        wr = {};
        wr.sg_list = &sge;
        wr.num_sge = 1;
        wr.opcode = IBV_WR_RDMA_WRITE;
        wr.wr.rdma.remote_addr = t.remoteAddr;
        wr.wr.rdma.rkey = t.rkey;
        wr.next = k + 1 < p.postList ? &lane.wrs[k + 1] : nullptr;
      }
    }
    inlineFlag_ = useInline ? IBV_SEND_INLINE : 0;
    result_.inlineUsed = useInline;
    signalEvery_ = static_cast<uint32_t>(std::max<uint64_t>(1, std::min<uint64_t>(p.signalEvery, kMaxUnsignaledBytes / p.size)));
    // The window blocks a chain when posted - completed + postList > txDepth, and `completed`
    // only moves on a signaled completion: so at most txDepth - postList WRs may follow the
    // newest signaled one, or a full window holds nothing that will ever complete.
    maxUnsignaledTail_ = p.txDepth - p.postList;
  }

  // Moves the QPs to ERR and drains what they flush (see AbandonQps).
  void Abandon() {
    std::vector<ibv_qp*> qps;
    for (const QpLane& lane : lanes_) qps.push_back(lane.qp);
    AbandonQps(cq_, qps.data(), qps.size(), kFlushQuietNs, kFlushDeadlineNs);
  }

  // One phase: warm-up (timed == false) or the measured run. Returns when every lane has
  // posted its share and every signaled WR has completed.
  Phase Run(bool timed, uint64_t iterations, uint64_t durationNs,
            const std::function<void(const BwSample&)>& onSample) {
    gen_ = NextGeneration();
    for (QpLane& lane : lanes_) {
      lane.posted = lane.completed = lane.lastSignaled = 0;
      lane.target = iterations;
      lane.donePosting = false;
      lane.firstPostNs = lane.lastCompletionNs = 0;
    }
    Phase phase;
    uint64_t now = NowNs();
    phase.startNs = now;
    uint64_t endNs = durationNs > 0 ? now + durationNs : 0;
    uint64_t lastProgressNs = now;
    uint64_t intervalStart = now;
    uint64_t nextSample = now + p_.intervalNs;
    uint64_t intervalBytes = 0;
    uint64_t intervalMessages = 0;
    bool timeUp = false;
    ibv_wc wc[kPollBatch];

    for (;;) {
      timeUp = timeUp || stop_.load(std::memory_order_relaxed) || (endNs != 0 && now >= endNs);
      bool allDone = true;
      for (size_t i = 0; i < lanes_.size(); ++i) {
        QpLane& lane = lanes_[i];
        if (!lane.donePosting) PostLane(lane, i, timeUp);
        if (!lane.donePosting || lane.completed < lane.posted) allDone = false;
      }
      if (allDone) break;

      int n = ibv_poll_cq(cq_, kPollBatch, wc);
      ++result_.pollCalls;
      if (n < 0) ThrowSyscall("ibv_poll_cq", EIO, "");
      now = NowNs();
      if (n == 0) {
        ++result_.emptyPolls;
        if (now - lastProgressNs > p_.completionTimeoutNs) ThrowStall();
        if (events_) {
          // Arm, then poll once more before sleeping (see cq_events.h: the race).
          if (!events_->armed()) {
            events_->Arm();
            continue;
          }
          uint64_t wakeBy = std::min(lastProgressNs + p_.completionTimeoutNs + 1, now + kMaxEventSleepNs);
          if (endNs != 0 && !timeUp) wakeBy = std::min(wakeBy, std::max(endNs, now));
          if (timed) wakeBy = std::min(wakeBy, std::max(nextSample, now));
          events_->Wait(wakeBy > now ? wakeBy - now : 0);
          now = NowNs();
        }
      } else {
        lastProgressNs = now;
      }
      for (int k = 0; k < n; ++k) {
        const uint64_t id = wc[k].wr_id;
        // Another run's completion (a flush or a late CQE after a stall), or a corrupt id.
        if (WrId::Gen(id) != gen_ || WrId::Slot(id) >= lanes_.size()) continue;
        QpLane& lane = lanes_[WrId::Slot(id)];
        if (wc[k].status != IBV_WC_SUCCESS) ThrowWc(wc[k], lane);
        uint64_t count = WrId::Count(id);
        if (count <= lane.completed || count > lane.posted) continue;
        uint64_t delta = count - lane.completed;
        lane.completed = count;
        lane.lastCompletionNs = now;
        phase.messages += delta;
        intervalMessages += delta;
      }
      if (timed && now >= nextSample) {
        intervalBytes = intervalMessages * p_.size;
        if (onSample) onSample({now - phase.startNs, now - intervalStart, intervalBytes, intervalMessages});
        intervalStart = now;
        nextSample = now + p_.intervalNs;
        intervalMessages = 0;
      }
    }
    if (timed && intervalMessages > 0 && onSample) {
      onSample({now - phase.startNs, now - intervalStart, intervalMessages * p_.size, intervalMessages});
    }
    phase.bytes = phase.messages * p_.size;
    return phase;
  }

  void Collect(WriteBwResult& r) {
    if (events_) {
      r.eventWakeups = events_->wakeups();
      r.eventSleeps = events_->sleeps();
    }
    r.qps.clear();
    r.firstPostNs = UINT64_MAX;
    r.lastCompletionNs = 0;
    for (const QpLane& lane : lanes_) {
      QpCounters c;
      c.qpn = lane.qpn;
      c.messages = lane.completed;
      c.bytes = lane.completed * p_.size;
      c.firstPostNs = lane.firstPostNs;
      c.lastCompletionNs = lane.lastCompletionNs;
      r.qps.push_back(c);
      r.messages += c.messages;
      r.bytes += c.bytes;
      if (lane.firstPostNs != 0) r.firstPostNs = std::min(r.firstPostNs, lane.firstPostNs);
      r.lastCompletionNs = std::max(r.lastCompletionNs, lane.lastCompletionNs);
    }
    if (r.firstPostNs == UINT64_MAX) r.firstPostNs = 0;
  }

 private:
  // Posts as many chains as the window allows. When time is up, a lane whose newest WR is
  // unsignaled posts one more, signaled: its completion covers every WR before it, so the
  // phase ends with nothing left on the send queue.
  void PostLane(QpLane& lane, size_t index, bool timeUp) {
    for (;;) {
      uint64_t n = p_.postList;
      if (lane.target != 0) n = std::min<uint64_t>(n, lane.target - lane.posted);
      if (timeUp) n = std::min<uint64_t>(n, lane.posted > lane.lastSignaled ? 1 : 0);
      if (n == 0) {
        lane.donePosting = true;
        return;
      }
      if (lane.posted - lane.completed + n > p_.txDepth) return;
      uint64_t signaled = lane.lastSignaled;
      for (uint64_t k = 0; k < n; ++k) {
        uint64_t count = lane.posted + k + 1;
        bool last = lane.target != 0 && count == lane.target;
        bool chainEnd = k + 1 == n;
        bool signal = count % signalEvery_ == 0 || last || timeUp || (chainEnd && count - signaled > maxUnsignaledTail_);
        if (signal) signaled = count;
        ibv_send_wr& wr = lane.wrs[k];
        wr.wr_id = WrId::Pack(gen_, index, count);
        wr.send_flags = inlineFlag_ | (signal ? IBV_SEND_SIGNALED : 0);
        wr.next = k + 1 < n ? &lane.wrs[k + 1] : nullptr;
      }
      if (lane.posted == 0) lane.firstPostNs = NowNs();
      ibv_send_wr* bad = nullptr;
      int rc = ibv_post_send(lane.qp, lane.wrs.data(), &bad);
      lane.wrs[n - 1].next = n < p_.postList ? &lane.wrs[n] : nullptr;
      ++result_.postCalls;
      if (rc != 0) {
        ThrowSyscall("ibv_post_send", rc, "QP " + std::to_string(lane.qpn),
                     rc == ENOMEM ? "the send queue is full: tx depth exceeds what the QP was created with" : "");
      }
      lane.posted += n;
      lane.lastSignaled = signaled;
      if (lane.target != 0 && lane.posted == lane.target) {
        lane.donePosting = true;
        return;
      }
    }
  }

  [[noreturn]] void ThrowStall() {
    uint64_t outstanding = 0;
    for (const QpLane& lane : lanes_) outstanding += lane.posted - lane.completed;
    ThrowCode("ERR_RDMA_CQ_TIMEOUT",
              "no completion for " + std::to_string(p_.completionTimeoutNs / 1000000) + " ms with " +
                  std::to_string(outstanding) + " writes outstanding",
              "the link stalled: check that the rail's port is ACTIVE and the peer is alive");
  }

  ibv_cq* cq_;
  const WriteBwParams& p_;
  const std::atomic<bool>& stop_;
  WriteBwResult& result_;
  std::vector<QpLane> lanes_;
  unsigned inlineFlag_ = 0;
  uint32_t signalEvery_ = 1;  // p_.signalEvery, capped by kMaxUnsignaledBytes
  uint64_t maxUnsignaledTail_ = 0;
  uint16_t gen_ = 0;
  std::optional<CqEvents> events_;
};

}  // namespace

WriteBwResult RunWriteBandwidth(const std::shared_ptr<CqRes>& cq, const std::vector<WriteTargetRes>& targets,
                                const WriteBwParams& params, const std::atomic<bool>& stop,
                                const std::function<void(const BwSample&)>& onSample) {
  WriteBwResult result;
  if (targets.size() > WrId::kMaxSlots) ThrowCode("ERR_RDMA_INVALID_ARGUMENT", "at most 256 QPs per engine");
  // With an engine spinning on every CPU, a woken JS thread preempts one only if its vruntime
  // is far enough behind; a higher nice makes the engine's vruntime run ahead (weight 1024 at
  // nice 0 against 15 at nice 19: kernel/sched/core.c sched_prio_to_weight). That holds for an
  // engine spinning in user space (a NIC's doorbells and CQ reads); rdma_rxe does its work in
  // the kernel inside ibv_post_send, where nice changed nothing (bench/results/issue-17.md).
  result.nice = RaiseThisThreadNice(params.niceIncrement);
  BandwidthLoop loop(cq, targets, params, stop, result);
  try {
    if (params.warmupNs > 0 && !stop.load()) {
      Phase warm = loop.Run(false, 0, params.warmupNs, nullptr);
      result.warmupMessages = warm.messages;
    }
    if (!stop.load()) {
      CpuMeter meter;
      meter.Begin();
      loop.Run(true, params.iterations, params.iterations > 0 ? 0 : params.durationNs, onSample);
      result.cpu = meter.End();
    }
  } catch (...) {
    // WRs may still be in flight: stop them and reap their flushes before anyone reuses the CQ.
    loop.Abandon();
    throw;
  }
  result.stoppedEarly = stop.load();
  loop.Collect(result);
  return result;
}

}  // namespace spark
