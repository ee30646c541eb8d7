#pragma once

#include <memory>

#include "js/tracked.h"
#include "verbs/resources.h"

namespace spark {

class ContextWrap : public TrackedWrap<ContextWrap> {
 public:
  static Napi::FunctionReference Init(Napi::Env env, Napi::Object exports);
  // Wraps an rdma_cm-owned context in a JS Context object.
  static Napi::Object NewBorrowed(Napi::Env env, std::shared_ptr<ContextRes> res);
  // The open resource behind a JS Context, or a TypeError/ERR_RDMA_CLOSED.
  static std::shared_ptr<ContextRes> From(Napi::Env env, const Napi::Value& value, const char* argName);

  explicit ContextWrap(const Napi::CallbackInfo& info);
  ~ContextWrap() override;
  void Release();

 private:
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<ContextRes> res_;
  std::string device_;
};

}  // namespace spark
