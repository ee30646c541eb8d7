#include "js/context_wrap.h"

#include "js/device_info_js.h"
#include "util/error.h"
#include "verbs/device_query.h"

namespace spark {

Napi::FunctionReference ContextWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Context",
                                    {
                                        InstanceAccessor<&ContextWrap::Device>("device"),
                                        InstanceAccessor<&ContextWrap::Closed>("closed"),
                                        InstanceMethod<&ContextWrap::Query>("query"),
                                        InstanceMethod<&ContextWrap::Close>("close"),
                                    });
  exports.Set("Context", ctor);
  return Napi::Persistent(ctor);
}

Napi::Object ContextWrap::NewBorrowed(Napi::Env env, std::shared_ptr<ContextRes> res) {
  auto* holder = new std::shared_ptr<ContextRes>(std::move(res));
  Napi::External<std::shared_ptr<ContextRes>> ext = Napi::External<std::shared_ptr<ContextRes>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<ContextRes>* p) { delete p; });
  return env.GetInstanceData<Addon>()->contextClass.New({ext});
}

ContextWrap::ContextWrap(const Napi::CallbackInfo& info) : TrackedWrap<ContextWrap>(info) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) {
    res_ = *info[0].As<Napi::External<std::shared_ptr<ContextRes>>>().Data();
  } else {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "new Context(device): device must be a string such as 'rxe0'");
    std::string name = info[0].As<Napi::String>();
    res_ = Guard(env, [&] { return ContextRes::Open(name); });
  }
  device_ = res_->name;
  StartTracking(env, Rank::Context);
}

ContextWrap::~ContextWrap() {
  StopTracking();
  Release();
}

void ContextWrap::Release() {
  if (!res_) return;
  // Teardown closes children first (rank order), so this is safe; a live child keeps the
  // context open through its own shared_ptr.
  if (res_->Children() == 0) res_->Close();
  res_.reset();
}

std::shared_ptr<ContextRes> ContextWrap::From(Napi::Env env, const Napi::Value& value, const char* argName) {
  Addon* addon = env.GetInstanceData<Addon>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->contextClass.Value())) {
    throw Napi::TypeError::New(env, std::string(argName) + " must be a Context");
  }
  ContextWrap* w = ContextWrap::Unwrap(value.As<Napi::Object>());
  if (!w->res_ || w->res_->closed()) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", std::string(argName) + " (context " + w->device_ + ") is closed"));
  }
  return w->res_;
}

Napi::Value ContextWrap::Device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), device_); }

Napi::Value ContextWrap::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !res_ || res_->closed());
}

Napi::Value ContextWrap::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ContextRes> ctx = From(env, Value(), "this");
  return Guard(env, [&]() -> Napi::Value { return DeviceInfoToJs(env, QueryDevice(ctx->ctx)); });
}

Napi::Value ContextWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!res_) return env.Undefined();
  Guard(env, [&] { res_->RequireNoChildren("context " + device_, "protection domains or completion queues"); });
  res_->Close();
  res_.reset();
  StopTracking();
  return env.Undefined();
}

}  // namespace spark
