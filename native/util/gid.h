// GIDs as sysfs prints them: 8 groups of 4 hex digits separated by colons.
#pragma once

#include <infiniband/verbs.h>

#include <string>

namespace spark {

std::string GidToString(const ibv_gid& gid);
// Accepts the 8-group form; throws VerbsError(ERR_RDMA_INVALID_ARGUMENT) otherwise.
ibv_gid GidFromString(const std::string& text);
bool GidIsZero(const ibv_gid& gid);
// "xxxx:xxxx:xxxx:xxxx" from a big-endian 64-bit GUID, as ibv_devinfo prints it.
std::string GuidToString(__be64 guid);

}  // namespace spark
