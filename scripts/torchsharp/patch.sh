#!/usr/bin/env bash
# Makes the copy of TorchSharp's libLibTorchSharp.so in a build output folder load on Debian 12
# (see ../../docs/TORCHSHARP.md). Idempotent; does nothing when the system libstdc++ is new enough.
set -euo pipefail
folder="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
library="$folder/libLibTorchSharp.so"
shim_name="libvlmrm_ios_init.so"
[[ -f "$library" ]] || exit 0

libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [[ -n "$libstdcxx" ]] && grep -q "GLIBCXX_3.4.32" "$libstdcxx"; then exit 0; fi
if readelf -d "$library" | grep -q "$shim_name"; then exit 0; fi

for tool in g++ patchelf python3 readelf; do
  command -v "$tool" >/dev/null || { echo "patch-torchsharp: $tool is missing; run ./vlmrm setup" >&2; exit 1; }
done
# The build hard-links package files into output folders; editing the shared inode would patch the NuGet cache.
if [[ $(stat -c %h "$library") -gt 1 ]]; then
  cp -p "$library" "$library.unlinked" && mv -f "$library.unlinked" "$library"
fi
g++ -shared -fPIC -O2 -o "$folder/$shim_name" "$here/ios_base_library_init.cpp"
patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$library"
patchelf --add-needed "$shim_name" "$library"
patchelf --add-rpath '$ORIGIN' "$library"
python3 "$here/weaken_version_need.py" "$library" GLIBCXX_3.4.32 >/dev/null
