// Device, port and GID-table queries as plain data (no N-API), so they are easy to reason
// about and to release on every path.
#pragma once

#include <infiniband/verbs.h>

#include <string>
#include <vector>

namespace spark {

struct GidInfo {
  uint32_t index = 0;
  std::string gid;
  std::string type;    // "IB", "RoCE v1", "RoCE v2"
  std::string netdev;  // empty when none
};

struct PortInfo {
  uint32_t port = 0;
  std::string state;
  std::string physState;
  int activeMtu = 0;
  int maxMtu = 0;
  std::string linkLayer;
  double rateGbps = 0;
  uint32_t lid = 0;
  int gidTableLength = 0;
  std::vector<GidInfo> gids;
};

struct DeviceInfo {
  std::string name;
  std::string nodeGuid;
  std::string sysImageGuid;
  uint32_t vendorId = 0;
  uint32_t vendorPartId = 0;
  uint32_t hwVer = 0;
  std::string firmware;
  std::string nodeType;
  ibv_device_attr attr{};
  std::vector<PortInfo> ports;
};

DeviceInfo QueryDevice(ibv_context* ctx);
std::vector<std::string> ListDeviceNames();
int MtuBytes(ibv_mtu mtu);
// Inverse of MtuBytes; throws ERR_RDMA_INVALID_ARGUMENT for anything but 256..4096 powers of two.
ibv_mtu MtuFromBytes(int bytes);

}  // namespace spark
