#include "js/qp_wrap.h"

#include "js/args.h"
#include "js/cq_wrap.h"
#include "js/pd_wrap.h"
#include "util/error.h"
#include "util/gid.h"
#include "verbs/device_query.h"
#include "verbs/qp_connect.h"

namespace spark {

Napi::FunctionReference QpWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "QueuePair",
                                    {
                                        InstanceAccessor<&QpWrap::Qpn>("qpn"),
                                        InstanceAccessor<&QpWrap::Psn>("psn"),
                                        InstanceAccessor<&QpWrap::MaxInlineData>("maxInlineData"),
                                        InstanceAccessor<&QpWrap::State>("state"),
                                        InstanceAccessor<&QpWrap::PathMtu>("pathMtu"),
                                        InstanceAccessor<&QpWrap::Closed>("closed"),
                                        InstanceMethod<&QpWrap::Connect>("connect"),
                                        InstanceMethod<&QpWrap::Close>("close"),
                                    });
  exports.Set("QueuePair", ctor);
  return Napi::Persistent(ctor);
}

Napi::Object QpWrap::NewFromCm(Napi::Env env, std::shared_ptr<QpRes> res) {
  auto* holder = new std::shared_ptr<QpRes>(std::move(res));
  auto ext = Napi::External<std::shared_ptr<QpRes>>::New(env, holder,
                                                         [](Napi::Env, std::shared_ptr<QpRes>* p) { delete p; });
  return env.GetInstanceData<Addon>()->qpClass.New({ext});
}

QpWrap::QpWrap(const Napi::CallbackInfo& info) : TrackedWrap<QpWrap>(info) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) {
    res_ = *info[0].As<Napi::External<std::shared_ptr<QpRes>>>().Data();
  } else {
    std::shared_ptr<PdRes> pd = PdWrap::From(env, info[0], "pd");
    std::shared_ptr<CqRes> cq = CqWrap::From(env, info[1], "cq");
    if (pd->context->ctx != cq->context->ctx) {
      throw MakeJsError(env, ErrorInfo("ERR_RDMA_INVALID_ARGUMENT", "pd and cq belong to different devices", "create both from the same Context"));
    }
    Napi::Object caps = ReadObject(env, info[2], "caps");
    auto maxSendWr = static_cast<uint32_t>(ReadNumberField(env, caps, "maxSendWr", 128, 1, 1 << 24));
    auto maxRecvWr = static_cast<uint32_t>(ReadNumberField(env, caps, "maxRecvWr", 1, 0, 1 << 24));
    auto maxInline = static_cast<uint32_t>(ReadNumberField(env, caps, "maxInlineData", 0, 0, 1 << 16));
    res_ = Guard(env, [&] {
      uint32_t granted = 0;
      ibv_qp* qp = CreateRcQp(pd->pd, cq->cq, maxSendWr, maxRecvWr, maxInline, &granted);
      std::shared_ptr<QpRes> res;
      try {
        res = std::make_shared<QpRes>(pd, cq, qp, nullptr);
      } catch (...) {
        ibv_destroy_qp(qp);  // no owner yet: undo the create
        throw;
      }
      res->maxInline = granted;
      res->maxSendWr = maxSendWr;
      return res;
    });
  }
  qpn_ = res_->qp->qp_num;
  StartTracking(env, Rank::QueuePair);
}

QpWrap::~QpWrap() {
  StopTracking();
  Release();
}

void QpWrap::Release() {
  // A running engine keeps its own reference and closes the QP when it lets go: a GC'd or
  // torn-down wrapper must never destroy a QP under a running loop.
  if (res_ && res_->busy.load() == 0) res_->Close();
  res_.reset();
}

std::shared_ptr<QpRes> QpWrap::From(Napi::Env env, const Napi::Value& value, const char* argName) {
  Addon* addon = env.GetInstanceData<Addon>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->qpClass.Value())) {
    throw Napi::TypeError::New(env, std::string(argName) + " must be a QueuePair");
  }
  QpWrap* w = QpWrap::Unwrap(value.As<Napi::Object>());
  if (!w->res_ || w->res_->closed()) throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", std::string(argName) + " is closed"));
  return w->res_;
}

Napi::Value QpWrap::Qpn(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), qpn_); }
Napi::Value QpWrap::Psn(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), res_ ? res_->psn : 0);
}
Napi::Value QpWrap::MaxInlineData(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), res_ ? res_->maxInline : 0);
}
Napi::Value QpWrap::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !res_ || res_->closed());
}

Napi::Value QpWrap::State(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!res_ || res_->closed()) return Napi::String::New(env, "CLOSED");
  ibv_qp_attr attr{};
  ibv_qp_init_attr init{};
  if (ibv_query_qp(res_->qp, &attr, IBV_QP_STATE, &init) != 0) {
    Guard(env, [&] { ThrowSyscall("ibv_query_qp", errno, "state"); });
  }
  return Napi::String::New(env, QpStateName(attr.qp_state));
}

// What the QP was brought up with (by ConnectRc or by rdma_cm from the route): null before
// RTR, where the path MTU is not set yet, and once closed.
Napi::Value QpWrap::PathMtu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!res_ || res_->closed()) return env.Null();
  ibv_qp_attr attr{};
  ibv_qp_init_attr init{};
  if (ibv_query_qp(res_->qp, &attr, IBV_QP_STATE | IBV_QP_PATH_MTU, &init) != 0) {
    Guard(env, [&] { ThrowSyscall("ibv_query_qp", errno, "path MTU"); });
  }
  if (attr.qp_state == IBV_QPS_RESET || attr.qp_state == IBV_QPS_INIT) return env.Null();
  return Napi::Number::New(env, 128 << static_cast<int>(attr.path_mtu));
}

Napi::Value QpWrap::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<QpRes> qp = From(env, Value(), "this");
  Napi::Object peerObj = ReadObject(env, info[0], "peer");
  Napi::Object localObj = ReadObject(env, info[1], "local");
  return Guard(env, [&]() -> Napi::Value {
    RcPeer peer;
    peer.qpn = static_cast<uint32_t>(ReadNumber(env, peerObj.Get("qpn"), "peer.qpn", 1, 0xffffff));
    peer.psn = static_cast<uint32_t>(ReadNumber(env, peerObj.Get("psn"), "peer.psn", 0, 0xffffff));
    peer.gid = GidFromString(ReadStringField(env, peerObj, "gid"));
    peer.mtu = MtuFromBytes(static_cast<int>(ReadNumber(env, peerObj.Get("mtu"), "peer.mtu", 256, 4096)));
    RcLocal local;
    local.port = static_cast<uint8_t>(ReadNumber(env, localObj.Get("port"), "local.port", 1, 255));
    local.gidIndex = static_cast<uint8_t>(ReadNumber(env, localObj.Get("gidIndex"), "local.gidIndex", 0, 255));
    local.timeout = static_cast<uint8_t>(ReadNumberField(env, localObj, "timeout", 14, 0, 31));
    local.retryCount = static_cast<uint8_t>(ReadNumberField(env, localObj, "retryCount", 7, 0, 7));
    local.trafficClass = static_cast<uint8_t>(ReadNumberField(env, localObj, "trafficClass", 0, 0, 255));
    ConnectRc(qp->qp, qp->psn, peer, local);
    return env.Undefined();
  });
}

Napi::Value QpWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (res_ && res_->busy.load() > 0) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_BUSY", "cannot close a queue pair while an engine runs on it", "stop the engine and await its promise first"));
  }
  Release();
  StopTracking();
  return env.Undefined();
}

}  // namespace spark
