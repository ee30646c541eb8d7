#include <infiniband/verbs.h>

#include "engine/write_bw.h"

namespace spark {

std::string WcHint(int status) {
  switch (status) {
    case IBV_WC_RETRY_EXC_ERR:
      return "the peer never acknowledged: wrong GID or GID index, no route between the rails, an MTU larger "
             "than the path allows, or the peer's port went down";
    case IBV_WC_RNR_RETRY_EXC_ERR:
      return "the peer had no receive posted (receiver not ready)";
    case IBV_WC_REM_ACCESS_ERR:
      return "the peer refused the access: wrong rkey or address, or its region lacks remote write";
    case IBV_WC_REM_INV_REQ_ERR:
      return "the peer found the request invalid: message larger than its region, or its QP lacks remote write";
    case IBV_WC_LOC_PROT_ERR:
      return "local protection error: the source region was deregistered or the lkey is wrong";
    case IBV_WC_LOC_LEN_ERR:
      return "local length error: the message exceeds the source region";
    case IBV_WC_WR_FLUSH_ERR:
      return "the QP was already in error (an earlier failure flushed this request)";
    case IBV_WC_REM_OP_ERR:
      return "the peer could not complete the operation";
    default:
      return "see ibv_wc_status in the verbs documentation";
  }
}

}  // namespace spark
