#!/usr/bin/env bash
# Installs, on x86-64 Debian 12 as root, what `npm run prebuilds` and its tests need: the
# packages in apt-packages.txt (arm64 ones through multiarch) and Debian's arm64 node, unpacked
# under build-prebuilds/ for qemu-user. Safe to run again. Usage: bash scripts/prebuilds/install-toolchain.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$here/apt-packages.txt")
started=$SECONDS
if ! dpkg --print-foreign-architectures | grep -qx arm64; then $sudo dpkg --add-architecture arm64; fi
$sudo apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "@spark/rdma: ${#packages[@]} packages installed in $((SECONDS - started)) s"
node "$here/arm64-node.mjs"
