// Waiting for rdma_cm events with a deadline (librdmacm itself would block forever).
#pragma once

#include <rdma/rdma_cma.h>

#include <atomic>
#include <string>
#include <vector>

namespace spark {

struct CmEventResult {
  rdma_cm_id* id = nullptr;  // for CONNECT_REQUEST: the new connection's id
  std::vector<uint8_t> privateData;
};

// Waits for `expected` on `channel`; any other event is an error that names it. Polls in
// short slices so `cancel` ends the wait promptly (environment teardown).
CmEventResult WaitCmEvent(rdma_event_channel* channel, rdma_cm_event_type expected, int timeoutMs,
                          const std::string& step, const std::atomic<bool>& cancel);

}  // namespace spark
