#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for @spark/rdma: Debian packages (the build, rdma-core,
# the soft-RoCE guest, the arm64 cross toolchain for the prebuilds), npm dependencies (whose
# install hook builds the native addon), the TypeScript build and the prebuilt binaries.
# Safe to run again. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
started=$SECONDS

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' scripts/apt-packages.txt)
# The tests need only promtool from Debian's prometheus package, whose install also enables and
# starts a Prometheus server (port 9090) where systemd runs. Undo that, unless it was installed before.
had_prometheus=0
if dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q 'install ok installed'; then had_prometheus=1; fi
$sudo apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
if [ "$had_prometheus" = 0 ] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now prometheus.service || true
  echo "setup: disabled the Prometheus server that Debian's prometheus package started (only promtool is used)"
fi
echo "setup: Debian packages ready after $((SECONDS - started)) s"

bash scripts/prebuilds/install-toolchain.sh
echo "setup: arm64 cross toolchain ready after $((SECONDS - started)) s"

npm ci --no-audit --no-fund
npm run build:ts
npm run prebuilds
echo "setup: done in $((SECONDS - started)) s"
