#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vfio_shim.sh - the preload library's side of VFIO in a domain (the
# end-to-end story is vfio.sh): every ioctl's error paths through raw
# <linux/vfio.h> calls (tests/compat/vfio_probe), sysfs as everyday tools
# read it, close and exit releasing the group at once as in Linux, a
# forked child's inert descriptors, the cost of a region read against the
# same vfio-user message sent by hand, and no VFIO at all when no
# hypervisor answers.
. "$(dirname "$0")/lib.sh"

VP="$BUILD/tests/vfio_probe"
out="$PROCVISOR_DIR/out"
run() { pv run drv -- "$@"; }

read -r name group < <(pv device add edu)
pv create drv >/dev/null
"$PROCVISOR" run drv -- sleep 600 &
keep=$!
wait_for '[ "$(procs_of drv)" = 1 ]'
pv vfio assign "$group" drv
check "assign" $? 0

# --- every ioctl's success and error paths, as Linux answers them
run "$VP" errors "$group" "$name" >"$out" 2>&1
check "the probe's error paths" "$(tail -n 1 "$out" | sed 's/.*checks, //')" \
    "0 failed"
grep FAIL "$out"

# --- close and exit release at once: the next open is not EBUSY
busy=0
for _ in 1 2 3 4 5; do
    run "$VP" open "$group" </dev/null >"$out" 2>&1
    [ "$(cat "$out")" = "open=0" ] || busy=$((busy + 1))
done
check "five programs in a row open the group" "$busy" 0

# --- fork: the child's VFIO descriptors are inert, the parent's work
run "$VP" fork "$group" "$name" >"$out" 2>&1
check "after fork, the child's container ioctl" "$(kv "$out" child_ioctl)" \
    ENOTTY
check "the child's region read is at end of file" "$(kv "$out" child_read)" \
    ENODATA
check "the parent's region read" "$(kv "$out" parent_read)" 0
check "the parent's ioctl" "$(kv "$out" parent_ioctl)" 0

# --- sysfs as tools read it, in the domain
check "ls lists the device" \
    "$(run ls /sys/bus/pci/devices | grep -cx "$name")" 1
check "readlink iommu_group" \
    "$(run readlink "/sys/bus/pci/devices/$name/iommu_group")" \
    "../../../kernel/iommu_groups/$group"
check "readlink driver" "$(run readlink "/sys/bus/pci/devices/$name/driver")" \
    "../../../bus/pci/drivers/vfio-pci"
check "cat vendor" "$(run cat "/sys/bus/pci/devices/$name/vendor")" 0x1234
check "cat device" "$(run cat "/sys/bus/pci/devices/$name/device")" 0x11e8
check "the device is a directory (stat)" \
    "$(run sh -c "test -d /sys/bus/pci/devices/$name && echo y")" y
check "/dev/vfio/$group exists (stat)" \
    "$(run sh -c "test -e /dev/vfio/$group && echo y")" y
check "/dev/vfio/vfio exists (stat)" \
    "$(run sh -c 'test -e /dev/vfio/vfio && echo y')" y
check "a group not the domain's does not" \
    "$(run sh -c "test -e /dev/vfio/$((group + 50)) || echo n")" n
real=$(ls /sys/bus/pci/devices 2>/dev/null | grep -vx "$name" | head -n 1)
if [ -n "$real" ]; then
    check "a real device is still there" \
        "$(run cat "/sys/bus/pci/devices/$real/vendor")" \
        "$(cat "/sys/bus/pci/devices/$real/vendor")"
fi

# --- a region read: the library's cost over the device model's own
run "$VP" bench "$group" "$name" 2000 >"$out" 2>&1
check "the region-read benchmark ran" "$(grep -c '^pread_ns=' "$out")" 3
sed 's/^/    /' "$out"

# --- no hypervisor to ask: no VFIO, and the real sysfs
empty=$(mktemp -d /tmp/procvisor-none.XXXXXX)
PROCVISOR_DIR=$empty LD_PRELOAD="${PROCVISOR_PRELOAD_FIRST:+$PROCVISOR_PRELOAD_FIRST:}$BUILD/libprocvisor-preload.so" \
    "$VP" open 0 </dev/null >"$out" 2>&1
check "/dev/vfio/0 without a hypervisor" "$(cat "$out")" "open=ENOENT"
PROCVISOR_DIR=$empty LD_PRELOAD="${PROCVISOR_PRELOAD_FIRST:+$PROCVISOR_PRELOAD_FIRST:}$BUILD/libprocvisor-preload.so" \
    ls /sys/bus/pci/devices >"$out" 2>&1
check "the real sysfs without a hypervisor" "$(cat "$out")" \
    "$(ls /sys/bus/pci/devices 2>&1)"
rmdir "$empty"

kill "$keep" 2>/dev/null
wait "$keep" 2>/dev/null
finish
