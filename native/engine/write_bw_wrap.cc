#include "engine/write_bw_wrap.h"

#include "engine/settle.h"
#include "js/args.h"
#include "js/cq_wrap.h"
#include "js/mr_wrap.h"
#include "js/qp_wrap.h"

namespace spark {

void WriteBwWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "WriteBandwidthEngine",
                                    {
                                        InstanceMethod<&WriteBwWrap::Start>("start"),
                                        InstanceMethod<&WriteBwWrap::Stop>("stop"),
                                        InstanceAccessor<&WriteBwWrap::Running>("running"),
                                    });
  exports.Set("WriteBandwidthEngine", ctor);
}

static WriteBwParams ReadParams(Napi::Env env, const Napi::Object& o) {
  WriteBwParams p;
  p.size = static_cast<uint32_t>(ReadNumber(env, o.Get("size"), "size", 1, 2147483648.0));
  p.txDepth = static_cast<uint32_t>(ReadNumber(env, o.Get("txDepth"), "txDepth", 1, 1 << 24));
  p.postList = static_cast<uint32_t>(ReadNumberField(env, o, "postList", 1, 1, p.txDepth));
  p.signalEvery = static_cast<uint32_t>(ReadNumberField(env, o, "signalEvery", 1, 1, p.txDepth));
  p.inlineThreshold = static_cast<uint32_t>(ReadNumberField(env, o, "inlineThreshold", 0, 0, 1 << 16));
  bool hasIters = HasField(o, "iterations");
  bool hasDuration = HasField(o, "durationMs");
  if (hasIters == hasDuration) {
    throw Napi::TypeError::New(env, "give exactly one of iterations and durationMs");
  }
  if (hasIters) p.iterations = static_cast<uint64_t>(ReadNumber(env, o.Get("iterations"), "iterations", 1, 1e15));
  if (hasDuration) {
    p.durationNs = static_cast<uint64_t>(ReadNumber(env, o.Get("durationMs"), "durationMs", 1, 864e5)) * 1000000ull;
  }
  p.warmupNs = static_cast<uint64_t>(ReadNumberField(env, o, "warmupMs", 0, 0, 6e5)) * 1000000ull;
  p.intervalNs = static_cast<uint64_t>(ReadNumberField(env, o, "intervalMs", 1000, 1, 36e5)) * 1000000ull;
  p.completionTimeoutNs =
      static_cast<uint64_t>(ReadNumberField(env, o, "completionTimeoutMs", 5000, 1, 36e5)) * 1000000ull;
  Napi::Value events = o.Get("events");
  if (!events.IsUndefined() && !events.IsBoolean()) throw Napi::TypeError::New(env, "params.events must be a boolean");
  p.events = events.IsBoolean() && events.As<Napi::Boolean>().Value();
  p.niceIncrement = static_cast<int>(ReadNumberField(env, o, "engineNice", 0, 0, 19));
  return p;
}

WriteBwWrap::WriteBwWrap(const Napi::CallbackInfo& info) : TrackedWrap<WriteBwWrap>(info) {
  Napi::Env env = info.Env();
  cq_ = CqWrap::From(env, info[0], "cq");
  if (!info[1].IsArray() || info[1].As<Napi::Array>().Length() == 0) {
    throw Napi::TypeError::New(env, "targets must be a non-empty array of {qp, local, remoteAddr, rkey}");
  }
  params_ = ReadParams(env, ReadObject(env, info[2], "params"));
  if (params_.events && cq_->channel == nullptr) {
    throw Napi::TypeError::New(env, "params.events needs a CompletionQueue made with {completionChannel: true}");
  }
  Napi::Array arr = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    std::string at = "targets[" + std::to_string(i) + "]";
    Napi::Object t = ReadObject(env, arr.Get(i), at);
    WriteTargetRes target;
    target.qp = QpWrap::From(env, t.Get("qp"), (at + ".qp").c_str());
    target.local = MrWrap::From(env, t.Get("local"), (at + ".local").c_str());
    target.remoteAddr = ReadBigUint64(env, t.Get("remoteAddr"), at + ".remoteAddr");
    target.rkey = static_cast<uint32_t>(ReadNumber(env, t.Get("rkey"), at + ".rkey", 0, 4294967295.0));
    if (target.qp->cq != cq_) throw Napi::TypeError::New(env, at + ".qp does not use this completion queue");
    if (target.local->length < params_.size) {
      throw Napi::RangeError::New(env, at + ".local is " + std::to_string(target.local->length) +
                                           " bytes, smaller than the message size " + std::to_string(params_.size));
    }
    if (params_.txDepth > target.qp->maxSendWr) {
      throw Napi::RangeError::New(env, "txDepth " + std::to_string(params_.txDepth) + " exceeds " + at +
                                           ".qp's maxSendWr " + std::to_string(target.qp->maxSendWr));
    }
    targets_.push_back(std::move(target));
  }
  StartTracking(env, Rank::Engine);
}

WriteBwWrap::~WriteBwWrap() {
  StopTracking();
  Release();
}

void WriteBwWrap::Release() {
  thread_.StopAndJoin();
  if (running_) SetBusy(-1);
  running_ = false;
}

void WriteBwWrap::SetBusy(int delta) {
  for (WriteTargetRes& t : targets_) {
    t.qp->busy += delta;
    t.local->busy += delta;
  }
}

