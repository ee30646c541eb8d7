// Per-environment state (main thread and each worker get their own): the registered error
// class, the class constructors, and every live object so teardown can release them in order.
#pragma once

#include <napi.h>

#include <functional>
#include <map>
#include <mutex>

namespace spark {

// Release order at teardown: engines stop first, then QPs, then regions and CQs, then PDs,
// then rdma_cm ids and contexts. Lower ranks are released first.
enum class Rank { Engine = 0, QueuePair = 1, CmId = 2, Region = 3, CompletionQueue = 4, Pd = 5, Context = 6 };

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  Napi::FunctionReference errorClass;
  Napi::FunctionReference contextClass;
  Napi::FunctionReference pdClass;
  Napi::FunctionReference mrClass;
  Napi::FunctionReference cqClass;
  Napi::FunctionReference qpClass;
  Napi::FunctionReference cmIdClass;

  // Live objects register a release function; the handle unregisters on close/finalize.
  using Handle = uint64_t;
  Handle Track(Rank rank, std::function<void()> release);
  void Untrack(Handle handle);
  bool tearingDown() const { return tearingDown_; }

 private:
  Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
  Napi::Value ListDevices(const Napi::CallbackInfo& info);
  Napi::Value QueryDevice(const Napi::CallbackInfo& info);
  static void Cleanup(void* self);
  void ReleaseAll();

  std::mutex mutex_;
  Handle next_ = 1;
  std::map<Handle, std::pair<Rank, std::function<void()>>> live_;
  bool tearingDown_ = false;
};

}  // namespace spark
