#pragma once

#include <memory>

#include "js/tracked.h"
#include "verbs/resources.h"

namespace spark {

class CqWrap : public TrackedWrap<CqWrap> {
 public:
  static Napi::FunctionReference Init(Napi::Env env, Napi::Object exports);
  static std::shared_ptr<CqRes> From(Napi::Env env, const Napi::Value& value, const char* argName);

  explicit CqWrap(const Napi::CallbackInfo& info);
  ~CqWrap() override;
  void Release();

 private:
  Napi::Value Depth(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value HasChannel(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<CqRes> res_;
  int depth_ = 0;
};

}  // namespace spark
