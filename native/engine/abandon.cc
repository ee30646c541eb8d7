#include "engine/wr_id.h"

#include "util/clock.h"

namespace spark {

void AbandonQps(ibv_cq* cq, ibv_qp* const* qps, size_t count, uint64_t quietNs, uint64_t deadlineNs) {
  for (size_t i = 0; i < count; ++i) {
    ibv_qp_attr attr{};
    attr.qp_state = IBV_QPS_ERR;
    ibv_modify_qp(qps[i], &attr, IBV_QP_STATE);  // best effort: a QP already in ERR stays there
  }
  ibv_wc wc[16];
  const uint64_t start = NowNs();
  uint64_t lastSeen = start;
  for (;;) {
    int n = ibv_poll_cq(cq, 16, wc);
    uint64_t now = NowNs();
    if (n > 0) lastSeen = now;
    if (n < 0 || now - lastSeen >= quietNs || now - start >= deadlineNs) return;
  }
}

}  // namespace spark
