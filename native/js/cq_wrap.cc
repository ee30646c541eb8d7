#include "js/cq_wrap.h"

#include "js/args.h"
#include "js/context_wrap.h"
#include "util/error.h"

namespace spark {

Napi::FunctionReference CqWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "CompletionQueue",
                                    {
                                        InstanceAccessor<&CqWrap::Depth>("depth"),
                                        InstanceAccessor<&CqWrap::Closed>("closed"),
                                        InstanceAccessor<&CqWrap::HasChannel>("completionChannel"),
                                        InstanceMethod<&CqWrap::Close>("close"),
                                    });
  exports.Set("CompletionQueue", ctor);
  return Napi::Persistent(ctor);
}

CqWrap::CqWrap(const Napi::CallbackInfo& info) : TrackedWrap<CqWrap>(info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ContextRes> ctx = ContextWrap::From(env, info[0], "context");
  int depth = static_cast<int>(ReadNumber(env, info[1], "depth", 1, 1 << 30));
  bool channel = false;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    Napi::Object options = ReadObject(env, info[2], "options");
    Napi::Value v = options.Get("completionChannel");
    if (!v.IsUndefined() && !v.IsBoolean()) throw Napi::TypeError::New(env, "options.completionChannel must be a boolean");
    channel = v.IsBoolean() && v.As<Napi::Boolean>().Value();
  }
  res_ = Guard(env, [&] { return std::make_shared<CqRes>(ctx, depth, channel); });
  depth_ = res_->depth;
  StartTracking(env, Rank::CompletionQueue);
}

CqWrap::~CqWrap() {
  StopTracking();
  Release();
}

void CqWrap::Release() {
  if (!res_) return;
  if (res_->Children() == 0) res_->Close();
  res_.reset();
}

std::shared_ptr<CqRes> CqWrap::From(Napi::Env env, const Napi::Value& value, const char* argName) {
  Addon* addon = env.GetInstanceData<Addon>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->cqClass.Value())) {
    throw Napi::TypeError::New(env, std::string(argName) + " must be a CompletionQueue");
  }
  CqWrap* w = CqWrap::Unwrap(value.As<Napi::Object>());
  if (!w->res_ || w->res_->closed()) throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", std::string(argName) + " is closed"));
  return w->res_;
}

Napi::Value CqWrap::Depth(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), depth_); }

Napi::Value CqWrap::HasChannel(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), res_ && res_->channel != nullptr);
}

Napi::Value CqWrap::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !res_ || res_->closed());
}

Napi::Value CqWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!res_) return env.Undefined();
  Guard(env, [&] { res_->RequireNoChildren("completion queue", "queue pairs"); });
  res_->Close();
  res_.reset();
  StopTracking();
  return env.Undefined();
}

}  // namespace spark
