#include "js/cm_op.h"

namespace spark {

void CmIdState::CancelAndJoin() {
  cancel = true;
  std::vector<std::thread> running;
  {
    std::lock_guard<std::mutex> lock(threadsMutex);
    running.swap(threads);
  }
  for (std::thread& t : running) {
    if (t.joinable()) t.join();
  }
}

CmIdState::~CmIdState() {
  // Normally empty (the wrapper's Release joined them); a step dropping the last reference on
  // its own thread must not join itself.
  for (std::thread& t : threads) {
    if (!t.joinable()) continue;
    if (t.get_id() == std::this_thread::get_id()) t.detach();
    else t.join();
  }
}

CmOp::CmOp(Napi::Env env, Napi::Object self, std::shared_ptr<CmIdState> state, Work work, Done done, bool ownsNewId)
    : deferred_(Napi::Promise::Deferred::New(env)), self_(Napi::Persistent(self)), state_(std::move(state)),
      work_(std::move(work)), done_(std::move(done)), ownsNewId_(ownsNewId) {}

CmOp::~CmOp() {
  // A connect request that never reached JS (the environment went away first).
  if (ownsNewId_ && result_.id != nullptr) rdma_destroy_id(result_.id);
}

Napi::Promise CmOp::Start(Napi::Env env, Napi::Object self, std::shared_ptr<CmIdState> state, Work work, Done done,
                          bool ownsNewId) {
  auto* op = new CmOp(env, self, state, std::move(work), std::move(done), ownsNewId);
  Napi::Promise promise = op->deferred_.Promise();
  try {
    op->tsfn_ = Tsfn::New(env, "spark-rdma:cm", 0, 1, op);
    std::lock_guard<std::mutex> lock(state->threadsMutex);
    state->threads.emplace_back([op] { op->Run(); });
  } catch (...) {
    if (op->tsfn_) op->tsfn_.Release();
    delete op;
    Guard(env, [] { throw; });
  }
  ++state->pending;
  return promise;
}

void CmOp::Run() {
  try {
    work_(result_);
  } catch (const VerbsError& e) {
    error_ = e.info();
  } catch (const std::exception& e) {
    error_ = InfoFromException(e);
  }
  Tsfn tsfn = tsfn_;
  // With an unbounded queue this never blocks; if the environment is closing it fails and
  // the finalizing call (env null) is not made for us, so the op is freed here.
  if (tsfn.NonBlockingCall(this) != napi_ok) {
    self_.SuppressDestruct();
    delete this;
  }
  tsfn.Release();
}

void CmOp::CallJs(Napi::Env env, Napi::Function, CmOp*, CmOp* op) {
  if (op == nullptr) return;
  if (env == nullptr) {
    // The environment is being torn down: no promise to settle, no reference to drop.
    op->self_.SuppressDestruct();
    delete op;
    return;
  }
  --op->state_->pending;
  try {
    Napi::HandleScope scope(env);
    op->Settle(env);
  } catch (...) {
    // Called from libuv: nothing may escape (see WriteBwWrap::CallJs).
  }
  try {
    op->self_.Reset();
  } catch (...) {
  }
  delete op;
}

void CmOp::Settle(Napi::Env env) {
  std::string failure;
  try {
    if (error_) {
      deferred_.Reject(MakeJsError(env, *error_).Value());
    } else {
      deferred_.Resolve(done_(env, result_));
    }
    return;
  } catch (const VerbsError& e) {
    failure = e.what();
    try {
      deferred_.Reject(MakeJsError(env, e.info()).Value());
      return;
    } catch (...) {
    }
  } catch (const Napi::Error& e) {
    try {
      deferred_.Reject(e.Value());
      return;
    } catch (...) {
    }
    failure = e.what();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  try {
    deferred_.Reject(Napi::Error::New(env, "rdma_cm step failed while settling: " + failure).Value());
  } catch (...) {
  }
}

}  // namespace spark
