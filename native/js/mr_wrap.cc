#include "js/mr_wrap.h"

#include "js/args.h"
#include "js/pd_wrap.h"
#include "util/error.h"

namespace spark {

Napi::FunctionReference MrWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "MemoryRegion",
                                    {
                                        InstanceAccessor<&MrWrap::Length>("length"),
                                        InstanceAccessor<&MrWrap::Addr>("addr"),
                                        InstanceAccessor<&MrWrap::Lkey>("lkey"),
                                        InstanceAccessor<&MrWrap::Rkey>("rkey"),
                                        InstanceAccessor<&MrWrap::Closed>("closed"),
                                        InstanceMethod<&MrWrap::View>("view"),
                                        InstanceMethod<&MrWrap::Close>("close"),
                                    });
  exports.Set("MemoryRegion", ctor);
  return Napi::Persistent(ctor);
}

// Local write is needed so the NIC can place incoming data; remote rights only on request.
static int AccessFlags(Napi::Env env, const Napi::Value& v) {
  int flags = IBV_ACCESS_LOCAL_WRITE;
  if (v.IsUndefined() || v.IsNull()) return flags;
  Napi::Object o = ReadObject(env, v, "access");
  if (o.Get("remoteWrite").ToBoolean()) flags |= IBV_ACCESS_REMOTE_WRITE;
  if (o.Get("remoteRead").ToBoolean()) flags |= IBV_ACCESS_REMOTE_READ;
  return flags;
}

MrWrap::MrWrap(const Napi::CallbackInfo& info) : TrackedWrap<MrWrap>(info) {
  Napi::Env env = info.Env();
  std::shared_ptr<PdRes> pd = PdWrap::From(env, info[0], "pd");
  int access = AccessFlags(env, info[2]);
  if (info[1].IsNumber()) {
    size_t size = static_cast<size_t>(ReadNumber(env, info[1], "size", 1, 9007199254740991.0));
    res_ = Guard(env, [&] {
      auto memory = std::make_shared<AlignedMemory>(size);
      return std::make_shared<MrRes>(pd, static_cast<uint8_t*>(memory->data), size, access, memory);
    });
  } else {
    // Only natively allocated memory: a JS ArrayBuffer can be detached or transferred while
    // registered (structuredClone, postMessage, ArrayBuffer.prototype.transfer), and no
    // reference keeps its memory in place, so the NIC could write into memory JS has freed.
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_INVALID_ARGUMENT",
                                     "new MemoryRegion(pd, source): source must be a byte count (ArrayBuffers and "
                                     "Buffers cannot be registered: JS can detach or transfer them under a live registration)",
                                     "pass the size in bytes; region.view() gives a Uint8Array over the registered memory"));
  }
  length_ = res_->length;
  addr_ = reinterpret_cast<uint64_t>(res_->data);
  lkey_ = res_->mr->lkey;
  rkey_ = res_->mr->rkey;
  StartTracking(env, Rank::Region);
}

MrWrap::~MrWrap() {
  StopTracking();
  Release();
}

void MrWrap::Release() {
  // As for QPs: a region an engine still uses is deregistered when the engine lets go.
  if (res_ && res_->busy.load() == 0) res_->Close();
  res_.reset();
}

std::shared_ptr<MrRes> MrWrap::From(Napi::Env env, const Napi::Value& value, const char* argName) {
  Addon* addon = env.GetInstanceData<Addon>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->mrClass.Value())) {
    throw Napi::TypeError::New(env, std::string(argName) + " must be a MemoryRegion");
  }
  MrWrap* w = MrWrap::Unwrap(value.As<Napi::Object>());
  if (!w->res_ || w->res_->closed()) throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", std::string(argName) + " is closed"));
  return w->res_;
}

Napi::Value MrWrap::Length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(length_)); }
Napi::Value MrWrap::Addr(const Napi::CallbackInfo& info) { return Napi::BigInt::New(info.Env(), addr_); }
Napi::Value MrWrap::Lkey(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lkey_); }
Napi::Value MrWrap::Rkey(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), rkey_); }
Napi::Value MrWrap::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !res_); }

Napi::Value MrWrap::View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!res_ || !res_->owned) throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", "memory region is closed"));
  // The view shares ownership of the memory, so it stays valid even after close().
  auto* keep = new std::shared_ptr<AlignedMemory>(res_->owned);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, (*keep)->data, (*keep)->size,
      [](Napi::Env, void*, std::shared_ptr<AlignedMemory>* k) { delete k; }, keep);
  return Napi::Uint8Array::New(env, length_, ab, 0);
}

Napi::Value MrWrap::Close(const Napi::CallbackInfo& info) {
  if (res_ && res_->busy.load() > 0) {
    throw MakeJsError(info.Env(), ErrorInfo("ERR_RDMA_BUSY", "cannot close a memory region while an engine uses it", "stop the engine and await its promise first"));
  }
  Release();
  StopTracking();
  return info.Env().Undefined();
}

}  // namespace spark
