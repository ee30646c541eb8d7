#include "engine/engine_thread.h"

#include <cstdlib>
#include <mutex>
#include <set>
#include <system_error>

#include "util/error.h"

namespace spark {

namespace {

// Process-wide on purpose: atexit is process-wide too. Guarded, and leaked so that it is
// still valid while exit handlers run.
std::mutex& RegistryMutex() {
  static auto* m = new std::mutex();
  return *m;
}
std::set<EngineThread*>& Registry() {
  static auto* r = new std::set<EngineThread*>();
  return *r;
}

void StopAllAtExit() {
  std::set<EngineThread*> running;
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    running = Registry();
  }
  for (EngineThread* t : running) t->RequestStop();
  for (EngineThread* t : running) t->Join();
}

void Register(EngineThread* t) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(StopAllAtExit); });
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().insert(t);
}

void Unregister(EngineThread* t) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().erase(t);
}

}  // namespace

// The stop flag is not cleared: an engine runs once, and a stop() that came before start()
// (an already aborted signal) must end the run at once.
void EngineThread::Start(std::function<void()> body) {
  Register(this);
  try {
    thread_ = std::thread(std::move(body));
  } catch (const std::system_error& e) {
    Unregister(this);
    ErrorInfo info("ERR_RDMA_NO_THREAD", std::string("cannot start the engine thread: ") + e.what(),
                   "the process hit a thread or memory limit (ulimit -u, ulimit -v)");
    info.errnum = e.code().value();
    info.syscall = "pthread_create";
    throw VerbsError(std::move(info));
  }
}

void EngineThread::Join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EngineThread::StopAndJoin() {
  RequestStop();
  Join();
  Unregister(this);
}

}  // namespace spark
