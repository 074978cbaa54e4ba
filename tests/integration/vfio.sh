#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vfio.sh - VFIO end to end, as a new user runs it: dom0 adds emulated PCI
# devices (device-model processes), assigns a group to a domain, and an
# unmodified <linux/vfio.h> driver (examples/vfio-edu.c) in that domain
# drives the edu device: MMIO, DMA from shared and anonymous memory,
# interrupts, and a refused DMA that shows in the fault log.  Then the
# rules around it: another domain cannot open the group, an unassigned
# group is not there, release waits for the group to close, and a device
# model killed under its driver fails that driver's accesses cleanly while
# the daemon and the other devices go on.
. "$(dirname "$0")/lib.sh"

EDU="$BUILD/vfio-edu"
SURVIVOR="$BUILD/tests/vfio_survivor"
out="$PROCVISOR_DIR/out"

# --- devices
read -r edu_name edu_group < <(pv device add edu)
check "device add edu" "$edu_name $edu_group" "0000:00:01.0 1"
read -r mtty_name mtty_group < <(pv device add mtty)
check "device add mtty" "$mtty_name $mtty_group" "0000:00:02.0 2"
read -r edu2_name edu2_group < <(pv device add edu --dma-mask 32)
check "a second edu, its own group" "$edu2_name $edu2_group" "0000:00:03.0 3"
pv vfio list >"$out"
check "vfio list shows them" "$(awk 'NR > 1 {print $1, $2, $3, $4, $5, $9}' "$out" | tr '\n' ';')" \
    "0000:00:01.0 edu 1 1234:11e8 - running;0000:00:02.0 mtty 2 4348:3253 - running;0000:00:03.0 edu 3 1234:11e8 - running;"
pv device add nosuchmodel >/dev/null 2>&1
check "an unknown device type is refused" $? 1
check "and leaves nothing behind" "$(pv vfio list | wc -l)" 4

a=$(pv create vfio-a)
b=$(pv create vfio-b)
# a domain lives while a process of it does
"$PROCVISOR" run vfio-a -- sleep 600 &
keep_a=$!
"$PROCVISOR" run vfio-b -- sleep 600 &
keep_b=$!
wait_for "[ \"\$(procs_of vfio-a)\" = 1 ] && [ \"\$(procs_of vfio-b)\" = 1 ]"

# --- not assigned: the group is not there for the domain
pv run "$a" -- "$EDU" "$edu_group" "$edu_name" >"$out" 2>&1
check "an unassigned group cannot be opened" "$?:$(grep -c 'No such file' "$out")" "1:1"

pv vfio assign "$edu_group" "$a"
check "assign" $? 0
check "list shows the domain" "$(pv vfio list | awk -v n="$edu_name" '$1 == n {print $5}')" "d$a"

# --- the example driver, unmodified, finding the device through sysfs
pv run "$a" -- "$EDU" >"$out" 2>&1
check "vfio-edu in the domain" $? 0
grep -q "10! = 3628800" "$out"
check "factorial through MMIO, completion by interrupt" $? 0
check "DMA round trips, byte for byte" "$(grep -c 'every byte right' "$out")" 3
grep -q "0x900000: refused, no completion" "$out"
check "a DMA to an unmapped IOVA is refused" $? 0
grep -q "^id register: 0x010000ed" "$out"
check "edu's id register" $? 0
[ "$(grep -c FAIL "$out")" = 0 ] || cat "$out"

pv vfio faults >"$out"
check "the fault log has the refused DMA, with its domain" \
    "$(awk -v n="$edu_name" '$2 == n && $5 == "0x900000" {print $3, $4, $6}' "$out")" "d$a write 4096"
check "the device counts it" "$(pv vfio list | awk -v n="$edu_name" '$1 == n {print $8}')" 1

# --- viability: a group is viable only when all its devices are assigned
read -r v1_name v1_group < <(pv device add edu --group 7)
pv vfio assign 7 "$a"
read -r v2_name v2_group < <(pv device add edu --group 7)
check "a second device joins group 7" "$v2_group" 7
check "it stays unassigned" "$(pv vfio list | awk -v n="$v2_name" '$1 == n {print $5}')" -
pv run "$a" -- "$EDU" 7 "$v1_name" >"$out" 2>&1
check "the group is not viable" "$?:$(grep -c 'group 7 is not viable' "$out")" "1:1"
pv vfio assign 7 "$a"
pv run "$a" -- "$EDU" 7 "$v2_name" >"$out" 2>&1
check "assigned again, it is" "$?:$(tail -n 1 "$out")" "0:vfio-edu: all good"
pv vfio release 7
pv device del "$v1_name"
pv device del "$v2_name"
check "both devices gone" "$(pv vfio list | grep -c ' 7 ')" 0

