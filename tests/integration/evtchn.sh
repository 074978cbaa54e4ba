#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# evtchn.sh - event channels between real domains: two probes (one per
# domain, driven through fifos) bind, send, poll and close with EVTCHNOP
# hypercalls; a SIGKILLed domain's peer, dom0's VIRQ_DOM_EXC, VIRQ_TIMER
# waking SCHEDOP_block, and `procvisor evtchn`.
. "$(dirname "$0")/lib.sh"

EVP="$BUILD/tests/evtchn_probe"
# the probes get their fifos and output files already open (inherited), so
# other uids need no path; the directory is 0777 all the same
work=$(mktemp -d /tmp/procvisor-evtchn.XXXXXX)
chmod 0777 "$work"
trap 'rm -rf "$work"; cleanup || exit 1' EXIT

# start NAME DOMAIN: a probe in DOMAIN, fed by fd_NAME, answering in
# $work/NAME.out; pid_NAME is its `procvisor run`
start() {
    local name=$1 dom=$2 fd
    mkfifo "$work/$name.in"
    : >"$work/$name.out"
    (
        # the other probes' fifos stay open only in this shell, so that
        # closing one is its probe's end of input
        for v in ${!fd_@}; do
            fd=${!v}
            exec {fd}>&-
        done
        exec "$PROCVISOR" run "$dom" -- "$EVP" <"$work/$name.in" \
            >"$work/$name.out" 2>"$work/$name.err"
    ) &
    printf -v "pid_$name" '%s' $!
    exec {fd}>"$work/$name.in"
    printf -v "fd_$name" '%s' "$fd"
    await "$name" ready
}

# stop NAME: end its input, so it exits; its status is returned
stop() {
    local fdv="fd_$1" pidv="pid_$1" fd
    fd=${!fdv}
    exec {fd}>&-
    wait "${!pidv}"
}

# await NAME KEY: wait (up to 10 s) for KEY= in NAME's answers
await() {
    for _ in $(seq 1 200); do
        grep -q "^$2=" "$work/$1.out" && return 0
        sleep 0.05
    done
    echo "timeout: $1 never answered $2" >&2
    cat "$work/$1.err" >&2
    return 1
}

# tell NAME LABEL OP ARGS...: send a command without waiting
tell() {
    local fdv="fd_$1"
    echo "${*:2}" >&"${!fdv}"
}

# ask NAME LABEL OP ARGS...: send a command, print its answer
ask() {
    tell "$@"
    await "$1" "$2" && kv "$work/$1.out" "$2"
}

# answer NAME LABEL: wait for the answer to a command told earlier
answer() { await "$1" "$2" && kv "$work/$1.out" "$2"; }

# val NAME KEY: a detail of an answer already in
val() { kv "$work/$1.out" "$2"; }

# port_line DOMAIN PORT: that port's row of `procvisor evtchn`, spaces squeezed
port_line() {
    pv evtchn "$1" | awk -v p="$2" '$1 == p' | tr -s ' ' | sed 's/^ //'
}

a=$(pv create evA)
b=$(pv create evB)
start A evA
start B evB
check "A's domid" "$(val A domid)" "$a"
check "B's domid" "$(val B domid)" "$b"

# A offers a port to B; B binds it: its new port is pending at once
pa=$(ask A pa alloc "$b")
check "alloc_unbound for B: the lowest port" "$pa" 1
check "A's port unbound for B" "$(ask A st0 status "$pa")" 0
check "A's port state unbound" "$(val A st0_status)" 1
check "A's port may be bound by B" "$(val A st0_dom)" "$b"
check "procvisor evtchn: unbound" "$(port_line evA "$pa")" \
    "$pa unbound 0 d$b may bind 0 0"
pb=$(ask B pb bind "$a" "$pa")
check "bind_interdomain gives B port 1" "$pb" 1
check "B's new port pending right after the bind" "$(val B pb_pending)" 1
check "A's port interdomain" "$(ask A st1 status "$pa")" 0
check "A's port state" "$(val A st1_status)" 2
check "A's peer domain" "$(val A st1_dom)" "$b"
check "A's peer port" "$(val A st1_port)" "$pb"
check "procvisor evtchn header" "$(pv evtchn evA | head -n 1 | tr -s ' ' |
    sed 's/^ //')" "Port State VCPU Peer Pending Masked"
check "procvisor evtchn: A's port" "$(port_line evA "$pa")" \
    "$pa interdomain 0 d$b:$pb 0 0"
check "procvisor evtchn: B's port pending" "$(port_line evB "$pb")" \
    "$pb interdomain 0 d$a:$pa 1 0"
check "procvisor evtchn lists in-use ports only" \
    "$(pv evtchn evA | tail -n +2 | wc -l)" 1

# B sends: A's bit, then its upcall eventfd
check "no upcall for A yet" "$(ask A up0 upcall 0)" 0
check "nothing pending in A yet" "$(ask A n0 count)" 0
check "B sends" "$(ask B s1 send "$pb")" 0
check "A's port pending" "$(ask A p1 pending "$pa")" 1
check "only that port" "$(ask A n1 count)" 1
check "A's upcall eventfd readable" "$(ask A up1 upcall 2000)" 1
check "procvisor evtchn: A's port pending" "$(port_line evA "$pa")" \
    "$pa interdomain 0 d$b:$pb 1 0"

