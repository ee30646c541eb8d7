#include "js/device_info_js.h"

namespace spark {

static Napi::Object PortToJs(Napi::Env env, const PortInfo& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("port", p.port);
  o.Set("state", p.state);
  o.Set("physState", p.physState);
  o.Set("activeMtu", p.activeMtu);
  o.Set("maxMtu", p.maxMtu);
  o.Set("linkLayer", p.linkLayer);
  o.Set("rateGbps", p.rateGbps);
  o.Set("lid", p.lid);
  o.Set("gidTableLength", p.gidTableLength);
  Napi::Array gids = Napi::Array::New(env, p.gids.size());
  for (size_t i = 0; i < p.gids.size(); ++i) {
    const GidInfo& g = p.gids[i];
    Napi::Object e = Napi::Object::New(env);
    e.Set("index", g.index);
    e.Set("gid", g.gid);
    e.Set("type", g.type);
    e.Set("netdev", g.netdev.empty() ? env.Null() : Napi::String::New(env, g.netdev));
    gids.Set(static_cast<uint32_t>(i), e);
  }
  o.Set("gids", gids);
  return o;
}

Napi::Object DeviceInfoToJs(Napi::Env env, const DeviceInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", info.name);
  o.Set("nodeGuid", info.nodeGuid);
  o.Set("sysImageGuid", info.sysImageGuid);
  o.Set("vendorId", info.vendorId);
  o.Set("vendorPartId", info.vendorPartId);
  o.Set("hwVer", info.hwVer);
  o.Set("firmware", info.firmware);
  o.Set("nodeType", info.nodeType);
  const ibv_device_attr& a = info.attr;
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxQp", a.max_qp);
  limits.Set("maxQpWr", a.max_qp_wr);
  limits.Set("maxCq", a.max_cq);
  limits.Set("maxCqe", a.max_cqe);
  limits.Set("maxMr", a.max_mr);
  limits.Set("maxMrSize", Napi::BigInt::New(env, static_cast<uint64_t>(a.max_mr_size)));
  limits.Set("maxPd", a.max_pd);
  limits.Set("maxSge", a.max_sge);
  limits.Set("maxQpRdAtom", a.max_qp_rd_atom);
  o.Set("limits", limits);
  Napi::Array ports = Napi::Array::New(env, info.ports.size());
  for (size_t i = 0; i < info.ports.size(); ++i) ports.Set(static_cast<uint32_t>(i), PortToJs(env, info.ports[i]));
  o.Set("ports", ports);
  return o;
}

}  // namespace spark
