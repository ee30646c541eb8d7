#pragma once

#include <memory>

#include "js/tracked.h"
#include "verbs/resources.h"

namespace spark {

class PdWrap : public TrackedWrap<PdWrap> {
 public:
  static Napi::FunctionReference Init(Napi::Env env, Napi::Object exports);
  static std::shared_ptr<PdRes> From(Napi::Env env, const Napi::Value& value, const char* argName);

  explicit PdWrap(const Napi::CallbackInfo& info);
  ~PdWrap() override;
  void Release();

 private:
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<PdRes> res_;
};

}  // namespace spark
