#include "util/error.h"

#include <cerrno>
#include <cstring>

#include "addon.h"

namespace spark {

std::string ErrnoName(int errnum) {
  switch (errnum) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM) NAME(ENOENT) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG) NAME(EBADF)
    NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY) NAME(EEXIST) NAME(ENODEV)
    NAME(EINVAL) NAME(ENFILE) NAME(EMFILE) NAME(ENOSPC) NAME(ERANGE) NAME(ENOSYS)
    NAME(EOPNOTSUPP) NAME(EADDRINUSE) NAME(EADDRNOTAVAIL) NAME(ENETDOWN) NAME(ENETUNREACH)
    NAME(ECONNABORTED) NAME(ECONNRESET) NAME(ETIMEDOUT) NAME(ECONNREFUSED) NAME(EHOSTUNREACH)
    NAME(EPROTO) NAME(ENODATA)
#undef NAME
    default:
      return std::to_string(errnum);
  }
}

void ThrowSyscall(const std::string& syscall, int errnum, const std::string& what,
                  const std::string& hint) {
  ErrorInfo info;
  info.code = "ERR_RDMA_SYSCALL";
  info.errnum = errnum;
  info.syscall = syscall;
  info.message = syscall + " failed" + (what.empty() ? "" : " (" + what + ")") + ": " +
                 std::strerror(errnum) + " (" + ErrnoName(errnum) + ")";
  info.hint = hint;
  throw VerbsError(std::move(info));
}

void ThrowCode(const std::string& code, const std::string& message, const std::string& hint) {
  ErrorInfo info;
  info.code = code;
  info.message = message;
  info.hint = hint;
  throw VerbsError(std::move(info));
}

ErrorInfo InfoFromException(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return ErrorInfo("ERR_RDMA_NO_MEMORY", std::string("out of memory: ") + e.what(), "free memory or run with smaller buffers");
  }
  if (const auto* sys = dynamic_cast<const std::system_error*>(&e)) {
    ErrorInfo info("ERR_RDMA_SYSCALL", sys->what());
    info.errnum = sys->code().value();
    return info;
  }
  return ErrorInfo("ERR_RDMA_INTERNAL", e.what());
}

Napi::Error MakeJsError(Napi::Env env, const ErrorInfo& info) {
  Napi::Object fields = Napi::Object::New(env);
  fields.Set("code", info.code);
  if (info.errnum != 0) fields.Set("errno", info.errnum);
  if (!info.syscall.empty()) fields.Set("syscall", info.syscall);
  if (!info.wcStatus.empty()) fields.Set("wcStatus", info.wcStatus);
  if (info.wcStatusCode >= 0) fields.Set("wcStatusCode", info.wcStatusCode);
  if (info.qpn >= 0) fields.Set("qpn", static_cast<double>(info.qpn));
  if (!info.hint.empty()) fields.Set("hint", info.hint);
  std::string message = info.message;
  if (!info.hint.empty()) message += " (hint: " + info.hint + ")";

  Addon* addon = env.GetInstanceData<Addon>();
  if (addon != nullptr && !addon->errorClass.IsEmpty()) {
    Napi::Object err = addon->errorClass.Value().New({Napi::String::New(env, message), fields});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  Napi::Array keys = fields.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    Napi::Value key = keys.Get(i);
    err.Value().Set(key, fields.Get(key));
  }
  return err;
}

}  // namespace spark
