#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hypercalls.sh - the xen.h hypercalls through Debian's unmodified libxencall
# (and libprocvisor's API), checked against Xen's answers.
. "$(dirname "$0")/lib.sh"

out="$PROCVISOR_DIR/out"
run() { pv run "$1" -- "${@:2}" >"$out"; }

u=$(pv create domu --memory 32)
run domu "$PROBE" version
check "version" "$(kv "$out" version)" 4.17
check "capabilities" "$(kv "$out" capabilities)" "xen-3.0-x86_64 |"
check "PVH domU features" "$(kv "$out" features)" 0x12305
check "features submap 1" "$(kv "$out" get_features_idx1)" -22
check "pagesize" "$(kv "$out" pagesize)" 4096
check "pagesize with an argument" "$(kv "$out" pagesize_arg)" -22
check "virt_start" "$(kv "$out" virt_start)" 0xffff800000000000
check "commandline denied" "$(kv "$out" commandline)" "<denied>"
check "build_id needs privilege" "$(kv "$out" build_id_size)" -1
check "unknown xen_version" "$(kv "$out" unknown_subop)" -38
check "bad guest pointer" "$(kv "$out" bad_pointer)" -14
check "unknown hypercall" "$(kv "$out" unknown_op)" -38

p=$(pv create pvdom --pv)
run pvdom "$PROBE" version
check "PV domU features" "$(kv "$out" features)" 0x220e0
pv run 0 -- "$PROBE" version >"$out"
check "dom0 features" "$(kv "$out" features)" 0x228e0
check "dom0 build_id size" "$(kv "$out" build_id_size)" 14

u=$(pv create memu --memory 32)
"$PROCVISOR" run memu -- sh -c '"$0" memory; sleep 2' "$PROBE" >"$out" &
pu=$!
wait_for 'grep -q unknown_memop "$out"'
check "shared_info gpfn in info" "$(field memu 'shared_info gpfn')" 0x10
pv destroy memu; wait $pu
check "current_reservation" "$(kv "$out" current)" 8192
check "maximum_reservation" "$(kv "$out" maximum)" 8192
check "maximum_ram_page" "$(kv "$out" max_ram_page)" 1048576
check "increase beyond max" "$(kv "$out" increase_full)" 0
check "decrease two gpfns" "$(kv "$out" decrease)" 2
check "after decrease" "$(kv "$out" current_after_decrease)" 8190
check "decrease an empty gpfn" "$(kv "$out" decrease_again)" 0
check "populate it again" "$(kv "$out" populate)" 1
check "populate a full gpfn" "$(kv "$out" populate_again)" 0
check "increase into the free page" "$(kv "$out" increase)" 1
check "order above domU's limit" "$(kv "$out" order_too_big)" 0
check "reservation of another domain" "$(kv "$out" other_domain)" 0
check "domU asks dom0's reservation" "$(kv "$out" current_dom0)" -1
check "reservation of no domain" "$(kv "$out" current_nodomain)" -3
check "add_to_physmap shared_info" "$(kv "$out" add_to_physmap)" 0
check "add_to_physmap idx 1" "$(kv "$out" add_to_physmap_idx1)" -22
check "shared_info replaced a RAM page" "$(kv "$out" current_after_physmap)" 8191
check "unknown memory_op" "$(kv "$out" unknown_memop)" -38

run pvdom "$PROBE" memory 2>/dev/null || true
p=$(pv create pvmem --pv --memory 32)
run pvmem "$PROBE" memory
check "PV add_to_physmap" "$(kv "$out" add_to_physmap)" -13
check "PV decrease by gpfn (not its mfn)" "$(kv "$out" decrease)" 0

s=$(pv create sched)
run sched "$PROBE" sched
check "yield" "$(kv "$out" yield)" 0
check "poll with no argument" "$(kv "$out" poll_null)" -14
check "pin_override by a domU" "$(kv "$out" pin_override)" -1
check "unknown sched_op" "$(kv "$out" unknown_sched)" -38

t=$(pv create timers)
"$PROCVISOR" run timers -- sh -c "\"$PROBE\" timer && sleep 0.3" >"$out" &
pt=$!
wait_for '[ -s "$out" ] && grep -q initialise "$out"'
virqs=$(field timers 'timer virqs')
[ "${virqs:-0}" -ge 50 ] && ok "periodic 1 ms timer raised VIRQ_TIMER ($virqs in 200 ms)" ||
    bad "periodic timer virqs: $virqs"
wait $pt
check "period under 1 ms" "$(kv "$out" periodic_too_short)" -22
check "periodic timer" "$(kv "$out" periodic)" 0
check "stop periodic" "$(kv "$out" periodic_stop)" 0
check "set_timer_op far future" "$(kv "$out" set_timer_far)" 0
check "set_timer_op cancel" "$(kv "$out" set_timer_cancel)" 0
check "vcpu is up" "$(kv "$out" is_up)" 1
check "vcpu out of range" "$(kv "$out" is_up_bad_vcpu)" -2
check "runstate" "$(kv "$out" runstate)" 0
check "runstate running" "$(kv "$out" runstate_state)" 0
check "initialise an existing vcpu" "$(kv "$out" initialise)" -17

m=$(pv create multi)
run multi "$PROBE" multicall
check "multicall" "$(kv "$out" multicall)" 0
check "entry 0 version" "$(kv "$out" mc0)" $(((4 << 16) | 17))
check "entry 1 unknown" "$(kv "$out" mc1)" -38
check "entry 2 bad vm_assist" "$(kv "$out" mc2)" -22
check "entry 3 nested multicall" "$(kv "$out" mc3)" -22
check "entry 4 wrote its buffer" "$(kv "$out" mc_extraversion)" .0-procvisor
check "vm_assist for PVH" "$(kv "$out" vm_assist_ok)" 0
check "vm_assist bad command" "$(kv "$out" vm_assist_badcmd)" -38

c=$(pv create cons)
pv input "typed at the console"
run cons "$PROBE" conread
check "domU cannot read the console" "$(kv "$out" console_read)" -1
c=$(pv create cons2 --console-io)
run cons2 "$PROBE" conread
check "is_console domain reads input" "$(kv "$out" console_text)" "typed at the console"
check "read count over INT_MAX" "$(kv "$out" console_read_e2big)" -7
c=$(pv create cons3)
run cons3 "$PROBE" console "$(printf 'tab\there\033[1mbold')"
check "domU console filtered" "$(pv console "$c")" "$(printf 'tab\there[1mbold')"

a=$(pv create api)
run api "$API_PROBE"
check "start_info magic" "$(kv "$out" magic)" xen-4.17-x86_64
check "domU start_info flags" "$(kv "$out" si_flags)" 0
check "start_info nr_pages" "$(kv "$out" nr_pages)" 16384
check "start_info cannot become writable" "$(kv "$out" start_info_mprotect_rw)" -13
check "pvclock version even" "$(kv "$out" time_version_even)" 1
check "pvclock monotonic" "$(kv "$out" clock_monotonic)" 1
check "pvclock + wall clock within 2 ms of CLOCK_REALTIME" "$(kv "$out" clock_skew_ok)" 1
check "block with an event pending" "$(kv "$out" block)" 0
check "block unmasks events" "$(kv "$out" upcall_mask_after_block)" 0
pv run 0 -- "$API_PROBE" >"$out"
check "dom0 start_info flags" "$(kv "$out" si_flags)" 0x3
finish
