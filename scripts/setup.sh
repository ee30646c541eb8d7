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
$sudo apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "setup: Debian packages ready after $((SECONDS - started)) s"

bash scripts/prebuilds/install-toolchain.sh
echo "setup: arm64 cross toolchain ready after $((SECONDS - started)) s"

npm ci --no-audit --no-fund
npm run build:ts
npm run prebuilds
echo "setup: done in $((SECONDS - started)) s"
