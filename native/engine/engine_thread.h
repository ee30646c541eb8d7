// A worker thread with a stop flag that is always stopped and joined: by its owner, at
// environment teardown, or at process exit (process.exit() runs no env cleanup, and a verbs
// loop still running while libibverbs' destructors run would crash).
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace spark {

class EngineThread {
 public:
  EngineThread() = default;
  ~EngineThread() { StopAndJoin(); }
  EngineThread(const EngineThread&) = delete;
  EngineThread& operator=(const EngineThread&) = delete;

  void Start(std::function<void()> body);
  void RequestStop() { stop_.store(true); }
  void StopAndJoin();
  void Join();
  bool joinable() const { return thread_.joinable(); }
  const std::atomic<bool>& stopFlag() const { return stop_; }

 private:
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace spark
