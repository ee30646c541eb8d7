// The calling thread's nice value (Linux keeps one per thread: setpriority with a thread id).
#pragma once

namespace spark {

// Raises the calling thread's nice value by `increment` (0..19; capped at 19), which any thread
// may do without privilege. Returns the thread's nice value afterwards, or the errno negated
// (below -20) when the kernel refused, so the caller can report what it got rather than assume.
int RaiseThisThreadNice(int increment);

}  // namespace spark
