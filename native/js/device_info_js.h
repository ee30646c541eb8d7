#pragma once

#include <napi.h>

#include "verbs/device_query.h"

namespace spark {

Napi::Object DeviceInfoToJs(Napi::Env env, const DeviceInfo& info);

}  // namespace spark
