// A minimal writer for the cpio "newc" format, the one the Linux kernel unpacks as an initramfs.
// Written in Node so the archive is byte-for-byte reproducible (no host uids, mtimes or order).

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(value) {
  return value.toString(16).padStart(8, '0');
}

function pad4(length) {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

export class CpioArchive {
  #chunks = [];
  #inode = 1;

  #entry(name, mode, data = Buffer.alloc(0), { rdevMajor = 0, rdevMinor = 0, nlink = 1 } = {}) {
    const nameBytes = Buffer.from(`${name}\0`);
    const header =
      '070701' +
      [this.#inode++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0]
        .map(hex8)
        .join('');
    const head = Buffer.concat([Buffer.from(header, 'ascii'), nameBytes]);
    this.#chunks.push(head, pad4(head.length), data, pad4(data.length));
  }

  directory(name, permissions = 0o755) {
    this.#entry(name, S_IFDIR | permissions, undefined, { nlink: 2 });
  }

  file(name, data, permissions = 0o644) {
    this.#entry(name, S_IFREG | permissions, Buffer.from(data));
  }

  symlink(name, target) {
    this.#entry(name, S_IFLNK | 0o777, Buffer.from(target));
  }

  characterDevice(name, major, minor, permissions = 0o600) {
    this.#entry(name, S_IFCHR | permissions, undefined, { rdevMajor: major, rdevMinor: minor });
  }

  /** The finished archive; call once, after the last entry. */
  toBuffer() {
    this.#entry('TRAILER!!!', 0);
    const archive = Buffer.concat(this.#chunks);
    // The kernel reads the archive in 512-byte blocks; pad like cpio(1) does.
    return Buffer.concat([archive, Buffer.alloc((512 - (archive.length % 512)) % 512)]);
  }
}
