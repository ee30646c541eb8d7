#include "engine/latency_wrap.h"

#include <cstring>
#include <vector>

#include "engine/settle.h"
#include "engine/write_bw_wrap.h"
#include "js/args.h"
#include "js/cq_wrap.h"
#include "js/mr_wrap.h"
#include "js/qp_wrap.h"

namespace spark {

void LatencyWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "WriteLatencyEngine",
                                    {
                                        InstanceMethod<&LatencyWrap::Start>("start"),
                                        InstanceMethod<&LatencyWrap::Stop>("stop"),
                                        InstanceAccessor<&LatencyWrap::Running>("running"),
                                    });
  exports.Set("WriteLatencyEngine", ctor);
}

static WriteLatParams ReadParams(Napi::Env env, const Napi::Object& o) {
  WriteLatParams p;
  p.size = static_cast<uint32_t>(ReadNumber(env, o.Get("size"), "size", 1, 2147483648.0));
  p.inlineThreshold = static_cast<uint32_t>(ReadNumberField(env, o, "inlineThreshold", 220, 0, 1 << 16));
  bool hasIters = HasField(o, "iterations");
  bool hasDuration = HasField(o, "durationMs");
  if (hasIters == hasDuration) throw Napi::TypeError::New(env, "give exactly one of iterations and durationMs");
  if (hasIters) p.iterations = static_cast<uint64_t>(ReadNumber(env, o.Get("iterations"), "iterations", 1, 1e12));
  if (hasDuration) {
    p.durationNs = static_cast<uint64_t>(ReadNumber(env, o.Get("durationMs"), "durationMs", 1, 864e5)) * 1000000ull;
  }
  p.warmupIterations = static_cast<uint64_t>(ReadNumberField(env, o, "warmupIterations", 0, 0, 1e9));
  p.warmupNs = static_cast<uint64_t>(ReadNumberField(env, o, "warmupMs", 0, 0, 36e5) * 1e6);
  Napi::Value role = o.Get("role");
  std::string r = role.IsString() ? std::string(role.As<Napi::String>()) : "";
  if (r != "initiator" && r != "responder") throw Napi::TypeError::New(env, "role must be 'initiator' or 'responder'");
  p.initiator = r == "initiator";
  Napi::Value stampResponder = o.Get("stampResponder");
  p.stampResponder = stampResponder.IsBoolean() && stampResponder.As<Napi::Boolean>().Value();
  p.peerTimeoutNs = static_cast<uint64_t>(ReadNumberField(env, o, "peerTimeoutMs", 5000, 1, 36e5)) * 1000000ull;
  p.sampleBudget = static_cast<uint64_t>(ReadNumberField(env, o, "sampleBudget", 1e7, 1, 1e9));
  Napi::Value timer = o.Get("timer");
  std::string t = timer.IsUndefined() ? "auto" : timer.IsString() ? std::string(timer.As<Napi::String>()) : "";
  if (t == "auto") p.timer = TimerChoice::Auto;
  else if (t == "clock") p.timer = TimerChoice::Clock;
  else if (t == "counter") p.timer = TimerChoice::Counter;
  else throw Napi::TypeError::New(env, "timer must be 'auto', 'clock' or 'counter'");
  Napi::Value events = o.Get("events");
  if (!events.IsUndefined() && !events.IsBoolean()) throw Napi::TypeError::New(env, "params.events must be a boolean");
  p.events = events.IsBoolean() && events.As<Napi::Boolean>().Value();
  return p;
}

LatencyWrap::LatencyWrap(const Napi::CallbackInfo& info) : TrackedWrap<LatencyWrap>(info) {
  Napi::Env env = info.Env();
  target_.cq = CqWrap::From(env, info[0], "cq");
  Napi::Object t = ReadObject(env, info[1], "target");
  target_.qp = QpWrap::From(env, t.Get("qp"), "target.qp");
  target_.local = MrWrap::From(env, t.Get("local"), "target.local");
  target_.source = MrWrap::From(env, t.Get("source"), "target.source");
  target_.remoteAddr = ReadBigUint64(env, t.Get("remoteAddr"), "target.remoteAddr");
  target_.rkey = static_cast<uint32_t>(ReadNumber(env, t.Get("rkey"), "target.rkey", 0, 4294967295.0));
  params_ = ReadParams(env, ReadObject(env, info[2], "params"));
  if (params_.events && target_.cq->channel == nullptr) {
    throw Napi::TypeError::New(env, "params.events needs a CompletionQueue made with {completionChannel: true}");
  }
  if (target_.qp->cq != target_.cq) throw Napi::TypeError::New(env, "target.qp does not use this completion queue");
  if (target_.local->length < params_.size || target_.source->length < params_.size) {
    throw Napi::RangeError::New(env, "target.local and target.source must hold at least size (" +
                                         std::to_string(params_.size) + ") bytes");
  }
  StartTracking(env, Rank::Engine);
}

LatencyWrap::~LatencyWrap() {
  StopTracking();
  Release();
}

void LatencyWrap::Release() {
  thread_.StopAndJoin();
  if (running_) SetBusy(-1);
  running_ = false;
}

void LatencyWrap::SetBusy(int delta) {
  target_.qp->busy += delta;
  target_.local->busy += delta;
  target_.source->busy += delta;
}

