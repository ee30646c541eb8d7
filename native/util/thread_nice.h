// The calling thread's nice value (Linux keeps one per thread: setpriority with a thread id).
#pragma once

namespace spark {

// Raises the calling thread's nice value by `increment` (0..19; capped at 19), which any thread
// may do without privilege, and returns the thread's nice value afterwards, as the kernel has
// it. A refusal (getpriority or setpriority failing, e.g. under a seccomp policy) throws
// ERR_RDMA_SYSCALL naming the call and its errno.
int RaiseThisThreadNice(int increment);

}  // namespace spark
