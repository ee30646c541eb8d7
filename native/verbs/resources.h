// Plain C++ owners of verbs objects, shared between the JS wrappers and the engine threads.
// A child holds a shared_ptr to its parent, so destruction order is always right; close() is
// explicit and refuses while children are open, which is what the JS API promises.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace spark {

// Counts open children and names them in the refusal ("3 queue pairs").
class Parent {
 public:
  void AddChild() { ++children_; }
  void RemoveChild() { --children_; }
  int Children() const { return children_.load(); }
  // Throws ERR_RDMA_BUSY when children are still open.
  void RequireNoChildren(const std::string& self, const std::string& childKind) const;

 private:
  std::atomic<int> children_{0};
};

struct CmIdRes;

struct ContextRes : Parent {
  ibv_context* ctx = nullptr;
  std::string name;
  std::shared_ptr<CmIdRes> borrowedFrom;  // set when the context belongs to rdma_cm

  static std::shared_ptr<ContextRes> Open(const std::string& device);
  static std::shared_ptr<ContextRes> Borrow(ibv_context* ctx, std::shared_ptr<CmIdRes> owner);
  void Close();
  bool closed() const { return ctx == nullptr; }
  ~ContextRes() { Close(); }
};

struct PdRes : Parent {
  ibv_pd* pd = nullptr;
  std::shared_ptr<ContextRes> context;

  explicit PdRes(std::shared_ptr<ContextRes> ctx);
  void Close();
  bool closed() const { return pd == nullptr; }
  ~PdRes() { Close(); }
};

// Page-aligned, zeroed host memory; shared so a JS view may outlive the region safely.
struct AlignedMemory {
  void* data = nullptr;
  size_t size = 0;
  explicit AlignedMemory(size_t bytes);
  ~AlignedMemory();
};

struct MrRes {
  ibv_mr* mr = nullptr;
  std::shared_ptr<PdRes> pd;
  std::shared_ptr<AlignedMemory> owned;  // the registered memory (shared with JS views)
  uint8_t* data = nullptr;
  size_t length = 0;
  std::atomic<int> busy{0};  // engines running on this region

  MrRes(std::shared_ptr<PdRes> parent, uint8_t* bytes, size_t size, int access,
        std::shared_ptr<AlignedMemory> memory);
  void Close();
  bool closed() const { return mr == nullptr; }
  ~MrRes() { Close(); }
};

struct CqRes : Parent {
  ibv_cq* cq = nullptr;
  int depth = 0;
  std::shared_ptr<ContextRes> context;
  // Set when made with a completion channel (event-driven engines). Its fd is non-blocking:
  // engines wait on it with poll() and a deadline, never in a blocking ibv_get_cq_event.
  ibv_comp_channel* channel = nullptr;

  CqRes(std::shared_ptr<ContextRes> ctx, int requestedDepth, bool withChannel = false);
  void Close();
  bool closed() const { return cq == nullptr; }
  ~CqRes() { Close(); }
};

struct QpRes {
  ibv_qp* qp = nullptr;
  uint32_t psn = 0;
  uint32_t maxInline = 0;
  uint32_t maxSendWr = 0;
  std::shared_ptr<PdRes> pd;
  std::shared_ptr<CqRes> cq;
  rdma_cm_id* cmId = nullptr;  // set when rdma_create_qp made it: rdma_destroy_qp frees it
  // The id that made the QP stays alive while the QP does: a CmId closed under a running
  // engine defers its own close until the QP is let go (CmIdRes::Close).
  std::shared_ptr<CmIdRes> cmOwner;
  std::atomic<int> busy{0};    // engines running on this QP

  QpRes(std::shared_ptr<PdRes> parent, std::shared_ptr<CqRes> completions, ibv_qp* created,
        std::shared_ptr<CmIdRes> owner = nullptr);
  void Close();
  bool closed() const { return qp == nullptr; }
  ~QpRes() { Close(); }
};

// An rdma_cm id with an event channel of its own, so each connection's events are read apart.
struct CmIdRes {
  rdma_event_channel* channel = nullptr;
  rdma_cm_id* id = nullptr;
  bool connected = false;
  std::weak_ptr<QpRes> qp;
  std::mutex mutex;  // async workers and the JS thread both touch the id

  CmIdRes();
  CmIdRes(rdma_cm_id* adopted, rdma_event_channel* ownChannel);
  // Disconnects, destroys the QP, the id and the channel. While an engine runs on the QP it
  // does nothing and returns false: the QP holds this id, so the last one to let go of the QP
  // (the engine when it finishes) ends up here again through ~CmIdRes.
  bool Close();
  bool qpBusy() const;
  bool closed() const { return id == nullptr; }
  ~CmIdRes() { Close(); }
};

// A fresh random 24-bit PSN (perftest uses lrand48; any value works, 0 is avoided for clarity).
uint32_t RandomPsn();

}  // namespace spark