# --- the UART: I/O BAR, loopback, INTx automask and UNMASK, MSI
pv vfio assign "$mtty_group" "$a"
pv run "$a" -- "$BUILD/tests/vfio_mtty" "$mtty_group" "$mtty_name" >"$out" 2>&1
check "mtty through /dev/vfio" "$?:$(grep -c WRONG "$out")" "0:0"
[ "$(grep -c WRONG "$out")" = 0 ] || cat "$out"
check "mtty: INTx stays masked until UNMASK" "$(kv "$out" masked_until_unmask)" 0
check "mtty: UNMASK of a line still up signals again" \
    "$(kv "$out" still_asserted_fires_again)" 1
check "mtty: loopback" "$(kv "$out" loopback_2)" 66
check "mtty: MSI" "$(kv "$out" msi_fires)" 1

# --- another domain: its processes cannot open the group
pv run "$b" -- "$EDU" "$edu_group" "$edu_name" >"$out" 2>&1
check "another domain cannot open the group" "$?:$(grep -c 'No such file' "$out")" "1:1"
pv run "$b" -- "$EDU" >"$out" 2>&1
check "nor see the device in its sysfs" "$(grep -c 'no edu device' "$out")" 1

# --- a group is open once; release waits for it to close
fifo="$PROCVISOR_DIR/fifo"
mkfifo "$fifo"
exec 5<>"$fifo"
pv run "$a" -- "$SURVIVOR" "$edu_group" "$edu_name" <&5 >"$out" 2>&1 &
holder=$!
wait_for "grep -q ready '$out'"
check "the survivor's set-up" "$(grep -c '=-' "$out")" 0
pv run "$a" -- "$EDU" "$edu_group" "$edu_name" >"$PROCVISOR_DIR/out2" 2>&1
check "a second open of the group is EBUSY" \
    "$?:$(grep -c 'Device or resource busy' "$PROCVISOR_DIR/out2")" "1:1"
pv vfio release "$edu_group" 2>/dev/null
check "release of an open group is refused" $? 1
check "the device is open once" "$(pv vfio list | awk -v n="$edu_name" '$1 == n {print $7}')" 1

# --- kill the device model under the driver
dmpid=$(pv vfio list | awk -v n="$edu_name" '$1 == n {print $6}')
kill -9 "$dmpid"
wait_for "[ \"\$(pv vfio list | awk -v n=$edu_name '\$1 == n {print \$9}')\" = dead ]"
check "the killed model's device is dead" \
    "$(pv vfio list | awk -v n="$edu_name" '$1 == n {print $9}')" dead
echo go >&5
wait "$holder"
check "the driver survives" $? 0
check "REQ asks the driver to let go" "$(kv "$out" req)" 1
check "a BAR access fails" "$(kv "$out" read)" -EIO
check "info still answers (cached)" "$(kv "$out" info)" 0
check "SET_IRQS is ENODEV" "$(kv "$out" irqs)" -ENODEV
check "RESET is ENODEV" "$(kv "$out" reset)" -ENODEV
exec 5>&-

check "the daemon goes on" "$(pv list | awk '$1 == "vfio-a" {print $5}')" running
pv vfio assign "$edu2_group" "$b"
pv run "$b" -- "$EDU" "$edu2_group" "$edu2_name" >"$out" 2>&1
check "another device works in another domain" "$?:$(tail -n 1 "$out")" \
    "0:vfio-edu: all good"
pv vfio release "$edu_group"
check "release once closed" $? 0
pv device del "$edu_name"
check "device del of the dead device" $? 0
check "it is gone" "$(pv vfio list | grep -c "$edu_name")" 0

# --- any vfio-user server plugs in the same way: one already listening
"$BUILD/procvisor-dm" edu -q --socket "$PROCVISOR_DIR/ext.sock" &
ext=$!
wait_for "[ -S '$PROCVISOR_DIR/ext.sock' ]"
read -r x_name x_group < <(pv device add vfio-user --socket "$PROCVISOR_DIR/ext.sock")
check "device add vfio-user --socket" "$(pv vfio list | awk -v n="$x_name" '$1 == n {print $2, $4, $6}')" \
    "vfio-user 1234:11e8 $ext"
