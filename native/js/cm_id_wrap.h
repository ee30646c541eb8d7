#pragma once

#include <atomic>
#include <memory>

#include "js/cm_op.h"
#include "js/tracked.h"
#include "verbs/resources.h"

namespace spark {

class CmIdWrap : public TrackedWrap<CmIdWrap> {
 public:
  static Napi::FunctionReference Init(Napi::Env env, Napi::Object exports);

  explicit CmIdWrap(const Napi::CallbackInfo& info);
  ~CmIdWrap() override;
  void Release();


 private:
  Napi::Value ContextGetter(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value PeerPrivateData(const Napi::CallbackInfo& info);
  Napi::Value Resolve(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value GetRequest(const Napi::CallbackInfo& info);
  Napi::Value CreateQueuePair(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Establish(const Napi::CallbackInfo& info, bool active);
  std::shared_ptr<CmIdRes> Open(Napi::Env env);

  std::shared_ptr<CmIdState> state_;
  std::shared_ptr<ContextRes> context_;
  Napi::ObjectReference contextObject_;
  std::vector<uint8_t> peerPrivateData_;
};

}  // namespace spark
