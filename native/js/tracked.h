// Base for wrappers that own verbs resources: registers with the per-env Addon so teardown
// releases everything in dependency order even if JS never calls close().
#pragma once

#include <napi.h>

#include "addon.h"

namespace spark {

template <typename Self>
class TrackedWrap : public Napi::ObjectWrap<Self> {
 public:
  explicit TrackedWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Self>(info) {}

 protected:
  void StartTracking(Napi::Env env, Rank rank) {
    addon_ = env.GetInstanceData<Addon>();
    if (addon_ != nullptr) handle_ = addon_->Track(rank, [this] { static_cast<Self*>(this)->Release(); });
  }
  void StopTracking() {
    if (addon_ != nullptr && handle_ != 0) addon_->Untrack(handle_);
    handle_ = 0;
  }
  Addon* addon() const { return addon_; }

 private:
  Addon* addon_ = nullptr;
  Addon::Handle handle_ = 0;
};

}  // namespace spark
