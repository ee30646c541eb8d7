#include "verbs/cm_events.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "util/clock.h"
#include "util/error.h"

namespace spark {

static std::string HintFor(rdma_cm_event_type type, int status) {
  switch (type) {
    case RDMA_CM_EVENT_ADDR_ERROR:
      return "the address is not reachable through an RDMA device: is the source address on a rail's netdev?";
    case RDMA_CM_EVENT_ROUTE_ERROR:
      return "no route to the peer through this rail: check the peer address and the netdev's subnet";
    case RDMA_CM_EVENT_UNREACHABLE:
      return "the peer did not answer: wrong address, the peer's netdev is down, or traffic is filtered";
    case RDMA_CM_EVENT_REJECTED:
      return status == 28 ? "nothing listens on that rdma_cm port on the peer (start the server with --cm)"
                          : "the peer rejected the connection";
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
      return "the RDMA device went away (rxe link deleted or driver unloaded)";
    default:
      return "";
  }
}

CmEventResult WaitCmEvent(rdma_event_channel* channel, rdma_cm_event_type expected, int timeoutMs,
                          const std::string& step, const std::atomic<bool>& cancel) {
  const uint64_t deadline = NowNs() + static_cast<uint64_t>(timeoutMs) * 1000000ull;
  for (;;) {
    if (cancel.load()) ThrowCode("ERR_RDMA_CANCELLED", step + " was cancelled (the object was closed)");
    uint64_t now = NowNs();
    if (now >= deadline) {
      ThrowCode("ERR_RDMA_CM_TIMEOUT", step + " did not finish within " + std::to_string(timeoutMs) + " ms",
                "is the peer running and reachable on this rail? (rdma_cm needs the peer's address to be on an RDMA netdev)");
    }
    int slice = static_cast<int>(std::min<uint64_t>((deadline - now) / 1000000ull + 1, 100));
    pollfd pfd{channel->fd, POLLIN, 0};
    int ready = poll(&pfd, 1, slice);
    if (ready < 0 && errno != EINTR) ThrowSyscall("poll", errno, "rdma_cm event channel");
    if (ready <= 0) continue;
    rdma_cm_event* event = nullptr;
    if (rdma_get_cm_event(channel, &event) != 0) ThrowSyscall("rdma_get_cm_event", errno, step);
    rdma_cm_event_type type = event->event;
    int status = event->status;
    CmEventResult result;
    result.id = event->id;
    if (event->param.conn.private_data != nullptr && event->param.conn.private_data_len > 0) {
      auto* p = static_cast<const uint8_t*>(event->param.conn.private_data);
      result.privateData.assign(p, p + event->param.conn.private_data_len);
    }
    rdma_ack_cm_event(event);
    if (type == expected) return result;
    ErrorInfo info;
    info.code = "ERR_RDMA_CM";
    info.errnum = status < 0 ? -status : 0;
    info.syscall = "rdma_get_cm_event";
    info.message = step + ": expected " + rdma_event_str(expected) + " but got " + rdma_event_str(type) +
                   " (status " + std::to_string(status) + ")";
    info.hint = HintFor(type, status);
    throw VerbsError(std::move(info));
  }
}

}  // namespace spark
