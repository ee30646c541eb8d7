#include "js/args.h"

#include <cmath>
#include <sstream>

namespace spark {

static std::string Format(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

double ReadNumber(Napi::Env env, const Napi::Value& v, const std::string& name, double min, double max) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || d < min || d > max || std::floor(d) != d) {
    throw Napi::RangeError::New(env, name + " is " + Format(d) + "; it must be an integer from " + Format(min) +
                                         " to " + Format(max));
  }
  return d;
}

bool HasField(const Napi::Object& o, const char* key) { return o.Has(key) && !o.Get(key).IsUndefined(); }

double ReadNumberField(Napi::Env env, const Napi::Object& o, const char* key, double fallback, double min,
                       double max) {
  if (!HasField(o, key)) return fallback;
  return ReadNumber(env, o.Get(key), key, min, max);
}

std::string ReadStringField(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string(key) + " must be a string");
  return v.As<Napi::String>();
}

uint64_t ReadBigUint64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(env, name + " does not fit in 64 bits unsigned");
    return out;
  }
  if (v.IsNumber()) return static_cast<uint64_t>(ReadNumber(env, v, name, 0, 9007199254740991.0));
  throw Napi::TypeError::New(env, name + " must be a bigint");
}

Napi::Object ReadObject(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, name + " must be an object");
  return v.As<Napi::Object>();
}

}  // namespace spark
