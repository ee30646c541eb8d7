#pragma once

#include <memory>

#include "js/tracked.h"
#include "verbs/resources.h"

namespace spark {

class QpWrap : public TrackedWrap<QpWrap> {
 public:
  static Napi::FunctionReference Init(Napi::Env env, Napi::Object exports);
  static std::shared_ptr<QpRes> From(Napi::Env env, const Napi::Value& value, const char* argName);
  // Wraps a QP created by rdma_create_qp.
  static Napi::Object NewFromCm(Napi::Env env, std::shared_ptr<QpRes> res);

  explicit QpWrap(const Napi::CallbackInfo& info);
  ~QpWrap() override;
  void Release();

 private:
  Napi::Value Qpn(const Napi::CallbackInfo& info);
  Napi::Value Psn(const Napi::CallbackInfo& info);
  Napi::Value MaxInlineData(const Napi::CallbackInfo& info);
  Napi::Value State(const Napi::CallbackInfo& info);
  Napi::Value PathMtu(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<QpRes> res_;
  uint32_t qpn_ = 0;
};

}  // namespace spark
