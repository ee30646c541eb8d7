#include "util/gid.h"

#include <endian.h>

#include <cstdio>

#include "util/error.h"

namespace spark {

std::string GidToString(const ibv_gid& gid) {
  char out[40];
  const uint8_t* r = gid.raw;
  std::snprintf(out, sizeof out,
                "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x", r[0],
                r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                r[14], r[15]);
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ibv_gid GidFromString(const std::string& text) {
  ibv_gid gid{};
  bool ok = text.size() == 39;
  for (size_t group = 0; ok && group < 8; ++group) {
    size_t at = group * 5;
    if (group < 7 && text[at + 4] != ':') ok = false;
    for (size_t k = 0; ok && k < 4; k += 2) {
      int hi = HexValue(text[at + k]);
      int lo = HexValue(text[at + k + 1]);
      if (hi < 0 || lo < 0) ok = false;
      else gid.raw[group * 2 + k / 2] = static_cast<uint8_t>(hi << 4 | lo);
    }
  }
  if (!ok) {
    ThrowCode("ERR_RDMA_INVALID_ARGUMENT", "GID '" + text + "' is not in the form xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx",
              "pass the peer's GID as it appears in /sys/class/infiniband/<dev>/ports/<p>/gids/<i>");
  }
  return gid;
}

bool GidIsZero(const ibv_gid& gid) {
  for (uint8_t b : gid.raw) {
    if (b != 0) return false;
  }
  return true;
}

std::string GuidToString(__be64 guid) {
  uint64_t host = be64toh(guid);
  char out[20];
  std::snprintf(out, sizeof out, "%04x:%04x:%04x:%04x", static_cast<unsigned>(host >> 48 & 0xffff),
                static_cast<unsigned>(host >> 32 & 0xffff), static_cast<unsigned>(host >> 16 & 0xffff),
                static_cast<unsigned>(host & 0xffff));
  return out;
}

}  // namespace spark
