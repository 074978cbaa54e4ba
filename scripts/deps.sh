#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh - install the Debian packages procvisor needs, if any are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu

pkgs=(make meson ninja-build pkg-config gcc python3 libcmocka-dev libxen-dev
      linux-libc-dev clang libclang-rt-14-dev procps util-linux
      xenstore-utils xen-utils-4.17)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "procvisor needs: ${missing[*]}" >&2
    echo "run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# xen-utils' postinst complains that there is no hypervisor: harmless
$cmd >/dev/null
