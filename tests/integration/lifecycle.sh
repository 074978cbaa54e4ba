#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lifecycle.sh - the daemon, domains as processes, and their life and death.
. "$(dirname "$0")/lib.sh"

# any command starts the hypervisor
pv list >/dev/null || bad "list starts the daemon"
check "control socket mode" "$(stat -c %a "$PROCVISOR_DIR/ctl.sock")" 600
check "dom0 listed" "$(pv list | awk '$2 == 0 {print $1}')" Domain-0

a=$(pv create alpha --memory 16)
b=$(pv create beta --vcpus 2)
check "first domid" "$a" 1
check "second domid" "$b" 2
check "duplicate name refused" "$(pv create alpha 2>&1 >/dev/null | grep -c 'File exists')" 1
check "numeric name refused" "$(pv create 123 >/dev/null 2>&1; echo $?)" 1
check "created state" "$(state_of "$a")" created
check "memory" "$(field alpha 'memory (KiB)')" "16384 of 16384"

# a program in each domain, at the same time, through Debian's libxencall
"$PROCVISOR" run alpha -- "$PROBE" version >"$PROCVISOR_DIR/a.out" &
pa=$!
"$PROCVISOR" run beta -- "$PROBE" version >"$PROCVISOR_DIR/b.out" &
pb=$!
wait $pa; check "run alpha exit status" $? 0
wait $pb; check "run beta exit status" $? 0
check "alpha sees Xen 4.17" "$(kv "$PROCVISOR_DIR/a.out" version)" 4.17
check "beta sees Xen 4.17" "$(kv "$PROCVISOR_DIR/b.out" version)" 4.17
check "alpha is dead after its last process" "$(state_of "$a")" dead
check "alpha's reason" "$(reason_of "$a")" exited

# exit status passes through, and a signal death is 128+N
c=$(pv create gamma)
pv run gamma -- sh -c 'exit 7'; check "exit status passed through" $? 7
d=$(pv create delta)
pv run delta -- sh -c 'kill -TERM $$'; check "signal status" $? 143

# several processes in one domain; the domain lives until the last one
e=$(pv create epsilon)
"$PROCVISOR" run epsilon -- sh -c "sleep 0.5 & sleep 1 & wait" &
pe=$!
wait_for '[ "$(procs_of epsilon)" -ge 2 ]' || bad "epsilon's processes attached"
procs=$(pv list | awk '$1 == "epsilon" {print $7}')
[ "${procs:-0}" -ge 2 ] && ok "epsilon has several processes ($procs)" ||
    bad "epsilon processes: $procs"
sleep 0.7
check "still running after the first exits" "$(state_of "$e")" running
wait $pe
check "dead after the last" "$(state_of "$e")" dead

# a second `run` adds a process to a running domain
f=$(pv create zeta)
"$PROCVISOR" run zeta -- sleep 2 &
pf=$!
wait_for '[ "$(state_of $f)" = running ]' 
pv run zeta -- "$PROBE" version >"$PROCVISOR_DIR/f.out"
check "second process in zeta" "$(kv "$PROCVISOR_DIR/f.out" version)" 4.17
check "zeta survives its second process" "$(state_of "$f")" running
wait $pf

# SIGKILL: the domain is cleaned up, its id is not reused
g=$(pv create eta)
"$PROCVISOR" run eta -- sleep 60 &
pg=$!
wait_for '[ "$(procs_of eta)" -ge 2 ]' 
victim=$(pgrep -P $pg sleep)
kill -KILL "$victim"
wait $pg; check "run reports SIGKILL" $? 137
wait_for '[ "$(state_of $g)" = dead ]'  || bad "eta dead after SIGKILL"
check "eta's reason" "$(reason_of "$g")" exited
free_before=$(pv dmesg | grep -c "d$g (eta) is dead")
check "teardown logged" "$free_before" 1
h=$(pv create theta)
[ "$h" -gt "$g" ] && ok "domid not reused ($h > $g)" || bad "domid reused: $h"

# destroy kills the domain's processes
i=$(pv create iota)
"$PROCVISOR" run iota -- sleep 60 &
pi=$!
wait_for '[ "$(procs_of iota)" -ge 2 ]' 
pv destroy iota; check "destroy" $? 0
wait $pi; check "destroyed process killed" $? 137
wait_for '[ "$(state_of $i)" = dead ]' 
check "iota's reason" "$(reason_of "$i")" destroyed
check "destroy dom0 refused" "$(pv destroy 0 2>&1 | grep -c 'not permitted')" 1

