#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - what `make demo` shows: an embedded hypervisor, two domains, an
# unmodified libxencall program in each, and what the hypervisor saw.
set -eu
cd "$(dirname "$0")/.."
pv=build/procvisor
hello=build/hello_xen

# as root, a domain's processes run as their own uid and must reach the
# program; a tree under a private directory (say /root) is not reachable
if [ "$(id -u)" = 0 ] && ! setpriv --reuid=1879048193 --regid=1879048193 \
    --clear-groups test -x "$hello" 2>/dev/null; then
    echo "note: $(pwd) is not reachable by other uids; the demo's domains run as root"
    export PROCVISOR_DOMAIN_UIDS=0
fi

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "procvisor list      # any command starts the hypervisor if none runs"
$pv list
step "procvisor create demo-alpha --memory 32"
a=$($pv create demo-alpha --memory 32); echo "$a"
step "procvisor create demo-beta --vcpus 2"
b=$($pv create demo-beta --vcpus 2); echo "$b"

step "procvisor run demo-alpha -- hello_xen demo-alpha 1 &   (and the same in demo-beta)"
$pv run demo-alpha -- "$hello" demo-alpha 1 &
pa=$!
$pv run demo-beta -- "$hello" demo-beta 1 &
pb=$!
sleep 0.5
step "procvisor list      # while their programs run"
$pv list
wait $pa $pb
step "procvisor list      # each domain died with its last process"
$pv list
step "procvisor console $a"
$pv console "$a"
step "event channels: demo-ping and demo-pong bounce 10,000 events through Debian's libxenevtchn"
ping=$($pv create demo-ping)
pong=$($pv create demo-pong)
fifo=$(mktemp -u /tmp/procvisor-demo.XXXXXX)
mkfifo "$fifo"
$pv run demo-ping -- build/tests/evtchn_pingpong server "$pong" 10000 >"$fifo" &
pp=$!
exec 3<"$fifo"
read -r line <&3
echo "demo-ping bound ${line}, waiting for demo-pong"
sleep 0.2
echo "\$ procvisor evtchn demo-ping"
$pv evtchn demo-ping
$pv run demo-pong -- build/tests/evtchn_pingpong client "$ping" "${line#port=}" 10000 |
    sed 's/^/demo-pong: /'
sed 's/^/demo-ping: /' <&3
exec 3<&-
wait $pp
rm -f "$fifo"

step "grants: demo-share shares a page through Debian's libxengnttab (xengntshr), demo-map maps it (xengnttab)"
sh_id=$($pv create demo-share)
map_id=$($pv create demo-map)
gfifo=$(mktemp -u /tmp/procvisor-demo.XXXXXX)
mkfifo "$gfifo"
$pv run demo-share -- build/tests/gnt_probe share-notify "$map_id" >"$gfifo" &
gs=$!
exec 4<"$gfifo"
read -r gref <&4
read -r gport <&4
echo "demo-share granted ${gref} to d$map_id and offered event channel ${gport}"
gout=$(mktemp /tmp/procvisor-demo.XXXXXX)
$pv run demo-map -- build/tests/gnt_probe map-notify "$sh_id" "${gref#ref=}" \
    "${gport#port=}" >"$gout" 2>&1 &
gm=$!
disown "$gm" # it is killed below: no job report
for _ in $(seq 1 100); do
    grep -q mapped "$gout" && break
    sleep 0.05
done
sed 's/^/demo-map: /' "$gout"
echo "\$ procvisor gnttab demo-share     # the grant, pinned writable by d$map_id"
$pv gnttab demo-share
echo "\$ kill -KILL <demo-map>   # its unmap notification clears a byte and sends an event"
pkill -KILL -f "gnt_probe map-notify" 2>/dev/null || true
sed 's/^/demo-share: /' <&4
exec 4<&-
wait "$gs" || true
rm -f "$gfifo" "$gout"

step "VFIO: procvisor device add edu   # QEMU's edu device, in its own device-model process"
read -r edu_name edu_group < <($pv device add edu)
echo "$edu_name $edu_group"
drv=$($pv create demo-driver)
step "procvisor vfio assign $edu_group demo-driver; procvisor run demo-driver -- vfio-edu   # <linux/vfio.h> only"
$pv vfio assign "$edu_group" "$drv"
$pv run demo-driver -- build/vfio-edu | sed 's/^/demo-driver: /'
step "procvisor vfio list; procvisor vfio faults   # the DMA the IOMMU refused"
$pv vfio list
$pv vfio faults

step "procvisor dmesg"
$pv dmesg
echo
echo "The hypervisor keeps running (runtime directory: $($pv env | sed -n "s/^export PROCVISOR_DIR='\(.*\)'$/\1/p"))."
echo "Try: $pv create mine && $pv run mine -- $hello mine; stop it with: $pv down"
