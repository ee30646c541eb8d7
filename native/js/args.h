// Argument readers that fail with a message naming the argument, the value and the range.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace spark {

double ReadNumber(Napi::Env env, const Napi::Value& v, const std::string& name, double min, double max);
// Optional property of an options object: `fallback` when absent or undefined.
double ReadNumberField(Napi::Env env, const Napi::Object& o, const char* key, double fallback, double min,
                       double max);
bool HasField(const Napi::Object& o, const char* key);
std::string ReadStringField(Napi::Env env, const Napi::Object& o, const char* key);
uint64_t ReadBigUint64(Napi::Env env, const Napi::Value& v, const std::string& name);
Napi::Object ReadObject(Napi::Env env, const Napi::Value& v, const std::string& name);

}  // namespace spark
