// Settling an engine's promise on the JS thread. Building the result or the error object can
// itself fail (a worker being terminated, a registered error class that throws, no memory);
// the promise must still settle and the engine must still let go of itself, or the caller
// waits forever and the process exits silently.
#pragma once

#include <napi.h>

#include <optional>
#include <string>

#include "util/error.h"

namespace spark {

// Rejects with `error` or resolves with build(); if either fails, rejects with a plain Error
// that says what happened (best effort: nothing may escape to libuv).
template <typename Build>
void SettleEngine(Napi::Env env, Napi::Promise::Deferred& deferred, const std::optional<ErrorInfo>& error, Build build) {
  std::string failure;
  try {
    if (error) {
      deferred.Reject(MakeJsError(env, *error).Value());
    } else {
      deferred.Resolve(build());
    }
    return;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  std::string message = error ? error->message + " [" + error->code + "]" : "the engine finished but its result could not be built";
  message += "; settling the promise failed: " + failure;
  try {
    deferred.Reject(Napi::Error::New(env, message).Value());
  } catch (...) {
  }
}

// Unref() calls into N-API, which fails while the environment is going away.
template <typename Wrap>
void UnrefQuietly(Wrap* wrap) {
  try {
    wrap->Unref();
  } catch (...) {
  }
}

}  // namespace spark
