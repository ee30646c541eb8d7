#include "addon.h"

#include <algorithm>
#include <vector>

#include "engine/latency_wrap.h"
#include "engine/write_bw_wrap.h"
#include "js/cm_id_wrap.h"
#include "js/context_wrap.h"
#include "js/cq_wrap.h"
#include "js/device_info_js.h"
#include "js/mr_wrap.h"
#include "js/pd_wrap.h"
#include "js/qp_wrap.h"
#include "util/error.h"
#include "verbs/device_query.h"
#include "verbs/resources.h"

namespace spark {

Addon::Addon(Napi::Env env, Napi::Object exports) {
  DefineAddon(exports, {
                           InstanceMethod("setErrorClass", &Addon::SetErrorClass),
                           InstanceMethod("listDevices", &Addon::ListDevices),
                           InstanceMethod("queryDevice", &Addon::QueryDevice),
                       });
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("addon", "0.1.0");
  versions.Set("napi", NAPI_VERSION);
  exports.Set("versions", versions);
  contextClass = ContextWrap::Init(env, exports);
  pdClass = PdWrap::Init(env, exports);
  mrClass = MrWrap::Init(env, exports);
  cqClass = CqWrap::Init(env, exports);
  qpClass = QpWrap::Init(env, exports);
  cmIdClass = CmIdWrap::Init(env, exports);
  WriteBwWrap::Init(env, exports);
  LatencyWrap::Init(env, exports);
  napi_add_env_cleanup_hook(env, &Addon::Cleanup, this);
}

Addon::~Addon() { ReleaseAll(); }

void Addon::Cleanup(void* self) {
  auto* addon = static_cast<Addon*>(self);
  addon->tearingDown_ = true;
  addon->ReleaseAll();
}

Addon::Handle Addon::Track(Rank rank, std::function<void()> release) {
  std::lock_guard<std::mutex> lock(mutex_);
  Handle h = next_++;
  live_.emplace(h, std::make_pair(rank, std::move(release)));
  return h;
}

void Addon::Untrack(Handle handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  live_.erase(handle);
}

void Addon::ReleaseAll() {
  std::vector<std::pair<Rank, std::function<void()>>> pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& entry : live_) pending.push_back(std::move(entry.second));
    live_.clear();
  }
  std::stable_sort(pending.begin(), pending.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& p : pending) {
    try {
      p.second();
    } catch (...) {
      // Teardown must finish; a refusal here means a child was already gone.
    }
  }
}

Napi::Value Addon::SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass(ctor): ctor must be a class");
  errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value Addon::ListDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::vector<std::string> names = ListDeviceNames();
    Napi::Array out = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
    return out;
  });
}

Napi::Value Addon::QueryDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "queryDevice(name): name must be a string");
  std::string name = info[0].As<Napi::String>();
  return Guard(env, [&]() -> Napi::Value {
    // The shared_ptr closes the device on every path, including a failed query.
    std::shared_ptr<ContextRes> ctx = ContextRes::Open(name);
    return DeviceInfoToJs(env, ::spark::QueryDevice(ctx->ctx));
  });
}

}  // namespace spark

using SparkRdmaAddon = spark::Addon;
NODE_API_ADDON(SparkRdmaAddon)
