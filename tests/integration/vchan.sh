#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vchan.sh - Debian's unmodified libxenvchan between two domains: a server
# in one (its nodes under its own /local/domain/<id>/data), a client in the
# other; 256 MiB each way at once with checksums compared across the two
# sides, rings of orders 10 to 20, a client started before the server that
# waits on an xs_watch, and SIGKILL of either side seen by the other.
. "$(dirname "$0")/lib.sh"

V="$BUILD/tests/vchan_probe"
d="$PROCVISOR_DIR"

a=$(pv create vc-a)
b=$(pv create vc-b)
# a domain dies with its last process: these keep them alive between runs
"$PROCVISOR" run vc-a -- sleep 600 &
keep_a=$!
"$PROCVISOR" run vc-b -- sleep 600 &
keep_b=$!
wait_for "[ \"\$(procs_of vc-a)\" = 1 ] && [ \"\$(procs_of vc-b)\" = 1 ]"
P=/local/domain/$a/data/vchan

# start_server TAG READ_MIN WRITE_MIN BYTES [hold]: in vc-a, output in
# $d/TAG.srv; returns once its nodes are written
start_server() {
    local tag=$1
    shift
    "$PROCVISOR" run vc-a -- "$V" server "$b" "$P" "$@" >"$d/$tag.srv" 2>&1 &
    server=$!
    wait_for "grep -q '^pid=' '$d/$tag.srv'"
}
# pair TAG READ_MIN WRITE_MIN BYTES: a server, then a client, to the end
pair() {
    local tag=$1 bytes=$4
    start_server "$@"
    "$PROCVISOR" run vc-b -- "$V" client "$a" "$P" "$bytes" >"$d/$tag.cli" 2>&1
    wait "$server"
}
# transferred TAG BYTES WHAT: both directions arrived whole and unaltered
transferred() {
    local s="$d/$1.srv" c="$d/$1.cli"
    check "$3: the client received" "$(kv "$c" recv_bytes)" "$2"
    check "$3: the server received" "$(kv "$s" recv_bytes)" "$2"
    check "$3: every word the client got was the server's" \
        "$(kv "$c" recv_ok)" 1
    check "$3: every word the server got was the client's" \
        "$(kv "$s" recv_ok)" 1
    # (a sender that printed no checksum must not match a receiver's none)
    local ssum csum
    ssum=$(kv "$s" sent_sum)
    csum=$(kv "$c" sent_sum)
    check "$3: server to client, the checksums agree" \
        "$(kv "$c" recv_sum)" "${ssum:-none from the server}"
    check "$3: client to server, the checksums agree" \
        "$(kv "$s" recv_sum)" "${csum:-none from the client}"
}

# --- 1. 256 MiB each way, at the same time
big=$((256 << 20))
pair big 65536 65536 "$big"
check "server_init" "$(kv "$d/big.srv" server_init)" 0
check "client_init" "$(kv "$d/big.cli" client_init)" 0
check "the client sees the server open" "$(kv "$d/big.cli" connected)" 1
check "the server sees the client connect" "$(kv "$d/big.srv" connected)" 1
transferred big "$big" "256 MiB"
echo "256 MiB each way: $(kv "$d/big.srv" elapsed_ms) ms," \
    "$(kv "$d/big.srv" mib_s_each_way) MiB/s each way"
if command -v xenstore-exists >/dev/null; then
    check "the server removed its nodes at close" \
        "$("$PROCVISOR" run 0 -- xenstore-exists "$P" 2>/dev/null; echo $?)" 1
fi

# --- 2. ring orders: READ_MIN WRITE_MIN -> server read/write orders
sixteen=$((16 << 20))
while read -r rmin wmin rorder worder; do
    tag=o$rorder-$worder
    pair "$tag" "$rmin" "$wmin" "$sixteen"
    check "orders for $rmin/$wmin (server)" \
        "$(kv "$d/$tag.srv" read_order)/$(kv "$d/$tag.srv" write_order)" \
        "$rorder/$worder"
    check "orders for $rmin/$wmin (client, mirrored)" \
        "$(kv "$d/$tag.cli" write_order)/$(kv "$d/$tag.cli" read_order)" \
        "$rorder/$worder"
    transferred "$tag" "$sixteen" "orders $rorder/$worder"
done <<EOF
1024 2048 10 11
4096 4096 12 12
65536 65536 16 16
1048576 1048576 20 20
EOF

# --- 3. a client started before the server waits on its watch
"$PROCVISOR" run vc-b -- "$V" client "$a" "$P" 1048576 watch >"$d/early.cli" 2>&1 &
early=$!
wait_for "grep -q '^watching=' '$d/early.cli'"
check "the early client watches the path" "$(kv "$d/early.cli" watching)" 1
sleep 0.3
check "and has not connected" "$(kv "$d/early.cli" client_init)" ""
start_server early 0 0 1048576
wait "$early"
wait "$server"
check "then connects once the server is up" \
    "$(kv "$d/early.cli" client_init)" 0
check "after more than the initial watch event" \
    "$(kv "$d/early.cli" watch_events_ge_2)" 1
transferred early 1048576 "early client"

# --- 4. SIGKILL of either side is noticed by the other
# held TAG: both sides of a held pair transferred and hold
held() {
    wait_for "grep -q '^held=' '$d/$1.srv' && grep -q '^held=' '$d/$1.cli'"
}
for victim in cli srv; do
    tag=kill-$victim
    start_server "$tag" 0 0 65536 hold
    "$PROCVISOR" run vc-b -- "$V" client "$a" "$P" 65536 hold \
        >"$d/$tag.cli" 2>&1 &
    client=$!
    held "$tag"
    if [ "$victim" = cli ]; then
        survivor=srv
        victim_job=$client
        survivor_job=$server
    else
        survivor=cli
        victim_job=$server
        survivor_job=$client
    fi
    check "$tag: both hold" \
        "$(kv "$d/$tag.srv" held)$(kv "$d/$tag.cli" held)" 11
    t0=$(date +%s%N)
    kill -KILL "$(kv "$d/$tag.$victim" pid)"
    wait "$victim_job" 2>/dev/null
    wait_for "grep -q '^peer_gone=' '$d/$tag.$survivor'"
    t1=$(date +%s%N)
    check "$tag: the $survivor sees is_open() == 0" \
        "$(kv "$d/$tag.$survivor" peer_gone)" 1
    check "$tag: within 5 s" "$(((t1 - t0) < 5000000000))" 1
    echo "$tag: noticed after $(((t1 - t0) / 1000000)) ms"
    wait "$survivor_job"
    check "$tag: the $survivor exits cleanly" $? 0
done

kill "$keep_a" "$keep_b"
wait "$keep_a" "$keep_b" 2>/dev/null
check "the hypervisor still serves" "$(pv list >/dev/null && echo ok)" ok
finish