# shutdown reasons are latched and shown
j=$(pv create kappa)
pv run kappa -- "$PROBE" sched shutdown 3 >"$PROCVISOR_DIR/j.out"
check "shutdown returns 0" "$(kv "$PROCVISOR_DIR/j.out" shutdown)" 0
check "kappa's reason" "$(reason_of "$j")" crash
k=$(pv create lambda)
pv run lambda -- sh -c "\"$PROBE\" sched code 1 && \"$PROBE\" sched shutdown 0" >/dev/null
check "shutdown_code wins" "$(reason_of "$k")" reboot

# the watchdog shuts a domain down
l=$(pv create mu)
pv run mu -- "$PROBE" sched watchdog >"$PROCVISOR_DIR/l.out"
check "watchdog first id" "$(kv "$PROCVISOR_DIR/l.out" wd_first)" 1
check "watchdog second id" "$(kv "$PROCVISOR_DIR/l.out" wd_second)" 2
check "watchdog none free" "$(kv "$PROCVISOR_DIR/l.out" wd_third)" -28
check "watchdog bad id" "$(kv "$PROCVISOR_DIR/l.out" wd_bad_id)" -22
check "watchdog stop" "$(kv "$PROCVISOR_DIR/l.out" wd_stop)" 0
check "watchdog stop again" "$(kv "$PROCVISOR_DIR/l.out" wd_stop_again)" -22
check "mu's reason" "$(reason_of "$l")" watchdog

# dom0 may shut another domain down; a domU may not
m=$(pv create nu)
"$PROCVISOR" run nu -- sleep 30 &
pm=$!
wait_for '[ "$(procs_of nu)" -ge 2 ]' 
o=$(pv create xi)
pv run xi -- "$PROBE" sched remote "$m" 1 >"$PROCVISOR_DIR/o.out"
check "domU remote_shutdown" "$(kv "$PROCVISOR_DIR/o.out" remote_shutdown)" -1
pv run 0 -- "$PROBE" sched remote 4000 1 >"$PROCVISOR_DIR/o.out"
check "remote_shutdown of no domain" "$(kv "$PROCVISOR_DIR/o.out" remote_shutdown)" -3
pv run 0 -- "$PROBE" sched remote "$m" 1 >"$PROCVISOR_DIR/o.out"
check "dom0 remote_shutdown" "$(kv "$PROCVISOR_DIR/o.out" remote_shutdown)" 0
check "nu shut down" "$(state_of "$m")" shutdown
check "nu's reason" "$(reason_of "$m")" reboot
pv destroy nu; wait $pm

# console: a domain's console and the hypervisor's ring
n=$(pv create omicron)
pv run omicron -- "$PROBE" console "hello from omicron" >/dev/null
check "console shows the line" "$(pv console omicron 2>/dev/null || pv console "$n")" "hello from omicron"
check "dmesg prefixes the domain" "$(pv dmesg | grep -c "(d$n) hello from omicron")" 1

if [ "$DOMAIN_UIDS" = 1 ]; then
    # a domU process runs as its own uid: no way to dom0's socket
    p=$(pv create pi)
    pv run pi -- sh -c 'id -u; "$0" list' "$PROCVISOR" >"$PROCVISOR_DIR/p.out" 2>&1
    check "domU uid" "$(head -n1 "$PROCVISOR_DIR/p.out")" $((0x70000000 + p))
    check "domU cannot reach the control socket" \
        "$(grep -c 'Permission denied' "$PROCVISOR_DIR/p.out")" 1
    # nor another domain's processes
    q=$(pv create rho)
    "$PROCVISOR" run rho -- sleep 30 &
    pq=$!
    wait_for '[ "$(procs_of rho)" -ge 2 ]' 
    target=$(pgrep -P $pq sleep)
    r=$(pv create sigma)
    pv run sigma -- sh -c "cat /proc/$target/environ >/dev/null 2>&1 && echo leaked || echo denied" \
        >"$PROCVISOR_DIR/r.out"
    check "another domain's process memory" "$(cat "$PROCVISOR_DIR/r.out")" denied
    pv destroy rho; wait $pq
fi

pv down >/dev/null
check "down removes the socket" "$(test -e "$PROCVISOR_DIR/ctl.sock" && echo yes || echo no)" no
finish
