import type { DeviceInfo, PortInfo } from '@spark/rdma/binding';
import type { NativeBinding } from '../native/load.js';
import { normalizeGid } from '../sysfs/gid.js';
import type { SysfsDevice, SysfsPort } from '../sysfs/types.js';

// On the real /sys, verbs know the active MTU (sysfs does not show it) and give an independent
// view of states and GID tables. Differences become warnings: sysfs stays the source of rails.

function crossCheckPort(device: string, sys: SysfsPort, verbs: PortInfo, warnings: string[]): SysfsPort {
  const where = `${device} port ${sys.port}`;
  if (verbs.state !== sys.state) warnings.push(`${where}: sysfs says ${sys.state}, verbs says ${verbs.state} (the link may be changing)`);
  for (const g of sys.gids) {
    const v = verbs.gids.find((e) => e.index === g.index);
    if (!v) warnings.push(`${where}: GID ${g.index} (${g.gid}) is in sysfs but not in the verbs GID table`);
    else if (normalizeGid(v.gid) !== g.gid || v.type !== g.type) {
      warnings.push(`${where}: GID ${g.index} is ${g.gid} ${g.type} in sysfs but ${v.gid} ${v.type} through verbs`);
    }
  }
  return { ...sys, activeMtu: verbs.activeMtu, activeMtuSource: 'verbs' };
}

/** Returns the devices with verbs' active MTU filled in; records every disagreement as a warning. */
export function enrichWithVerbs(devices: SysfsDevice[], binding: NativeBinding, warnings: string[]): SysfsDevice[] {
  let names: string[];
  try {
    names = binding.listDevices();
  } catch (err) {
    warnings.push(`could not list devices through verbs (${(err as Error).message}); using sysfs alone`);
    return devices;
  }
  for (const name of names) {
    if (!devices.some((d) => d.name === name)) warnings.push(`verbs lists ${name}, which sysfs does not show`);
  }
  return devices.map((device) => {
    if (!names.includes(device.name)) {
      warnings.push(`sysfs shows ${device.name}, which verbs does not list (is its provider library installed?)`);
      return device;
    }
    let info: DeviceInfo;
    try {
      info = binding.queryDevice(device.name);
    } catch (err) {
      warnings.push(`could not query ${device.name} through verbs (${(err as Error).message}); using sysfs alone for it`);
      return device;
    }
    const ports = device.ports.map((port) => {
      const verbsPort = info.ports.find((p) => p.port === port.port);
      return verbsPort ? crossCheckPort(device.name, port, verbsPort, warnings) : port;
    });
    return { ...device, ports };
  });
}
