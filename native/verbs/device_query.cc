#include "verbs/device_query.h"

#include <net/if.h>

#include <cerrno>
#include <memory>

#include "util/error.h"
#include "util/gid.h"

namespace spark {

int MtuBytes(ibv_mtu mtu) {
  switch (mtu) {
    case IBV_MTU_256: return 256;
    case IBV_MTU_512: return 512;
    case IBV_MTU_1024: return 1024;
    case IBV_MTU_2048: return 2048;
    case IBV_MTU_4096: return 4096;
  }
  return 0;
}

ibv_mtu MtuFromBytes(int bytes) {
  switch (bytes) {
    case 256: return IBV_MTU_256;
    case 512: return IBV_MTU_512;
    case 1024: return IBV_MTU_1024;
    case 2048: return IBV_MTU_2048;
    case 4096: return IBV_MTU_4096;
  }
  ThrowCode("ERR_RDMA_INVALID_ARGUMENT", "MTU " + std::to_string(bytes) + " is not a RoCE path MTU",
            "use 256, 512, 1024, 2048 or 4096 (4096 needs netdev MTU >= 4200, e.g. 9000)");
}

static std::string PortStateName(ibv_port_state s) {
  switch (s) {
    case IBV_PORT_NOP: return "NOP";
    case IBV_PORT_DOWN: return "DOWN";
    case IBV_PORT_INIT: return "INIT";
    case IBV_PORT_ARMED: return "ARMED";
    case IBV_PORT_ACTIVE: return "ACTIVE";
    case IBV_PORT_ACTIVE_DEFER: return "ACTIVE_DEFER";
  }
  return "UNKNOWN";
}

static std::string PhysStateName(uint8_t s) {
  switch (s) {
    case 1: return "SLEEP";
    case 2: return "POLLING";
    case 3: return "DISABLED";
    case 4: return "PORT_CONFIGURATION_TRAINING";
    case 5: return "LINK_UP";
    case 6: return "LINK_ERROR_RECOVERY";
    case 7: return "PHY_TEST";
  }
  return "UNKNOWN";
}

static std::string LinkLayerName(uint8_t l) {
  switch (l) {
    case IBV_LINK_LAYER_ETHERNET: return "Ethernet";
    case IBV_LINK_LAYER_INFINIBAND: return "InfiniBand";
  }
  return "Unspecified";
}

// Lanes x per-lane rate, the way the kernel's sysfs `rate` file computes it.
static double RateGbps(uint8_t width, uint8_t speed) {
  int lanes = 0;
  switch (width) {
    case 1: lanes = 1; break;
    case 2: lanes = 4; break;
    case 4: lanes = 8; break;
    case 8: lanes = 12; break;
    case 16: lanes = 2; break;
  }
  double perLane = 0;
  switch (speed) {
    case 1: perLane = 2.5; break;
    case 2: perLane = 5; break;
    case 4: perLane = 10; break;
    case 8: perLane = 10; break;  // FDR10
    case 16: perLane = 14; break;
    case 32: perLane = 25; break;
    case 64: perLane = 50; break;
    case 128: perLane = 100; break;
  }
  return lanes * perLane;
}

static std::string GidTypeName(uint32_t type) {
  switch (type) {
    case IBV_GID_TYPE_IB: return "IB";
    case IBV_GID_TYPE_ROCE_V1: return "RoCE v1";
    case IBV_GID_TYPE_ROCE_V2: return "RoCE v2";
  }
  return "unknown";
}

static std::string IfName(uint32_t ifindex) {
  if (ifindex == 0) return "";
  char name[IF_NAMESIZE] = {0};
  return if_indextoname(ifindex, name) != nullptr ? name : "";
}

DeviceInfo QueryDevice(ibv_context* ctx) {
  DeviceInfo info;
  info.name = ibv_get_device_name(ctx->device);
  if (ibv_query_device(ctx, &info.attr) != 0) ThrowSyscall("ibv_query_device", errno, info.name);
  const ibv_device_attr& a = info.attr;
  info.nodeGuid = GuidToString(a.node_guid);
  info.sysImageGuid = GuidToString(a.sys_image_guid);
  info.vendorId = a.vendor_id;
  info.vendorPartId = a.vendor_part_id;
  info.hwVer = a.hw_ver;
  info.firmware = a.fw_ver;
  info.nodeType = ibv_node_type_str(ctx->device->node_type);

  size_t totalGids = 0;
  for (uint8_t p = 1; p <= a.phys_port_cnt; ++p) {
    ibv_port_attr pa{};
    if (ibv_query_port(ctx, p, &pa) != 0) ThrowSyscall("ibv_query_port", errno, info.name + " port " + std::to_string(p));
    PortInfo port;
    port.port = p;
    port.state = PortStateName(pa.state);
    port.physState = PhysStateName(pa.phys_state);
    port.activeMtu = MtuBytes(pa.active_mtu);
    port.maxMtu = MtuBytes(pa.max_mtu);
    port.linkLayer = LinkLayerName(pa.link_layer);
    port.rateGbps = RateGbps(pa.active_width, pa.active_speed);
    port.lid = pa.lid;
    port.gidTableLength = pa.gid_tbl_len;
    totalGids += static_cast<size_t>(pa.gid_tbl_len);
    info.ports.push_back(std::move(port));
  }

  if (totalGids > 0) {
    std::unique_ptr<ibv_gid_entry[]> entries(new ibv_gid_entry[totalGids]);
    ssize_t n = ibv_query_gid_table(ctx, entries.get(), totalGids, 0);
    if (n < 0) ThrowSyscall("ibv_query_gid_table", static_cast<int>(-n), info.name);
    for (ssize_t i = 0; i < n; ++i) {
      const ibv_gid_entry& e = entries[i];
      if (GidIsZero(e.gid) || e.port_num == 0 || e.port_num > info.ports.size()) continue;
      GidInfo g;
      g.index = e.gid_index;
      g.gid = GidToString(e.gid);
      g.type = GidTypeName(e.gid_type);
      g.netdev = IfName(e.ndev_ifindex);
      info.ports[e.port_num - 1].gids.push_back(std::move(g));
    }
  }
  return info;
}

std::vector<std::string> ListDeviceNames() {
  int count = 0;
  ibv_device** list = ibv_get_device_list(&count);
  if (list == nullptr) {
    // No uverbs support at all (no module, no sysfs class) reads as "no devices".
    if (errno == ENOSYS || errno == ENOENT) return {};
    ThrowSyscall("ibv_get_device_list", errno, "");
  }
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.emplace_back(ibv_get_device_name(list[i]));
  ibv_free_device_list(list);
  return names;
}

}  // namespace spark
