// One error shape for the whole addon. Verbs code (no N-API) throws VerbsError; the JS-facing
// layer turns it into an instance of the registered error class with code/errno/syscall.
#pragma once

#include <napi.h>

#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace spark {

struct ErrorInfo {
  ErrorInfo() = default;
  ErrorInfo(std::string c, std::string m, std::string h = "")
      : code(std::move(c)), message(std::move(m)), hint(std::move(h)) {}

  std::string code;
  std::string message;
  int errnum = 0;
  std::string syscall;
  std::string wcStatus;
  int wcStatusCode = -1;
  int64_t qpn = -1;
  std::string hint;
};

class VerbsError : public std::runtime_error {
 public:
  explicit VerbsError(ErrorInfo info) : std::runtime_error(info.message), info_(std::move(info)) {}
  const ErrorInfo& info() const { return info_; }

 private:
  ErrorInfo info_;
};

// "ibv_alloc_pd failed: Cannot allocate memory (ENOMEM)" from a syscall name and an errno.
[[noreturn]] void ThrowSyscall(const std::string& syscall, int errnum, const std::string& what,
                               const std::string& hint = "");
[[noreturn]] void ThrowCode(const std::string& code, const std::string& message,
                            const std::string& hint = "");

// Symbolic errno name, e.g. "ENOMEM" (falls back to the number).
std::string ErrnoName(int errnum);

// Builds the JS error object (the registered class when there is one).
Napi::Error MakeJsError(Napi::Env env, const ErrorInfo& info);

// What a C++ exception other than VerbsError means to a JS caller (bad_alloc: no memory;
// system_error, e.g. std::thread failing: the errno; anything else: an internal error).
ErrorInfo InfoFromException(const std::exception& e);

// Runs fn and converts any C++ exception into a thrown JS error (Napi::Error passes through).
// Entry points that change state before a step that can throw undo it themselves.
template <typename Fn>
auto Guard(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const VerbsError& e) {
    throw MakeJsError(env, e.info());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw MakeJsError(env, InfoFromException(e));
  }
}

}  // namespace spark
