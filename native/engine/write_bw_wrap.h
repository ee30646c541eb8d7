#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "engine/engine_thread.h"
#include "engine/write_bw.h"
#include "js/tracked.h"

namespace spark {

// {threadNs, wallNs} of an engine thread (binding.d.ts: EngineCpu).
Napi::Object CpuToJs(Napi::Env env, const CpuSpan& span);

class WriteBwWrap : public TrackedWrap<WriteBwWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);

  explicit WriteBwWrap(const Napi::CallbackInfo& info);
  ~WriteBwWrap() override;
  void Release();

  // What the engine thread hands to the JS thread.
  struct Message {
    bool done = false;
    BwSample sample;
    WriteBwResult result;
    std::optional<ErrorInfo> error;
  };
  static void CallJs(Napi::Env env, Napi::Function onSample, WriteBwWrap* self, Message* msg);
  static void Deliver(Napi::Env env, Napi::Function onSample, WriteBwWrap* self, Message& msg);

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Running(const Napi::CallbackInfo& info);
  void Body();  // the engine thread
  void Finish(Napi::Env env, Message& msg);
  void SetBusy(int delta);

  using Tsfn = Napi::TypedThreadSafeFunction<WriteBwWrap, Message, &WriteBwWrap::CallJs>;

  std::shared_ptr<CqRes> cq_;
  std::vector<WriteTargetRes> targets_;
  WriteBwParams params_;
  EngineThread thread_;
  Tsfn tsfn_;
  std::optional<Napi::Promise::Deferred> deferred_;
  bool running_ = false;
  bool started_ = false;
};

}  // namespace spark