Napi::Value WriteBwWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (started_) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_BUSY", "this engine was already started", "create a new engine for each run"));
  }
  for (const WriteTargetRes& t : targets_) {
    if (t.qp->closed() || t.local->closed() || cq_->closed()) {
      throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", "a queue pair, region or the CQ was closed before start()"));
    }
  }
  Napi::Function onSample = info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function();
  tsfn_ = Tsfn::New(env, onSample, "spark-rdma:write-bw", 0, 1, this);
  deferred_.emplace(Napi::Promise::Deferred::New(env));
  started_ = running_ = true;
  SetBusy(+1);
  Ref();  // the engine object stays alive until its promise settles
  try {
    thread_.Start([this] { Body(); });
  } catch (...) {
    // Undo in reverse so the engine, its QPs and regions are as they were before start().
    Unref();
    SetBusy(-1);
    started_ = running_ = false;
    deferred_.reset();
    tsfn_.Release();
    Guard(env, [] { throw; });
  }
  return deferred_->Promise();
}

void WriteBwWrap::Body() {
  auto done = std::make_unique<Message>();
  done->done = true;
  try {
    done->result = RunWriteBandwidth(cq_, targets_, params_, thread_.stopFlag(), [this](const BwSample& s) {
      auto* msg = new Message();
      msg->sample = s;
      if (tsfn_.NonBlockingCall(msg) != napi_ok) delete msg;
    });
  } catch (const VerbsError& e) {
    done->error = e.info();
  } catch (const std::exception& e) {
    done->error = InfoFromException(e);
  }
  Message* raw = done.release();
  if (tsfn_.BlockingCall(raw) != napi_ok) delete raw;
  tsfn_.Release();
}

Napi::Object CpuToJs(Napi::Env env, const CpuSpan& span) {
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("threadNs", static_cast<double>(span.threadNs));
  cpu.Set("wallNs", static_cast<double>(span.wallNs));
  return cpu;
}

static Napi::Object CountersToJs(Napi::Env env, const WriteBwResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array qps = Napi::Array::New(env, r.qps.size());
  for (size_t i = 0; i < r.qps.size(); ++i) {
    const QpCounters& c = r.qps[i];
    Napi::Object q = Napi::Object::New(env);
    q.Set("qpn", c.qpn);
    q.Set("bytes", static_cast<double>(c.bytes));
    q.Set("messages", static_cast<double>(c.messages));
    q.Set("firstPostNs", static_cast<double>(c.firstPostNs));
    q.Set("lastCompletionNs", static_cast<double>(c.lastCompletionNs));
    qps.Set(static_cast<uint32_t>(i), q);
  }
  o.Set("qps", qps);
  o.Set("bytes", static_cast<double>(r.bytes));
  o.Set("messages", static_cast<double>(r.messages));
  o.Set("firstPostNs", static_cast<double>(r.firstPostNs));
  o.Set("lastCompletionNs", static_cast<double>(r.lastCompletionNs));
  o.Set("warmupMessages", static_cast<double>(r.warmupMessages));
  o.Set("stoppedEarly", r.stoppedEarly);
  Napi::Object engine = Napi::Object::New(env);
  engine.Set("postCalls", static_cast<double>(r.postCalls));
  engine.Set("pollCalls", static_cast<double>(r.pollCalls));
  engine.Set("emptyPolls", static_cast<double>(r.emptyPolls));
  engine.Set("inlineUsed", r.inlineUsed);
  engine.Set("eventWakeups", static_cast<double>(r.eventWakeups));
  engine.Set("eventSleeps", static_cast<double>(r.eventSleeps));
  engine.Set("nice", r.nice);
  o.Set("engine", engine);
  o.Set("cpu", CpuToJs(env, r.cpu));
  return o;
}

void WriteBwWrap::CallJs(Napi::Env env, Napi::Function onSample, WriteBwWrap* self, Message* msg) {
  std::unique_ptr<Message> owned(msg);
  if (env == nullptr || self == nullptr) return;  // environment is going away
  // Called from libuv, not from JS: nothing may escape (a worker being terminated makes every
  // N-API call fail, and node-addon-api turns that into a C++ exception).
  try {
    Deliver(env, onSample, self, *msg);
  } catch (...) {
  }
}

void WriteBwWrap::Deliver(Napi::Env env, Napi::Function onSample, WriteBwWrap* self, Message& message) {
  Message* msg = &message;
  if (!msg->done) {
    if (onSample.IsEmpty() || onSample.IsUndefined()) return;
    Napi::Object s = Napi::Object::New(env);
    s.Set("tNs", static_cast<double>(msg->sample.tNs));
    s.Set("intervalNs", static_cast<double>(msg->sample.intervalNs));
    s.Set("bytes", static_cast<double>(msg->sample.bytes));
    s.Set("messages", static_cast<double>(msg->sample.messages));
    try {
      onSample.Call({s});
    } catch (const Napi::Error&) {
      // A throwing listener must not take the run down; the TS layer reports listener errors.
    }
    return;
  }
  self->Finish(env, *msg);
}

void WriteBwWrap::Finish(Napi::Env env, Message& msg) {
  thread_.StopAndJoin();
  if (running_) SetBusy(-1);
  running_ = false;
  // A finished engine holds nothing: its QPs (and an rdma_cm id closed meanwhile) can go.
  targets_.clear();
  cq_.reset();
  SettleEngine(env, *deferred_, msg.error, [&] { return CountersToJs(env, msg.result); });
  UnrefQuietly(this);
}

Napi::Value WriteBwWrap::Stop(const Napi::CallbackInfo& info) {
  thread_.RequestStop();
  return info.Env().Undefined();
}

Napi::Value WriteBwWrap::Running(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), running_); }

}  // namespace spark
