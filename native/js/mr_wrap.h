#pragma once

#include <memory>

#include "js/tracked.h"
#include "verbs/resources.h"

namespace spark {

class MrWrap : public TrackedWrap<MrWrap> {
 public:
  static Napi::FunctionReference Init(Napi::Env env, Napi::Object exports);
  static std::shared_ptr<MrRes> From(Napi::Env env, const Napi::Value& value, const char* argName);

  explicit MrWrap(const Napi::CallbackInfo& info);
  ~MrWrap() override;
  void Release();

 private:
  Napi::Value Length(const Napi::CallbackInfo& info);
  Napi::Value Addr(const Napi::CallbackInfo& info);
  Napi::Value Lkey(const Napi::CallbackInfo& info);
  Napi::Value Rkey(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<MrRes> res_;
  size_t length_ = 0;
  uint64_t addr_ = 0;
  uint32_t lkey_ = 0;
  uint32_t rkey_ = 0;
};

}  // namespace spark
