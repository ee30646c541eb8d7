#include "verbs/resources.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/resource.h>

#include "util/error.h"

namespace spark {

void Parent::RequireNoChildren(const std::string& self, const std::string& childKind) const {
  int n = Children();
  if (n > 0) {
    ThrowCode("ERR_RDMA_BUSY",
              "cannot close the " + self + ": " + std::to_string(n) + " " + childKind +
                  (n == 1 ? " is" : " are") + " still open",
              "close the children first (queue pairs, then regions and CQs, then PDs)");
  }
}

std::shared_ptr<ContextRes> ContextRes::Open(const std::string& device) {
  int count = 0;
  ibv_device** list = ibv_get_device_list(&count);
  if (list == nullptr && errno != ENOSYS && errno != ENOENT) ThrowSyscall("ibv_get_device_list", errno, "");
  ibv_device* found = nullptr;
  std::string names;
  for (int i = 0; i < count; ++i) {
    const char* n = ibv_get_device_name(list[i]);
    if (device == n) found = list[i];
    names += (names.empty() ? "" : ", ") + std::string(n);
  }
  if (found == nullptr) {
    if (list != nullptr) ibv_free_device_list(list);
    ThrowCode("ERR_RDMA_NO_DEVICE",
              "no RDMA device named '" + device + "'" +
                  (count == 0 ? " (this machine has none)" : " (devices: " + names + ")"),
              count == 0 ? "create soft-RoCE devices with `rdma link add rxe0 type rxe netdev <if>` or use `npm run vm`"
                         : "pick one of the listed devices (spark-rdma devices)");
  }
  ibv_context* ctx = ibv_open_device(found);
  int err = errno;
  ibv_free_device_list(list);
  if (ctx == nullptr) {
    ThrowSyscall("ibv_open_device", err, device,
                 "check that /dev/infiniband/uverbs* exists and is readable and writable by this user");
  }
  auto res = std::make_shared<ContextRes>();
  res->ctx = ctx;
  res->name = device;
  return res;
}

std::shared_ptr<ContextRes> ContextRes::Borrow(ibv_context* ctx, std::shared_ptr<CmIdRes> owner) {
  auto res = std::make_shared<ContextRes>();
  res->ctx = ctx;
  res->name = ibv_get_device_name(ctx->device);
  res->borrowedFrom = std::move(owner);
  return res;
}

void ContextRes::Close() {
  if (ctx == nullptr) return;
  if (!borrowedFrom) ibv_close_device(ctx);
  ctx = nullptr;
  borrowedFrom.reset();
}

PdRes::PdRes(std::shared_ptr<ContextRes> ctx) : context(std::move(ctx)) {
  pd = ibv_alloc_pd(context->ctx);
  if (pd == nullptr) ThrowSyscall("ibv_alloc_pd", errno, context->name);
  context->AddChild();
}

void PdRes::Close() {
  if (pd == nullptr) return;
  ibv_dealloc_pd(pd);
  pd = nullptr;
  context->RemoveChild();
}

AlignedMemory::AlignedMemory(size_t bytes) : size(bytes) {
  if (posix_memalign(&data, 4096, bytes == 0 ? 1 : bytes) != 0) {
    data = nullptr;
    ThrowCode("ERR_RDMA_NO_MEMORY", "cannot allocate " + std::to_string(bytes) + " bytes of host memory");
  }
  std::memset(data, 0, bytes);
}

AlignedMemory::~AlignedMemory() { std::free(data); }

static std::string MemlockLimitText() {
  rlimit lim{};
  if (getrlimit(RLIMIT_MEMLOCK, &lim) != 0) return "unknown";
  if (lim.rlim_cur == RLIM_INFINITY) return "unlimited";
  return std::to_string(lim.rlim_cur / 1024) + " KiB";
}

MrRes::MrRes(std::shared_ptr<PdRes> parent, uint8_t* bytes, size_t size, int access,
             std::shared_ptr<AlignedMemory> memory)
    : pd(std::move(parent)), owned(std::move(memory)), data(bytes), length(size) {
  mr = ibv_reg_mr(pd->pd, bytes, size, access);
  if (mr == nullptr) {
    int err = errno;
    if (err == ENOMEM || err == EPERM || err == EAGAIN) {
      ErrorInfo info;
      info.code = "ERR_RDMA_MEMLOCK";
      info.errnum = err;
      info.syscall = "ibv_reg_mr";
      info.message = "registering " + std::to_string(size) + " bytes failed: " + std::strerror(err) +
                     " (" + ErrnoName(err) + "); the locked-memory limit (ulimit -l) is " + MemlockLimitText();
      info.hint = "raise it: `ulimit -l unlimited` (or memlock in /etc/security/limits.conf; "
                  "docker: --ulimit memlock=-1), or register less (fewer QPs, smaller messages)";
      throw VerbsError(std::move(info));
    }
    ThrowSyscall("ibv_reg_mr", err, std::to_string(size) + " bytes");
  }
  pd->AddChild();
}

void MrRes::Close() {
  if (mr == nullptr) return;
  ibv_dereg_mr(mr);
  mr = nullptr;
  pd->RemoveChild();
}

CqRes::CqRes(std::shared_ptr<ContextRes> ctx, int requestedDepth, bool withChannel) : context(std::move(ctx)) {
  if (withChannel) {
    channel = ibv_create_comp_channel(context->ctx);
    if (channel == nullptr) ThrowSyscall("ibv_create_comp_channel", errno, "", "the process may be out of file descriptors (ulimit -n)");
    int flags = fcntl(channel->fd, F_GETFL);
    if (flags < 0 || fcntl(channel->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      int err = errno;
      ibv_destroy_comp_channel(channel);
      channel = nullptr;
      ThrowSyscall("fcntl", err, "completion channel fd");
    }
  }
  cq = ibv_create_cq(context->ctx, requestedDepth, nullptr, channel, 0);
  if (cq == nullptr) {
    int err = errno;
    if (channel != nullptr) ibv_destroy_comp_channel(channel);
    channel = nullptr;
    ThrowSyscall("ibv_create_cq", err, std::to_string(requestedDepth) + " entries",
                 "the depth may exceed the device's max_cqe (spark-rdma devices --json shows limits)");
  }
  depth = cq->cqe;
  context->AddChild();
}

// Engines ack every event they take (CqEvents::Wait), so ibv_destroy_cq, which waits for all
// events to be acked, does not block here; the channel goes after the CQ that uses it.
void CqRes::Close() {
  if (cq == nullptr) return;
  ibv_destroy_cq(cq);
  cq = nullptr;
  if (channel != nullptr) ibv_destroy_comp_channel(channel);
  channel = nullptr;
  context->RemoveChild();
}

QpRes::QpRes(std::shared_ptr<PdRes> parent, std::shared_ptr<CqRes> completions, ibv_qp* created,
             std::shared_ptr<CmIdRes> owner)
    : qp(created), psn(RandomPsn()), pd(std::move(parent)), cq(std::move(completions)),
      cmId(owner ? owner->id : nullptr), cmOwner(std::move(owner)) {
  pd->AddChild();
  cq->AddChild();
}

void QpRes::Close() {
  if (qp == nullptr) return;
  if (cmId != nullptr) {
    rdma_destroy_qp(cmId);
  } else {
    ibv_destroy_qp(qp);
  }
  qp = nullptr;
  cmId = nullptr;
  pd->RemoveChild();
  cq->RemoveChild();
}

CmIdRes::CmIdRes() {
  channel = rdma_create_event_channel();
  if (channel == nullptr) ThrowSyscall("rdma_create_event_channel", errno, "", "is the rdma_ucm module loaded?");
  if (rdma_create_id(channel, &id, nullptr, RDMA_PS_TCP) != 0) {
    int err = errno;
    rdma_destroy_event_channel(channel);
    channel = nullptr;
    ThrowSyscall("rdma_create_id", err, "");
  }
}

CmIdRes::CmIdRes(rdma_cm_id* adopted, rdma_event_channel* ownChannel) : channel(ownChannel), id(adopted) {}

bool CmIdRes::qpBusy() const {
  auto q = qp.lock();
  return q && q->busy.load() > 0;
}

bool CmIdRes::Close() {
  std::lock_guard<std::mutex> lock(mutex);
  if (id == nullptr) return true;
  if (qpBusy()) return false;
  if (connected) rdma_disconnect(id);
  if (auto q = qp.lock()) q->Close();
  rdma_destroy_id(id);
  id = nullptr;
  if (channel != nullptr) rdma_destroy_event_channel(channel);
  channel = nullptr;
  return true;
}

uint32_t RandomPsn() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  return (gen() & 0xffffff) | 1;
}

}  // namespace spark
