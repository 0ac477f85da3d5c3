#!/usr/bin/env bash
# Installs whatever is missing for this project on a Debian/Ubuntu machine with
# Node >= 20: the npm dependencies, the TypeScript build, and, when no WebGPU
# adapter is found, Mesa's lavapipe (a CPU Vulkan driver) from bookworm-backports.
# Safe to run repeatedly: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. npm dependencies (again whenever the lockfile changed since the last install).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error >&2
fi

# 2. The build: compile when any TypeScript source is newer than the output.
if [ ! -f dist/.build-stamp ] || [ -n "$(find src bench/src -name '*.ts' -newer dist/.build-stamp -print -quit 2>/dev/null)" ] || [ tsconfig.json -nt dist/.build-stamp ]; then
  log "compiling TypeScript"
  npx tsc -p tsconfig.json
  touch dist/.build-stamp
fi

# 3. A WebGPU adapter.
if ! node scripts/has-adapter.js >/dev/null 2>&1; then
  log "no WebGPU adapter found; installing Mesa lavapipe (CPU Vulkan driver)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -f /etc/apt/sources.list.d/debian.sources ] && grep -q bookworm /etc/apt/sources.list.d/debian.sources; then
    # a bookworm-backports source made from the image's own debian.sources
    [ -f /etc/apt/sources.list.d/bpo.sources ] || sed -n '1,/^$/p' /etc/apt/sources.list.d/debian.sources \
      | sed 's/^Suites:.*/Suites: bookworm-backports/' | $SUDO tee /etc/apt/sources.list.d/bpo.sources >/dev/null
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >&2
  else
    # Newer Debian/Ubuntu releases ship a recent enough Mesa in the main archive.
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >&2
  fi
  node scripts/has-adapter.js >&2 || { log "still no WebGPU adapter after installing lavapipe"; exit 1; }
fi
