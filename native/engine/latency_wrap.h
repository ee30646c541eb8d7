#pragma once

#include <memory>
#include <optional>

#include "engine/engine_thread.h"
#include "engine/write_lat.h"
#include "js/tracked.h"
#include "util/error.h"

namespace spark {

class LatencyWrap : public TrackedWrap<LatencyWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);

  explicit LatencyWrap(const Napi::CallbackInfo& info);
  ~LatencyWrap() override;
  void Release();

  struct Message {
    WriteLatResult result;
    std::optional<ErrorInfo> error;
  };
  static void CallJs(Napi::Env env, Napi::Function unused, LatencyWrap* self, Message* msg);

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Running(const Napi::CallbackInfo& info);
  void SetBusy(int delta);
  void Body();  // the engine thread
  void Finish(Napi::Env env, Message& msg);

  using Tsfn = Napi::TypedThreadSafeFunction<LatencyWrap, Message, &LatencyWrap::CallJs>;

  WriteLatTarget target_;
  WriteLatParams params_;
  EngineThread thread_;
  Tsfn tsfn_;
  std::optional<Napi::Promise::Deferred> deferred_;
  bool running_ = false;
  bool started_ = false;
};

}  // namespace spark
