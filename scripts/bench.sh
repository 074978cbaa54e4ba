#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench.sh - the benchmarks, each against its floor in the same run, against
# a private hypervisor, with both placements: the domain and the daemon (and
# the floor's two processes) on the same core, then on different cores.
set -eu
cd "$(dirname "$0")/.."
export PROCVISOR_DIR
PROCVISOR_DIR=$(mktemp -d /tmp/procvisor-bench.XXXXXX)
pv=build/procvisor
trap '$pv down >/dev/null 2>&1; rm -rf "$PROCVISOR_DIR"' EXIT
$pv create bench >/dev/null
daemon=$(head -n 1 "$PROCVISOR_DIR/procvisord.lock")
last=$(($(nproc) - 1))

echo "== hypercall round trip (bench/bench_hypercall.c), $(nproc) cpus"
echo "-- same core: domain, daemon, floor on cpu 0"
taskset -pc 0 "$daemon" >/dev/null
taskset -c 0 $pv run bench -- build/bench/bench_hypercall -c 0 "$@"
if [ "$last" -gt 0 ]; then
    $pv create bench2 >/dev/null
    echo "-- across cores: domain on cpu 0, daemon and the floor's echo on cpu $last"
    taskset -pc "$last" "$daemon" >/dev/null
    taskset -c 0 $pv run bench2 -- build/bench/bench_hypercall -c "$last" "$@"
fi

# evtchn_pingpong SERVER_CPU CLIENT_CPU: libxenevtchn ping-pong between two
# domains, and the raw eventfd floor placed the same way
pingpong() {
    local s c fifo port
    s=$($pv create "ev-server-$1-$2")
    c=$($pv create "ev-client-$1-$2")
    fifo="$PROCVISOR_DIR/fifo-$1-$2"
    mkfifo "$fifo"
    taskset -c "$1" $pv run "$s" -- build/tests/evtchn_pingpong server "$c" \
        "$ROUNDS" >"$fifo" &
    exec 3<"$fifo"
    read -r port <&3
    taskset -c "$2" $pv run "$c" -- build/tests/evtchn_pingpong client "$s" \
        "${port#port=}" "$ROUNDS" "floor=$1" | grep -E 'rtt|ratio'
    cat <&3 >/dev/null
    exec 3<&-
    wait
}
ROUNDS=${ROUNDS:-100000}
echo
echo "== event channel ping-pong through libxenevtchn (tests/compat/evtchn_pingpong.c), $ROUNDS rounds"
echo "-- same core: both domains (and both floor processes) on cpu 0"
pingpong 0 0
if [ "$last" -gt 0 ]; then
    echo "-- across cores: server domain on cpu $last, client on cpu 0"
    pingpong "$last" 0
fi

# grants SERVER_CPU CLIENT_CPU: map/unmap through libxengnttab and a
# vchan-style ring between two domains, each against its floor
grants() {
    local s c fifo line
    s=$($pv create "gnt-server-$1-$2")
    c=$($pv create "gnt-client-$1-$2")
    fifo="$PROCVISOR_DIR/gfifo-$1-$2"
    mkfifo "$fifo"
    taskset -c "$1" $pv run "$s" -- build/bench/bench_grant server "$c" >"$fifo" &
    exec 3<"$fifo"
    read -r line <&3
    set -- "$1" "$2" $line
    taskset -c "$2" $pv run "$c" -- build/bench/bench_grant client "$s" \
        "${3#port=}" "${4#map=}" "${5#ring=}" -c "$1"
    exec 3<&-
    wait
}
echo
echo "== grants through libxengnttab (bench/bench_grant.c)"
echo "-- same core: both domains, the daemon and the floors on cpu 0"
taskset -pc 0 "$daemon" >/dev/null
grants 0 0
if [ "$last" -gt 0 ]; then
    echo "-- across cores: client domain on cpu 0; server domain, daemon and the floors' peers on cpu $last"
    taskset -pc "$last" "$daemon" >/dev/null
    grants "$last" 0
fi

# xs_read CPU: the xenstore read round trip through libxenstore, as dom0 (on
# $XENSTORED_PATH) and as a domU (through the preload library), the client
# on cpu 0 and the daemon and the floor's echo peer on CPU
xs_read() {
    local d
    d=$($pv create "xs-read-$1")
    echo "- as dom0"
    taskset -c 0 $pv run 0 -- build/bench/bench_xs read -c "$1"
    echo "- as a domU"
    taskset -c 0 $pv run "$d" -- build/bench/bench_xs read -c "$1"
}
echo
echo "== xenstore read round trip through libxenstore (bench/bench_xs.c read)"
echo "-- same core: the client, the daemon and the floor's echo on cpu 0"
taskset -pc 0 "$daemon" >/dev/null
xs_read 0
if [ "$last" -gt 0 ]; then
    echo "-- across cores: the client on cpu 0, the daemon and the floor's echo on cpu $last"
    taskset -pc "$last" "$daemon" >/dev/null
    xs_read "$last"
fi

echo
echo "== xenstore write transactions through libxenstore, as dom0 (bench/bench_xs.c tx)"
echo "-- same core: the clients, the daemon and the floor's server on cpu 0"
taskset -pc 0 "$daemon" >/dev/null
taskset -c 0 $pv run 0 -- build/bench/bench_xs tx -c 0
if [ "$last" -gt 0 ]; then
    echo "-- across cores: the clients on cpu 0, the daemon and the floor's server on cpu $last"
    taskset -pc "$last" "$daemon" >/dev/null
    taskset -c 0 $pv run 0 -- build/bench/bench_xs tx -c "$last"
fi

# vchan SERVER_CPU CLIENT_CPU: libxenvchan between two domains, against
# bench.h's ring floor with its producer on SERVER_CPU
vchan() {
    local s c fifo line
    s=$($pv create "vchan-server-$1-$2")
    c=$($pv create "vchan-client-$1-$2")
    fifo="$PROCVISOR_DIR/vfifo-$1-$2"
    mkfifo "$fifo"
    taskset -c "$1" $pv run "$s" -- build/bench/bench_xs vchan-server "$c" \
        "/local/domain/$s/data/bench-vchan" >"$fifo" &
    exec 3<"$fifo"
    read -r line <&3
    taskset -c "$2" $pv run "$c" -- build/bench/bench_xs vchan-client "$s" \
        "/local/domain/$s/data/bench-vchan" -c "$1"
    exec 3<&-
    wait
}
echo
echo "== libxenvchan throughput between two domains (bench/bench_xs.c vchan-*)"
echo "-- same core: both domains, the daemon and the floor on cpu 0"
taskset -pc 0 "$daemon" >/dev/null
vchan 0 0
if [ "$last" -gt 0 ]; then
    echo "-- across cores: client domain on cpu 0; server domain, daemon and the floor's producer on cpu $last"
    taskset -pc "$last" "$daemon" >/dev/null
    vchan "$last" 0
fi