# SCHEDOP_poll: at once when pending, woken by B's send, or timed out
check "poll on a pending port" "$(ask A q1 poll "$pa" 5000)" 0
ms=$(val A q1_ms)
[ "${ms:-9999}" -lt 1000 ] && ok "poll on a pending port is immediate (${ms} ms)" ||
    bad "poll on a pending port took ${ms} ms"
ask A ack1 ack >/dev/null
check "acknowledged" "$(ask A n2 count)" 0
tell A q2 poll "$pa" 8000
await A q2_start
sleep 0.3
check "B sends again" "$(ask B s2 send "$pb")" 0
check "poll woken by the send" "$(answer A q2)" 0
ms=$(val A q2_ms)
[ "${ms:-0}" -ge 100 ] && [ "${ms:-9999}" -lt 6000 ] &&
    ok "the poll slept until the send (${ms} ms)" ||
    bad "poll woken after ${ms} ms (want 100..6000)"
check "the polled port pending after the poll" "$(val A q2_pending)" 1
ask A ack2 ack >/dev/null
check "poll times out" "$(ask A q3 poll "$pa" 300)" 0
ms=$(val A q3_ms)
[ "${ms:-0}" -ge 250 ] && [ "${ms:-9999}" -lt 5000 ] &&
    ok "poll timeout after ${ms} ms" || bad "poll timeout after ${ms} ms"
check "nothing pending after the timeout" "$(val A q3_pending)" 0

# B closes: A's port goes back to unbound, and its send goes nowhere
check "B closes its port" "$(ask B c1 close "$pb")" 0
check "B's port closed" "$(ask B st2 status "$pb")" 0
check "B's port state closed" "$(val B st2_status)" 0
check "A's port after the close" "$(ask A st3 status "$pa")" 0
check "A's port unbound again" "$(val A st3_status)" 1
check "bindable by B again" "$(val A st3_dom)" "$b"
check "procvisor evtchn: unbound again" "$(port_line evA "$pa")" \
    "$pa unbound 0 d$b may bind 0 0"
ask B ack3 ack >/dev/null
check "A's send to an unbound port" "$(ask A s3 send "$pa")" 0
check "nothing reached B" "$(ask B n3 count)" 0
check "no upcall in B" "$(ask B up3 upcall 200)" 0
check "close twice" "$(ask B c2 close "$pb")" -22
check "send on a closed port" "$(ask B s4 send "$pb")" -22

# B binds again, then is killed: A's port is left unbound
pb=$(ask B pb2 bind "$a" "$pa")
check "B binds the port again" "$pb" 1
check "A's port interdomain again" "$(ask A st4 status "$pa")" 0
check "A's port state" "$(val A st4_status)" 2
victim=$(pgrep -P "$pid_B" -x evtchn_probe)
kill -KILL "$victim"
wait "$pid_B"
check "B's probe killed" $? 137
exec {fd_B}>&-
wait_for '[ "$(state_of "$b")" = dead ]' || bad "B dead after SIGKILL"
check "A's port after B's death" "$(ask A st5 status "$pa")" 0
check "A's port unbound" "$(val A st5_status)" 1
check "still naming B" "$(val A st5_dom)" "$b"
check "A's send after B's death" "$(ask A s5 send "$pa")" 0
check "procvisor evtchn: left unbound" "$(port_line evA "$pa")" \
    "$pa unbound 0 d$b may bind 0 0"

# dom0 hears of a domU's death through VIRQ_DOM_EXC
start D 0
check "dom0's probe" "$(val D domid)" 0
v=$(ask D v virq 3 0)
[ "${v:-0}" -ge 1 ] && ok "dom0 binds VIRQ_DOM_EXC (port $v)" ||
    bad "dom0 bind VIRQ_DOM_EXC: $v"
check "not pending yet" "$(ask D vp0 pending "$v")" 0
check "procvisor evtchn: dom0's VIRQ" "$(port_line 0 "$v")" \
    "$v virq 0 virq 3 0 0"
check "a second VIRQ_DOM_EXC binding" "$(ask D v2 virq 3 0)" -17
stop A
check "A's probe exit status" $? 0
wait_for '[ "$(state_of "$a")" = dead ]' || bad "A dead after its probe"
check "VIRQ_DOM_EXC pending in dom0" "$(ask D vp1 pending "$v")" 1
check "dom0's upcall eventfd readable" "$(ask D vu upcall 2000)" 1
check "dom0 closes it" "$(ask D vc close "$v")" 0
stop D
check "dom0's probe exit status" $? 0

# VIRQ_TIMER from set_timer_op ends SCHEDOP_block
pv create evT >/dev/null
start T evT
tp=$(ask T tp virq 0 0)
check "VIRQ_TIMER bound on vCPU 0" "$tp" 1
check "VIRQ_TIMER twice" "$(ask T tp2 virq 0 0)" -17
check "a domU cannot bind a global VIRQ" "$(ask T tp3 virq 3 0)" -16
check "block until the timer" "$(ask T tb timer "$tp" 200)" 0
ms=$(val T tb_ms)
[ "${ms:-0}" -ge 150 ] && [ "${ms:-9999}" -lt 5000 ] &&
    ok "VIRQ_TIMER woke SCHEDOP_block after ${ms} ms" ||
    bad "block woken after ${ms} ms (want 150..5000)"
check "VIRQ_TIMER pending" "$(val T tb_pending)" 1
virqs=$(field evT 'timer virqs')
check "timer virqs counted" "$virqs" 1
check "procvisor evtchn: VIRQ_TIMER" "$(port_line evT "$tp")" \
    "$tp virq 0 virq 0 1 0"
stop T
check "T's probe exit status" $? 0
finish
