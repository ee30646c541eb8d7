#include "engine/cq_events.h"

#include <poll.h>

#include <cerrno>
#include <ctime>

#include "util/error.h"

namespace spark {

void CqEvents::Arm() {
  int rc = ibv_req_notify_cq(cq_, 0);
  if (rc != 0) ThrowSyscall("ibv_req_notify_cq", rc, "", "");
  armed_ = true;
}

bool CqEvents::Wait(uint64_t timeoutNs) {
  ++sleeps_;
  pollfd pfd{channel_->fd, POLLIN, 0};
  timespec ts{static_cast<time_t>(timeoutNs / 1000000000ull), static_cast<long>(timeoutNs % 1000000000ull)};
  int ready = ppoll(&pfd, 1, &ts, nullptr);
  if (ready < 0) {
    if (errno == EINTR) return false;
    ThrowSyscall("ppoll", errno, "completion channel");
  }
  if (ready == 0) return false;
  ibv_cq* evCq = nullptr;
  void* evCtx = nullptr;
  // Non-blocking fd: EAGAIN when another reader took the event first (none here, but harmless).
  if (ibv_get_cq_event(channel_, &evCq, &evCtx) != 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    ThrowSyscall("ibv_get_cq_event", errno, "completion channel");
  }
  ibv_ack_cq_events(evCq, 1);
  if (evCq == cq_) armed_ = false;
  ++wakeups_;
  return true;
}

}  // namespace spark
