#include "js/cm_id_wrap.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

#include "js/args.h"
#include "js/context_wrap.h"
#include "js/cq_wrap.h"
#include "js/pd_wrap.h"
#include "js/qp_wrap.h"
#include "util/error.h"
#include "verbs/cm_events.h"

namespace spark {

namespace {

sockaddr_storage ParseAddress(const std::string& text, int port) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    ThrowCode("ERR_RDMA_INVALID_ARGUMENT", "'" + text + "' is not an IPv4 or IPv6 address",
              "rdma_cm needs a numeric address on a rail (e.g. 10.77.0.1)");
  }
  return ss;
}

rdma_conn_param ConnParam(const std::vector<uint8_t>& data) {
  rdma_conn_param p{};
  p.private_data = data.empty() ? nullptr : data.data();
  p.private_data_len = static_cast<uint8_t>(data.size());
  // RDMA WRITE needs no read/atomic resources: keep the remote rights minimal.
  p.responder_resources = 0;
  p.initiator_depth = 0;
  p.retry_count = 7;
  p.rnr_retry_count = 7;
  return p;
}

std::vector<uint8_t> ReadPrivateData(Napi::Env env, const Napi::Value& v, size_t max) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "privateData must be a Uint8Array or null");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  if (a.ByteLength() > max) {
    throw Napi::RangeError::New(env, "privateData is " + std::to_string(a.ByteLength()) + " bytes; at most " +
                                         std::to_string(max) + " fit in an rdma_cm message");
  }
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}

struct AdoptedId {
  std::shared_ptr<CmIdRes> res;
  std::vector<uint8_t> privateData;
};

}  // namespace

Napi::FunctionReference CmIdWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "CmId",
                                    {
                                        InstanceAccessor<&CmIdWrap::ContextGetter>("context"),
                                        InstanceAccessor<&CmIdWrap::Closed>("closed"),
                                        InstanceAccessor<&CmIdWrap::PeerPrivateData>("peerPrivateData"),
                                        InstanceMethod<&CmIdWrap::Resolve>("resolve"),
                                        InstanceMethod<&CmIdWrap::Listen>("listen"),
                                        InstanceMethod<&CmIdWrap::GetRequest>("getRequest"),
                                        InstanceMethod<&CmIdWrap::CreateQueuePair>("createQueuePair"),
                                        InstanceMethod<&CmIdWrap::Connect>("connect"),
                                        InstanceMethod<&CmIdWrap::Accept>("accept"),
                                        InstanceMethod<&CmIdWrap::Close>("close"),
                                    });
  exports.Set("CmId", ctor);
  return Napi::Persistent(ctor);
}

CmIdWrap::CmIdWrap(const Napi::CallbackInfo& info) : TrackedWrap<CmIdWrap>(info), state_(std::make_shared<CmIdState>()) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) {
    AdoptedId* adopted = info[0].As<Napi::External<AdoptedId>>().Data();
    state_->res = adopted->res;
    peerPrivateData_ = adopted->privateData;
  } else {
    state_->res = Guard(env, [] { return std::make_shared<CmIdRes>(); });
  }
  StartTracking(env, Rank::CmId);
}

CmIdWrap::~CmIdWrap() {
  StopTracking();
  Release();
}

void CmIdWrap::Release() {
  // Pending steps see cancel within one poll slice; joined, none can touch the id after this.
  state_->CancelAndJoin();
  contextObject_.Reset();
  if (context_) context_->Close();
  context_.reset();
  if (state_->res) state_->res->Close();
}

std::shared_ptr<CmIdRes> CmIdWrap::Open(Napi::Env env) {
  if (!state_->res || state_->res->closed()) throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", "CmId is closed"));
  return state_->res;
}

Napi::Value CmIdWrap::ContextGetter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_->res || state_->res->closed() || state_->res->id->verbs == nullptr) return env.Null();
  if (contextObject_.IsEmpty()) {
    context_ = ContextRes::Borrow(state_->res->id->verbs, state_->res);
    contextObject_ = Napi::Persistent(ContextWrap::NewBorrowed(env, context_));
  }
  return contextObject_.Value();
}

Napi::Value CmIdWrap::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !state_->res || state_->res->closed());
}

Napi::Value CmIdWrap::PeerPrivateData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (peerPrivateData_.empty()) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, peerPrivateData_.data(), peerPrivateData_.size());
}