pv vfio assign "$x_group" "$a"
pv run "$a" -- "$EDU" "$x_group" "$x_name" >"$out" 2>&1
check "a driver drives it" "$?:$(tail -n 1 "$out")" "0:vfio-edu: all good"
pv vfio release "$x_group"
pv device del "$x_name"
kill "$ext"
wait "$ext" 2>/dev/null

# --- hostile device models: the daemon refuses them and goes on
if command -v python3 >/dev/null; then
    bad_server() { # MODE: what the fake server does after VERSION arrives
        python3 - "$PROCVISOR_DIR/bad.sock" "$1" <<'PYEOF' &
import os, socket, struct, sys, time
path, mode = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
c, _ = s.accept()
hdr = c.recv(16)
if mode == "huge":      # a reply header claiming 4 GiB
    c.sendall(struct.pack("<HHIII", 1, 1, 0xffffffff, 1, 0))
elif mode == "garbage":
    c.sendall(os.urandom(4096))
elif mode == "stray":   # a reply to a command never sent
    c.sendall(struct.pack("<HHIII", 999, 9, 16, 1, 0))
time.sleep(5)           # "hang": say nothing
PYEOF
        bad=$!
        wait_for "[ -S '$PROCVISOR_DIR/bad.sock' ]"
    }
    for mode in huge garbage stray hang; do
        bad_server "$mode"
        pv device add vfio-user --socket "$PROCVISOR_DIR/bad.sock" >/dev/null 2>&1
        check "a device model that answers '$mode' is refused" $? 1
        kill "$bad" 2>/dev/null
        wait "$bad" 2>/dev/null
        rm -f "$PROCVISOR_DIR/bad.sock"
    done
    check "the daemon goes on after them" "$(pv list | awk '$1 == "vfio-a" {print $5}')" running
fi

# --- a hostile driver speaking the messages raw
read -r h_name h_group < <(pv device add edu)
pv vfio assign "$h_group" "$a"
fds_before=$(ls /proc/"$daemon_pid"/fd | wc -l)
pv run "$a" -- "$BUILD/tests/vfio_hostile" "$h_group" "$h_name" >"$out" 2>&1
check "the hostile driver ran to its end" "$(kv "$out" done)" 0
want="len_lies=-22 ioctl_before_open=-22 unknown_op=-22 open_container=0
second_open_same_conn=-16 wrong_kind=-22 group_out_of_range=-2
group_unknown=-2 open_group=0 group_twice=-16 set_container_invented=-77
set_container_zero=-77 set_container=0 device_before_iommu=-22 set_iommu=0
fds_on_status=0 map_fd_flag_no_fd=0 map_overlap=-17 map_short_argsz=-14
device_opens_before_limit=64 device_open_past_limit=-24
device_name_unknown=-19 device_name_options=-22 region_fd_on_container=-22
irqs_fd_not_sent=-22 irqs_huge_count=-22 region_fd_out_of_range=-22
group_ioctl_on_device=-22"
for kvp in $want; do
    check "hostile: ${kvp%%=*}" "$(kv "$out" "${kvp%%=*}")" "${kvp#*=}"
done
wait_for "[ \"\$(ls /proc/$daemon_pid/fd | wc -l)\" -le $fds_before ]"
check "the daemon holds no descriptor more" \
    "$(( $(ls /proc/"$daemon_pid"/fd | wc -l) <= fds_before ))" 1
check "the device is closed again" \
    "$(pv vfio list | awk -v n="$h_name" '$1 == n {print $7, $9}')" "0 running"
pv vfio release "$h_group"
pv device del "$h_name"

# --- a domain that dies gives its groups back
pv destroy "$b" >/dev/null
wait "$keep_b" 2>/dev/null
wait_for "[ \"\$(pv vfio list | awk -v n=$edu2_name '\$1 == n {print \$5}')\" = - ]"
check "a dead domain's group is unassigned" \
    "$(pv vfio list | awk -v n="$edu2_name" '$1 == n {print $5}')" -
kill "$keep_a"
wait "$keep_a" 2>/dev/null
finish
