#include "util/thread_nice.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/error.h"

namespace spark {

int RaiseThisThreadNice(int increment) {
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  const std::string what = "engine thread " + std::to_string(tid) + ", nice +" + std::to_string(increment);
  const char* hint = "pass engineNice 0 to keep the engine thread at the process's priority";
  // getpriority() may return -1 as a valid nice value: errno tells the two apart.
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) ThrowSyscall("getpriority", errno, what, hint);
  if (increment <= 0) return now;
  const int target = std::min(19, now + increment);
  if (setpriority(PRIO_PROCESS, tid, target) != 0) ThrowSyscall("setpriority", errno, what, hint);
  return target;
}

}  // namespace spark