Napi::Value LatencyWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (started_) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_BUSY", "this engine was already started", "create a new engine for each run"));
  }
  if (target_.qp->closed() || target_.local->closed() || target_.source->closed() || target_.cq->closed()) {
    throw MakeJsError(env, ErrorInfo("ERR_RDMA_CLOSED", "a queue pair, region or the CQ was closed before start()"));
  }
  tsfn_ = Tsfn::New(env, Napi::Function(), "spark-rdma:write-lat", 0, 1, this);
  deferred_.emplace(Napi::Promise::Deferred::New(env));
  started_ = running_ = true;
  SetBusy(+1);
  Ref();
  try {
    thread_.Start([this] { Body(); });
  } catch (...) {
    // Undo in reverse so the engine, its QP and regions are as they were before start().
    Unref();
    SetBusy(-1);
    started_ = running_ = false;
    deferred_.reset();
    tsfn_.Release();
    Guard(env, [] { throw; });
  }
  return deferred_->Promise();
}

void LatencyWrap::Body() {
  auto* msg = new Message();
  try {
    msg->result = RunWriteLatency(target_, params_, thread_.stopFlag());
  } catch (const VerbsError& e) {
    msg->error = e.info();
  } catch (const std::exception& e) {
    msg->error = InfoFromException(e);
  }
  if (tsfn_.BlockingCall(msg) != napi_ok) delete msg;
  tsfn_.Release();
}

// Exact moments and the non-empty buckets, all in one-way nanoseconds.
static Napi::Value HistogramToJs(Napi::Env env, const LatencyHistogram& h, double nsPerHalfTick) {
  std::vector<size_t> used;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (h.bucketCount(i) > 0) used.push_back(i);
  }
  Napi::Float64Array lower = Napi::Float64Array::New(env, used.size());
  Napi::Float64Array upper = Napi::Float64Array::New(env, used.size());
  Napi::Float64Array counts = Napi::Float64Array::New(env, used.size());
  for (size_t k = 0; k < used.size(); ++k) {
    lower[k] = static_cast<double>(LatencyHistogram::Lower(used[k])) * nsPerHalfTick;
    upper[k] = static_cast<double>(LatencyHistogram::Upper(used[k])) * nsPerHalfTick;
    counts[k] = static_cast<double>(h.bucketCount(used[k]));
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", static_cast<double>(h.count()));
  o.Set("minNs", static_cast<double>(h.min()) * nsPerHalfTick);
  o.Set("maxNs", static_cast<double>(h.max()) * nsPerHalfTick);
  o.Set("meanNs", h.Mean() * nsPerHalfTick);
  o.Set("varianceNs2", h.Variance() * nsPerHalfTick * nsPerHalfTick);
  o.Set("relativeError", LatencyHistogram::kRelativeError);
  o.Set("lowerNs", lower);
  o.Set("upperNs", upper);
  o.Set("counts", counts);
  return o;
}

static Napi::Value ResultToJs(Napi::Env env, const WriteLatResult& r) {
  // One copy into a JS-owned buffer: no JS call per sample, and no native memory to track.
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, r.samplesNs.size() * sizeof(double));
  if (!r.samplesNs.empty()) std::memcpy(ab.Data(), r.samplesNs.data(), ab.ByteLength());
  Napi::Object o = Napi::Object::New(env);
  o.Set("samplesNs", Napi::Float64Array::New(env, r.samplesNs.size(), ab, 0));
  o.Set("exchanges", static_cast<double>(r.exchanges));
  o.Set("warmupExchanges", static_cast<double>(r.warmupExchanges));
  o.Set("stoppedEarly", r.stoppedEarly);
  o.Set("inlineUsed", r.inlineUsed);
  Napi::Object timer = Napi::Object::New(env);
  timer.Set("source", r.timerSource);
  timer.Set("mhz", r.timerMhz);
  timer.Set("cpuMigrations", static_cast<double>(r.cpuMigrations));
  o.Set("timer", timer);
  o.Set("cpu", CpuToJs(env, r.cpu));
  Napi::Object events = Napi::Object::New(env);
  events.Set("wakeups", static_cast<double>(r.eventWakeups));
  events.Set("sleeps", static_cast<double>(r.eventSleeps));
  o.Set("events", events);
  o.Set("statistics", r.histogram ? "histogram" : "exact");
  o.Set("histogram", r.histogram ? HistogramToJs(env, *r.histogram, r.nsPerHalfTick) : env.Null());
  return o;
}

void LatencyWrap::CallJs(Napi::Env env, Napi::Function, LatencyWrap* self, Message* raw) {
  std::unique_ptr<Message> msg(raw);
  if (env == nullptr || self == nullptr) return;
  // Called from libuv: nothing may escape (see WriteBwWrap::CallJs).
  try {
    self->Finish(env, *msg);
  } catch (...) {
  }
}

void LatencyWrap::Finish(Napi::Env env, Message& msg) {
  thread_.StopAndJoin();
  if (running_) SetBusy(-1);
  running_ = false;
  SettleEngine(env, *deferred_, msg.error, [&] { return ResultToJs(env, msg.result); });
  UnrefQuietly(this);
}

Napi::Value LatencyWrap::Stop(const Napi::CallbackInfo& info) {
  thread_.RequestStop();
  return info.Env().Undefined();
}

Napi::Value LatencyWrap::Running(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), running_); }

}  // namespace spark