Napi::Value CmIdWrap::Resolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<CmIdRes> res = Open(env);
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "resolve(destination, ...): destination must be a string");
  std::string dest = info[0].As<Napi::String>();
  int port = static_cast<int>(ReadNumber(env, info[1], "port", 1, 65535));
  std::string source = info[2].IsString() ? std::string(info[2].As<Napi::String>()) : "";
  int timeoutMs = static_cast<int>(ReadNumber(env, info[3], "timeoutMs", 1, 3600000));
  sockaddr_storage dst = Guard(env, [&] { return ParseAddress(dest, port); });
  sockaddr_storage src{};
  if (!source.empty()) src = Guard(env, [&] { return ParseAddress(source, 0); });
  auto state = state_;
  return CmOp::Start(
      env, Value(), state,
      [state, dst, src, source, timeoutMs, dest](CmEventResult& out) mutable {
        state->Locked("resolving " + dest, [&](rdma_cm_id* id) {
          if (rdma_resolve_addr(id, source.empty() ? nullptr : reinterpret_cast<sockaddr*>(&src),
                                reinterpret_cast<sockaddr*>(&dst), timeoutMs) != 0) {
            ThrowSyscall("rdma_resolve_addr", errno, dest);
          }
        });
        WaitCmEvent(state->res->channel, RDMA_CM_EVENT_ADDR_RESOLVED, timeoutMs + 500, "resolving " + dest,
                    state->cancel);
        state->Locked("resolving the route to " + dest, [&](rdma_cm_id* id) {
          if (rdma_resolve_route(id, timeoutMs) != 0) ThrowSyscall("rdma_resolve_route", errno, dest);
        });
        out = WaitCmEvent(state->res->channel, RDMA_CM_EVENT_ROUTE_RESOLVED, timeoutMs + 500,
                          "resolving the route to " + dest, state->cancel);
      },
      [](Napi::Env e, CmEventResult&) -> Napi::Value { return e.Undefined(); });
}

Napi::Value CmIdWrap::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<CmIdRes> res = Open(env);
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "listen(address, port, backlog): address must be a string");
  std::string address = info[0].As<Napi::String>();
  int port = static_cast<int>(ReadNumber(env, info[1], "port", 1, 65535));
  int backlog = static_cast<int>(ReadNumber(env, info[2], "backlog", 1, 4096));
  Guard(env, [&] {
    sockaddr_storage addr = ParseAddress(address, port);
    if (rdma_bind_addr(res->id, reinterpret_cast<sockaddr*>(&addr)) != 0) {
      ThrowSyscall("rdma_bind_addr", errno, address + ":" + std::to_string(port),
                   errno == EADDRINUSE ? "another process listens on this port: pick another with --port"
                                       : "the address must belong to a netdev with an RDMA device");
    }
    if (rdma_listen(res->id, backlog) != 0) ThrowSyscall("rdma_listen", errno, address);
  });
  return env.Undefined();
}

Napi::Value CmIdWrap::GetRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<CmIdRes> res = Open(env);
  int timeoutMs = static_cast<int>(ReadNumber(env, info[0], "timeoutMs", 1, 3600000));
  auto state = state_;
  return CmOp::Start(
      env, Value(), state,
      [state, timeoutMs](CmEventResult& out) {
        out = WaitCmEvent(state->res->channel, RDMA_CM_EVENT_CONNECT_REQUEST, timeoutMs,
                          "waiting for an rdma_cm connect request", state->cancel);
      },
      [](Napi::Env e, CmEventResult& r) -> Napi::Value {
        // Move the new id to a channel of its own so its events are read apart from the listener's.
        rdma_event_channel* channel = rdma_create_event_channel();
        if (channel == nullptr || rdma_migrate_id(r.id, channel) != 0) {
          int err = errno;
          if (channel != nullptr) rdma_destroy_event_channel(channel);
          rdma_reject(r.id, nullptr, 0);
          rdma_destroy_id(r.id);
          r.id = nullptr;
          ErrorInfo failure("ERR_RDMA_SYSCALL", std::string("rdma_migrate_id failed: ") + std::strerror(err));
          failure.errnum = err;
          failure.syscall = "rdma_migrate_id";
          throw MakeJsError(e, failure);
        }
        AdoptedId adopted{std::make_shared<CmIdRes>(r.id, channel), r.privateData};
        r.id = nullptr;  // the new CmIdRes owns it now
        auto ext = Napi::External<AdoptedId>::New(e, &adopted);
        return e.GetInstanceData<Addon>()->cmIdClass.New({ext});
      },
      /*ownsNewId=*/true);
}

