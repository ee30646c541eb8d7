#include "util/thread_nice.h"

#include <algorithm>
#include <cerrno>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace spark {

int RaiseThisThreadNice(int increment) {
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  // getpriority() may return -1 as a valid nice value: errno tells the two apart.
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) return -100 - errno;
  if (increment <= 0) return now;
  const int target = std::min(19, now + increment);
  if (setpriority(PRIO_PROCESS, tid, target) != 0) return -100 - errno;
  return target;
}

}  // namespace spark
