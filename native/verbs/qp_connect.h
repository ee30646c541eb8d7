// The RC state machine: RESET -> INIT -> RTR -> RTS, given what the peer told us.
#pragma once

#include <infiniband/verbs.h>

#include <string>

namespace spark {

struct RcPeer {
  uint32_t qpn = 0;
  uint32_t psn = 0;
  ibv_gid gid{};
  ibv_mtu mtu = IBV_MTU_1024;
};

struct RcLocal {
  uint8_t port = 1;
  uint8_t gidIndex = 0;
  uint8_t timeout = 14;     // 4.096 us * 2^14 = 67 ms per try
  uint8_t retryCount = 7;
  uint8_t trafficClass = 0;
};

void ConnectRc(ibv_qp* qp, uint32_t localPsn, const RcPeer& peer, const RcLocal& local);
std::string QpStateName(ibv_qp_state state);
ibv_qp* CreateRcQp(ibv_pd* pd, ibv_cq* cq, uint32_t maxSendWr, uint32_t maxRecvWr, uint32_t maxInline,
                   uint32_t* grantedInline);

}  // namespace spark
