#!/usr/bin/env bash
# Installs what VlmRm needs on a Debian 12 machine, idempotently, then restores and builds.
# Needs root for apt (CI and the dev machines run as root); with everything present it installs nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
quiet=false
[[ "${1:-}" == "--quiet" ]] && quiet=true
say() { $quiet || echo "setup: $*"; }

# Debian packages: ffmpeg writes the MP4 rollouts; g++, patchelf, binutils and python3 patch
# TorchSharp's native bridge for Debian 12 at build time (docs/TORCHSHARP.md); MuJoCo, its samples
# (Debian's humanoid model, mujoco-testspeed) and OSMesa run the Humanoid headless (docs/HUMANOID.md).
# redis-server and Azurite (npm) back the cluster's integration tests (Redis clustering, blob checkpoints);
# headless chromium drives the labelling page's browser test.
apt_packages=(ffmpeg g++ gcc patchelf binutils python3 libmujoco-dev libmujoco-samples libosmesa6 libosmesa6-dev libegl-dev libegl1 libegl-mesa0 libgl1-mesa-dri redis-server chromium)
# Node.js may come from outside Debian (with its own npm): ask apt for npm only when there is none.
command -v npm >/dev/null || apt_packages+=(npm)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x tools/azurite/node_modules/.bin/azurite-blob ]]; then
  say "installing Azurite (npm) into tools/azurite"
  (cd tools/azurite && npm install --no-audit --no-fund --loglevel=error >/dev/null) || { echo "setup: npm could not install Azurite" >&2; exit 1; }
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is not on PATH; install it (https://learn.microsoft.com/dotnet/core/install/linux-debian) and rerun." >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
say "restoring and building (Release)"
if ! build_log=$(dotnet build VlmRm.sln -c Release -nologo -clp:ErrorsOnly 2>&1); then
  echo "$build_log" >&2
  if grep -q "No space left on device\|the disk was full" <<<"$build_log"; then
    # Output folders hard-link the NuGet cache's files (Directory.Build.props): about 2 GB in all, but 11 GB where
    # the cache is on another file system and every folder gets its own copy of the native runtimes.
    echo "setup: build failed: the disk is full ($(df -h --output=avail . | tail -1 | tr -d ' ') left here); a build needs about 2 GB beside the NuGet cache (NUGET_PACKAGES), 11 GB if that cache is on another file system" >&2
  else
    echo "setup: build failed" >&2
  fi
  exit 1
fi
say "ready"
