// One pending rdma_cm step (resolve, getRequest, connect, accept). Its wait may last the whole
// deadline, so it runs on a thread of its own, never on the libuv pool: the pool has 4 threads
// by default, and a server waiting for connect requests on five rails at once would hold all
// of them (and stall every fs, dns and crypto call of the process meanwhile). The promise
// settles on the JS thread through a thread-safe function.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "util/error.h"
#include "verbs/cm_events.h"
#include "verbs/resources.h"

namespace spark {

// What the JS wrapper and its pending steps share. Steps hold it by shared_ptr, so the id and
// its channel outlive every wait on them; Release joins the threads before closing the id.
struct CmIdState {
  std::shared_ptr<CmIdRes> res;
  std::atomic<bool> cancel{false};
  std::atomic<int> pending{0};  // steps whose promise has not settled yet
  std::mutex threadsMutex;
  std::vector<std::thread> threads;

  // Under the id's mutex: fails with ERR_RDMA_CANCELLED once closing began, else runs
  // call(id). Every rdma_* call a step makes on the id goes through here.
  template <typename Call>
  void Locked(const std::string& step, Call call) {
    std::lock_guard<std::mutex> lock(res->mutex);
    if (cancel.load() || res->id == nullptr) ThrowCode("ERR_RDMA_CANCELLED", step + " was cancelled (the object was closed)");
    call(res->id);
  }
  // Sets cancel and joins every step's thread (each notices within one 100 ms poll slice).
  void CancelAndJoin();
  ~CmIdState();
};

class CmOp {
 public:
  using Work = std::function<void(CmEventResult&)>;
  using Done = std::function<Napi::Value(Napi::Env, CmEventResult&)>;

  // Starts `work` on its own thread; the promise settles with done(result) on the JS thread.
  // `self` (the CmId object) stays referenced until then. `ownsNewId`: the result carries a
  // new rdma_cm id (a connect request) to destroy if it never reaches `done`.
  static Napi::Promise Start(Napi::Env env, Napi::Object self, std::shared_ptr<CmIdState> state, Work work, Done done,
                             bool ownsNewId = false);

 private:
  CmOp(Napi::Env env, Napi::Object self, std::shared_ptr<CmIdState> state, Work work, Done done, bool ownsNewId);
  ~CmOp();
  void Run();
  void Settle(Napi::Env env);
  static void CallJs(Napi::Env env, Napi::Function, CmOp* context, CmOp* op);

  using Tsfn = Napi::TypedThreadSafeFunction<CmOp, CmOp, &CmOp::CallJs>;

  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  std::shared_ptr<CmIdState> state_;
  Work work_;
  Done done_;
  bool ownsNewId_;
  Tsfn tsfn_;
  CmEventResult result_;
  std::optional<ErrorInfo> error_;
};

}  // namespace spark