Napi::Value CmIdWrap::CreateQueuePair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<CmIdRes> res = Open(env);
  std::shared_ptr<PdRes> pd = PdWrap::From(env, info[0], "pd");
  std::shared_ptr<CqRes> cq = CqWrap::From(env, info[1], "cq");
  Napi::Object caps = ReadObject(env, info[2], "caps");
  if (res->id->verbs == nullptr || pd->context->ctx != res->id->verbs) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_INVALID_ARGUMENT", "the PD must be created on this CmId's context", "resolve (or receive the request) first, then use cmId.context"));
  }
  ibv_qp_init_attr attr{};
  attr.send_cq = cq->cq;
  attr.recv_cq = cq->cq;
  attr.qp_type = IBV_QPT_RC;
  attr.cap.max_send_wr = static_cast<uint32_t>(ReadNumberField(env, caps, "maxSendWr", 128, 1, 1 << 24));
  attr.cap.max_recv_wr = static_cast<uint32_t>(ReadNumberField(env, caps, "maxRecvWr", 1, 0, 1 << 24));
  attr.cap.max_send_sge = 1;
  attr.cap.max_recv_sge = 1;
  attr.cap.max_inline_data = static_cast<uint32_t>(ReadNumberField(env, caps, "maxInlineData", 0, 0, 1 << 16));
  uint32_t maxSendWr = attr.cap.max_send_wr;
  std::shared_ptr<QpRes> qp = Guard(env, [&] {
    if (rdma_create_qp(res->id, pd->pd, &attr) != 0) ThrowSyscall("rdma_create_qp", errno, "RC");
    std::shared_ptr<QpRes> q;
    try {
      q = std::make_shared<QpRes>(pd, cq, res->id->qp, res);
    } catch (...) {
      rdma_destroy_qp(res->id);  // no owner yet: undo the create
      throw;
    }
    q->maxInline = attr.cap.max_inline_data;
    q->maxSendWr = maxSendWr;
    return q;
  });
  res->qp = qp;
  return QpWrap::NewFromCm(env, qp);
}

Napi::Value CmIdWrap::Connect(const Napi::CallbackInfo& info) { return Establish(info, true); }

Napi::Value CmIdWrap::Accept(const Napi::CallbackInfo& info) { return Establish(info, false); }

// rdma_connect (active) or rdma_accept (passive), then wait for ESTABLISHED. Private data
// limits are the CM messages' room: 56 bytes in a REQ, 196 in a REP.
Napi::Value CmIdWrap::Establish(const Napi::CallbackInfo& info, bool active) {
  Napi::Env env = info.Env();
  Open(env);
  std::vector<uint8_t> data = ReadPrivateData(env, info[0], active ? 56 : 196);
  int timeoutMs = static_cast<int>(ReadNumber(env, info[1], "timeoutMs", 1, 3600000));
  auto state = state_;
  return CmOp::Start(
      env, Value(), state,
      [state, data, timeoutMs, active](CmEventResult& out) {
        rdma_conn_param param = ConnParam(data);
        const char* call = active ? "rdma_connect" : "rdma_accept";
        state->Locked(call, [&](rdma_cm_id* id) {
          int rc = active ? rdma_connect(id, &param) : rdma_accept(id, &param);
          if (rc != 0) ThrowSyscall(call, errno, "");
        });
        out = WaitCmEvent(state->res->channel, RDMA_CM_EVENT_ESTABLISHED, timeoutMs,
                          active ? "rdma_cm connect" : "rdma_cm accept", state->cancel);
        std::lock_guard<std::mutex> lock(state->res->mutex);
        state->res->connected = true;
      },
      [this, active](Napi::Env e, CmEventResult& r) -> Napi::Value {
        // The passive side learned the peer's data from the connect request already.
        if (active) peerPrivateData_ = r.privateData;
        return e.Undefined();
      });
}

Napi::Value CmIdWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_->pending.load() > 0) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_BUSY", "cannot close a CmId while a resolve/connect/accept is pending", "await the pending promise first (each has a deadline)"));
  }
  // The QP may use a PD and CQ of another id's context (CmRailEndpoint puts every QP of a rail
  // on the first id's PD), so the context's children say nothing about it: ask the QP.
  if (state_->res && state_->res->qpBusy()) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_BUSY", "cannot close a CmId while an engine runs on its queue pair", "stop the engine and await its promise first"));
  }
  if (context_ && context_->Children() > 0) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_BUSY", "cannot close a CmId while PDs or CQs on its context are open", "close the queue pair, regions, CQ and PD first"));
  }
  Release();
  StopTracking();
  return env.Undefined();
}

}  // namespace spark
