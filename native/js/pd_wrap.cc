#include "js/pd_wrap.h"

#include "js/context_wrap.h"
#include "util/error.h"

namespace spark {

Napi::FunctionReference PdWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "ProtectionDomain",
                                    {
                                        InstanceAccessor<&PdWrap::Closed>("closed"),
                                        InstanceMethod<&PdWrap::Close>("close"),
                                    });
  exports.Set("ProtectionDomain", ctor);
  return Napi::Persistent(ctor);
}

PdWrap::PdWrap(const Napi::CallbackInfo& info) : TrackedWrap<PdWrap>(info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ContextRes> ctx = ContextWrap::From(env, info[0], "context");
  res_ = Guard(env, [&] { return std::make_shared<PdRes>(ctx); });
  StartTracking(env, Rank::Pd);
}

PdWrap::~PdWrap() {
  StopTracking();
  Release();
}

void PdWrap::Release() {
  if (!res_) return;
  if (res_->Children() == 0) res_->Close();
  res_.reset();
}

std::shared_ptr<PdRes> PdWrap::From(Napi::Env env, const Napi::Value& value, const char* argName) {
  Addon* addon = env.GetInstanceData<Addon>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->pdClass.Value())) {
    throw Napi::TypeError::New(env, std::string(argName) + " must be a ProtectionDomain");
  }
  PdWrap* w = PdWrap::Unwrap(value.As<Napi::Object>());
  if (!w->res_ || w->res_->closed()) throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", std::string(argName) + " is closed"));
  return w->res_;
}

Napi::Value PdWrap::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !res_ || res_->closed());
}

Napi::Value PdWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!res_) return env.Undefined();
  Guard(env, [&] { res_->RequireNoChildren("protection domain", "memory regions or queue pairs"); });
  res_->Close();
  res_.reset();
  StopTracking();
  return env.Undefined();
}

}  // namespace spark
