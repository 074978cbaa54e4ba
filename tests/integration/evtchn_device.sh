#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# evtchn_device.sh - /dev/xen/evtchn through Debian's libxenevtchn: the
# driver's semantics, 100,000 events between two domains with none lost,
# limits, and a peer killed with SIGKILL mid-stream.
. "$(dirname "$0")/lib.sh"

DEV="$BUILD/tests/evtchn_device"
PP="$BUILD/tests/evtchn_pingpong"
out="$PROCVISOR_DIR/out"

pv create loop >/dev/null
pv run loop -- "$DEV" local >"$out" 2>&1
check "loopback ports" "$(kv "$out" ports_nonzero)" 1
check "bind_interdomain's first event" "$(kv "$out" first_event)" 1
check "no event on the other side" "$(kv "$out" a_quiet)" 1
check "select sees a send" "$(kv "$out" select_readable)" 1
check "epoll sees a send" "$(kv "$out" epoll_readable)" 1
check "read gives the port" "$(kv "$out" pending)" 1
check "a fired port stays masked" "$(kv "$out" masked_not_readable)" 1
check "epoll quiet while masked" "$(kv "$out" epoll_masked_quiet)" 1
check "unmask delivers what waited" "$(kv "$out" after_unmask_readable)" 1
check "two sends while masked: one event" "$(kv "$out" coalesced_one)" 1
check "then nothing" "$(kv "$out" then_quiet)" 1
check "O_NONBLOCK read" "$(kv "$out" nonblock_read)" -11
check "read of 0 bytes" "$(kv "$out" read_zero)" 0
check "write of another fd's port" "$(kv "$out" write_foreign)" 4
check "write rounds down" "$(kv "$out" write_rounds_down)" 4
check "notify beyond the ports (Linux: no range check)" "$(kv "$out" notify_out_of_range)" -107
check "notify a port not bound here" "$(kv "$out" notify_not_bound_here)" -107
check "unbind a port not bound here" "$(kv "$out" unbind_not_bound_here)" -107
check "unknown ioctl" "$(kv "$out" unknown_ioctl)" -38
check "VIRQ 24" "$(kv "$out" bad_virq)" -22
check "global VIRQ from a domU" "$(kv "$out" global_virq_domu)" -16
check "VIRQ_TIMER" "$(kv "$out" virq_timer_bound)" 1
check "VIRQ_TIMER twice on vCPU 0" "$(kv "$out" virq_timer_twice)" -17
check "bind to a port not offered" "$(kv "$out" bind_not_offered)" -22
check "bind to no domain" "$(kv "$out" bind_no_domain)" -3
check "bind beyond the ports" "$(kv "$out" bind_bad_port)" -22
check "restrict to dom0" "$(kv "$out" restrict_dom0)" -22
check "restrict" "$(kv "$out" restrict)" 0
check "restrict twice" "$(kv "$out" restrict_again)" -13
check "restricted: unbound port" "$(kv "$out" restricted_unbound)" -13
check "restricted: VIRQ" "$(kv "$out" restricted_virq)" -13
check "restricted: another domain" "$(kv "$out" restricted_other_dom)" -13
check "restricted: old ports still send" "$(kv "$out" restricted_notify)" 0
check "restricted: and deliver" "$(kv "$out" restricted_event)" 1
check "unbind" "$(kv "$out" unbind)" 0
check "unbind twice" "$(kv "$out" unbind_again)" -107

pv create small --max-evtchn 8 >/dev/null
pv run small -- "$DEV" limits >"$out" 2>&1
check "ports 1..8 bound" "$(kv "$out" bound)" 8
check "the ninth: -ENOSPC" "$(kv "$out" exhausted)" -28
check "unbind frees one" "$(kv "$out" unbind)" 0
check "which is reused" "$(kv "$out" again)" 1

# 100,000 events between two domains: none lost, one spurious (Xen's)
s=$(pv create pp-server)
c=$(pv create pp-client)
mkfifo "$PROCVISOR_DIR/pp"
"$PROCVISOR" run pp-server -- "$PP" server "$c" 100000 >"$PROCVISOR_DIR/pp" &
pserver=$!
exec 3<"$PROCVISOR_DIR/pp"
read -r line <&3
"$PROCVISOR" run pp-client -- "$PP" client "$s" "${line#port=}" 100000 >"$out"
cat <&3 >"$PROCVISOR_DIR/server.out"
exec 3<&-
wait $pserver
check "client's first event" "$(kv "$out" first_event_readable)" 1
check "nothing after it" "$(kv "$out" quiet_after_first)" 1
check "client got every answer" "$(kv "$out" client_events)" 100000
check "server got every event" "$(kv "$PROCVISOR_DIR/server.out" server_events)" 100000
check "no stray event at the client" "$(kv "$out" client_quiet)" 1
check "no stray event at the server" "$(kv "$PROCVISOR_DIR/server.out" server_quiet)" 1

# a peer killed with SIGKILL: the survivor's port is unbound, its sends
# are dropped, dom0 hears of it (VIRQ_DOM_EXC is tested in evtchn.sh)
h=$(pv create holder)
o=$(pv create orphan)
mkfifo "$PROCVISOR_DIR/h.in" "$PROCVISOR_DIR/h.out" "$PROCVISOR_DIR/o.in"
"$PROCVISOR" run holder -- "$DEV" hold "$o" <"$PROCVISOR_DIR/h.in" >"$PROCVISOR_DIR/h.out" &
ph=$!
exec 4>"$PROCVISOR_DIR/h.in"
exec 5<"$PROCVISOR_DIR/h.out"
read -r line <&5
hport=${line#port=}
"$PROCVISOR" run orphan -- "$DEV" orphan "$h" "$hport" <"$PROCVISOR_DIR/o.in" >"$out" &
po=$!
exec 6>"$PROCVISOR_DIR/o.in"
wait_for 'grep -q local= "$out"'
read -r line <&5
check "the holder hears the orphan's send" "$line" "event=1"
lport=$(kv "$out" local)
check "orphan's port is interdomain" \
    "$(pv evtchn orphan | awk -v p="$lport" '$1 == p {print $2}')" interdomain
kill -KILL "$(pgrep -P $ph)"
wait $ph 2>/dev/null
exec 4>&- 5<&-
wait_for '[ "$(pv evtchn orphan | awk -v p="$lport" "\$1 == p {print \$2}")" = unbound ]' ||
    bad "orphan's port unbound after the peer's SIGKILL"
check "orphan's port now unbound" \
    "$(pv evtchn orphan | awk -v p="$lport" '$1 == p {print $2}')" unbound
exec 6>&-
wait $po
check "a send to the dead peer is dropped" "$(kv "$out" notify_after_peer_died)" 0
check "the dead domain is gone" "$(state_of "$h")" dead
finish
