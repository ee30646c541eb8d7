#include "verbs/qp_connect.h"

#include <cerrno>

#include "util/error.h"

namespace spark {

std::string QpStateName(ibv_qp_state state) {
  switch (state) {
    case IBV_QPS_RESET: return "RESET";
    case IBV_QPS_INIT: return "INIT";
    case IBV_QPS_RTR: return "RTR";
    case IBV_QPS_RTS: return "RTS";
    case IBV_QPS_SQD: return "SQD";
    case IBV_QPS_SQE: return "SQE";
    case IBV_QPS_ERR: return "ERR";
    default: return "UNKNOWN";
  }
}

ibv_qp* CreateRcQp(ibv_pd* pd, ibv_cq* cq, uint32_t maxSendWr, uint32_t maxRecvWr, uint32_t maxInline,
                   uint32_t* grantedInline) {
  ibv_qp_init_attr attr{};
  attr.send_cq = cq;
  attr.recv_cq = cq;
  attr.qp_type = IBV_QPT_RC;
  attr.sq_sig_all = 0;  // selective signaling: the engine decides per WR
  attr.cap.max_send_wr = maxSendWr;
  attr.cap.max_recv_wr = maxRecvWr;
  attr.cap.max_send_sge = 1;
  attr.cap.max_recv_sge = 1;
  attr.cap.max_inline_data = maxInline;
  ibv_qp* qp = ibv_create_qp(pd, &attr);
  if (qp == nullptr) {
    ThrowSyscall("ibv_create_qp", errno,
                 "RC, max_send_wr " + std::to_string(maxSendWr) + ", max_inline_data " + std::to_string(maxInline),
                 "the tx depth may exceed max_qp_wr or the inline size the device supports (spark-rdma devices --json)");
  }
  *grantedInline = attr.cap.max_inline_data;
  return qp;
}

void ConnectRc(ibv_qp* qp, uint32_t localPsn, const RcPeer& peer, const RcLocal& local) {
  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = local.port;
  // The minimum a write test needs: the peer may write into our registered regions.
  attr.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
  if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS) != 0) {
    ThrowSyscall("ibv_modify_qp", errno, "RESET->INIT, port " + std::to_string(local.port),
                 "the port number may not exist on this device");
  }

  attr = {};
  attr.qp_state = IBV_QPS_RTR;
  attr.path_mtu = peer.mtu;
  attr.dest_qp_num = peer.qpn;
  attr.rq_psn = peer.psn;
  attr.max_dest_rd_atomic = 1;
  attr.min_rnr_timer = 12;
  attr.ah_attr.is_global = 1;
  attr.ah_attr.grh.dgid = peer.gid;
  attr.ah_attr.grh.sgid_index = local.gidIndex;
  attr.ah_attr.grh.hop_limit = 64;
  attr.ah_attr.grh.traffic_class = local.trafficClass;
  attr.ah_attr.sl = 0;
  attr.ah_attr.port_num = local.port;
  if (ibv_modify_qp(qp, &attr,
                    IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                        IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER) != 0) {
    ThrowSyscall("ibv_modify_qp", errno, "INIT->RTR, gid index " + std::to_string(local.gidIndex),
                 "check the local GID index (it must exist on this port: spark-rdma devices), the peer's GID "
                 "(is it routable from this rail?) and that the MTU does not exceed the port's active MTU");
  }

  attr = {};
  attr.qp_state = IBV_QPS_RTS;
  attr.timeout = local.timeout;
  attr.retry_cnt = local.retryCount;
  attr.rnr_retry = 7;
  attr.sq_psn = localPsn;
  attr.max_rd_atomic = 1;
  if (ibv_modify_qp(qp, &attr,
                    IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
                        IBV_QP_MAX_QP_RD_ATOMIC) != 0) {
    ThrowSyscall("ibv_modify_qp", errno, "RTR->RTS");
  }
}

}  // namespace spark
