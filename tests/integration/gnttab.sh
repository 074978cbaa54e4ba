#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gnttab.sh - sharing pages between domains through Debian's libxengnttab:
# xengntshr_share_pages in one domain, xengnttab_map_grant_refs in
# another, a three-grant mapping, read-only grants, grant copy, a page
# that outlives its owner's unshare, fork, and an unmap notification seen
# by the peer after the mapper is SIGKILLed.
. "$(dirname "$0")/lib.sh"

G="$BUILD/tests/gnt_probe"
out="$PROCVISOR_DIR/out"

# start_sharer DOMAIN ARGS...: a sharing gnt_probe fed from fd 4, read on 3
start_sharer() {
    local dom=$1
    shift
    rm -f "$PROCVISOR_DIR/in" "$PROCVISOR_DIR/sh"
    mkfifo "$PROCVISOR_DIR/in" "$PROCVISOR_DIR/sh"
    "$PROCVISOR" run "$dom" -- "$G" "$@" <"$PROCVISOR_DIR/in" \
        >"$PROCVISOR_DIR/sh" 2>&1 &
    sharer=$!
    exec 4>"$PROCVISOR_DIR/in"
    exec 3<"$PROCVISOR_DIR/sh"
}
# say CMD: send a command to the sharer and read its one-line answer
say() { echo "$1" >&4; read -t 10 -r answer <&3; echo "$answer"; }
stop_sharer() { echo quit >&4; exec 4>&- 3<&-; wait "$sharer"; }

# --- three read-write grants in one mapping
a=$(pv create gnt-a)
b=$(pv create gnt-b)
# a domain dies with its last process: these keep them alive between runs
"$PROCVISOR" run gnt-a -- sleep 600 &
keep_a=$!
"$PROCVISOR" run gnt-b -- sleep 600 &
keep_b=$!
# ...once they hold the domains (a slow start would let the first probe's
# exit end its domain)
for _ in $(seq 1 400); do
    [ "$(field gnt-a connections)" -ge 1 ] 2>/dev/null &&
        [ "$(field gnt-b connections)" -ge 1 ] 2>/dev/null && break
    sleep 0.05
done
start_sharer gnt-a share "$b" 3 rw
read -t 10 -r line <&3
refs=${line#refs=}
read -t 10 -r line <&3
check "refs are not the reserved 0-7" "$line" "refs_above_7=1"
pv run gnt-b -- "$G" map "$a" "$refs" rw >"$out" 2>&1
check "three grants in one mapping" "$(kv "$out" mapped)" 1
check "each page holds what its sharer wrote" "$(kv "$out" contents)" 1
check "xengnttab_unmap" "$(kv "$out" unmap)" 0
check "the sharer reads what the mapper wrote" "$(say peek)" "p0=from-client"
pv gnttab gnt-a >"$out"
check "procvisor gnttab lists the three grants" \
    "$(grep -c "d$b .*access" "$out")" 3
check "none is pinned after the unmap" "$(grep -c "reading" "$out")" 0

# --- one mapping of grants from two domains
c=$(pv create gnt-c)
rm -f "$PROCVISOR_DIR/in2" "$PROCVISOR_DIR/sh2"
mkfifo "$PROCVISOR_DIR/in2" "$PROCVISOR_DIR/sh2"
"$PROCVISOR" run gnt-c -- "$G" share "$b" 1 rw <"$PROCVISOR_DIR/in2" \
    >"$PROCVISOR_DIR/sh2" 2>&1 &
sharer2=$!
exec 8>"$PROCVISOR_DIR/in2"
exec 9<"$PROCVISOR_DIR/sh2"
read -t 10 -r line <&9
cref=${line#refs=}
read -t 10 -r line <&9
pv run gnt-b -- "$G" map2 "$a" "${refs%%,*}" "$c" "$cref" >"$out" 2>&1
check "grants of two domains in one mapping" "$(kv "$out" mapped)" 1
check "the first page is the first domain's" "$(kv "$out" first)" page-0
check "the second page is the second domain's" "$(kv "$out" second)" page-0
check "and unmap together" "$(kv "$out" unmap)" 0
echo peek >&8
read -t 10 -r line <&9
check "the second sharer reads what was written" "$line" "p0=from-client"
echo quit >&8
exec 8>&- 9<&-
wait "$sharer2"

# --- grant copy both ways, and a bad ref's status
pv run gnt-b -- "$G" copy "$a" "${refs%%,*}" >"$out" 2>&1
check "xengnttab_grant_copy" "$(kv "$out" copy)" 0
check "per-segment status" "$(kv "$out" copy_status)" "0,0"
check "copied out of the grant" "$(kv "$out" copied_out)" "page-0"
check "copied into the grant" "$(say peek)" "p0=copied-in"
check "a bad ref fails its segment, not the call" "$(kv "$out" copy_bad)" 0
check "with GNTST_bad_gntref" "$(kv "$out" copy_bad_status)" -3

# --- a mapping outlives the sharer's unshare; the page goes at unmap
ref1=${refs%%,*}
rm -f "$PROCVISOR_DIR/min" "$PROCVISOR_DIR/mout"
mkfifo "$PROCVISOR_DIR/min" "$PROCVISOR_DIR/mout"
"$PROCVISOR" run gnt-b -- "$G" map-hold "$a" "$ref1" <"$PROCVISOR_DIR/min" \
    >"$PROCVISOR_DIR/mout" 2>&1 &
mapper=$!
exec 6>"$PROCVISOR_DIR/min"
exec 5<"$PROCVISOR_DIR/mout"
read -t 10 -r line <&5
check "mapped again" "$line" "mapped=1"
check "the sharer unshares (munmap only)" "$(say unshare)" "unshare=0"
pv gnttab gnt-a >"$out"
check "the mapped grant lingers, pinned" "$(grep -c "^ *$ref1 .*writing" "$out")" 1
check "the other two are gone" "$(grep -c "access" "$out")" 1
echo "write still-here" >&6
read -t 10 -r line <&5
check "the mapper still writes the page" "$line" "wrote=1"
echo read >&6
read -t 10 -r line <&5
check "and reads it back" "$line" "at128=still-here"
echo unmap >&6
read -t 10 -r line <&5
check "the mapper unmaps" "$line" "unmap=0"
pv gnttab gnt-a >"$out"
check "then the grant ends" "$(grep -c "access" "$out")" 0
exec 6>&- 5<&-
wait "$mapper"
stop_sharer

# --- read-only grants
start_sharer gnt-a share "$b" 2 ro
read -t 10 -r line <&3
refs=${line#refs=}
read -t 10 -r line <&3
pv run gnt-b -- "$G" map "$a" "$refs" ro >"$out" 2>&1
check "read-only grants map read-only" "$(kv "$out" mapped)" 1
check "with the sharer's contents" "$(kv "$out" contents)" 1
check "mprotect cannot make them writable" "$(kv "$out" mprotect_rw)" -13
pv run gnt-b -- "$G" map "$a" "$refs" rw >"$out" 2>&1
check "a writable map of a read-only grant fails (EINVAL)" \
    "$(kv "$out" mapped)" -22

# --- mappings are not inherited across fork
pv run gnt-b -- "$G" map-fork "$a" "${refs%%,*}" >"$out" 2>&1
check "mapped before fork" "$(kv "$out" mapped)" 1
check "the child does not have the page" "$(kv "$out" child_unmapped)" 1
check "the parent still reads it" "$(kv "$out" parent_read)" 1
stop_sharer
kill "$keep_a" "$keep_b"
wait "$keep_a" "$keep_b" 2>/dev/null

# --- an unmap notification seen by the peer after SIGKILL
na=$(pv create gnt-notify-a)
nb=$(pv create gnt-notify-b)
rm -f "$PROCVISOR_DIR/n"
mkfifo "$PROCVISOR_DIR/n"
"$PROCVISOR" run gnt-notify-a -- "$G" share-notify "$nb" >"$PROCVISOR_DIR/n" &
ns=$!
exec 7<"$PROCVISOR_DIR/n"
read -t 10 -r line <&7
ref=${line#ref=}
read -t 10 -r line <&7
port=${line#port=}
"$PROCVISOR" run gnt-notify-b -- "$G" map-notify "$na" "$ref" "$port" \
    >"$out" 2>&1 &
nm=$!
disown "$nm" # killed below: no job report
for _ in $(seq 1 100); do
    [ "$(kv "$out" mapped)" = 1 ] && break
    sleep 0.05
done
check "mapped with a notify" "$(kv "$out" mapped)" 1
check "the byte is set" "$(kv "$out" byte0)" 1
pkill -KILL -f "gnt_probe map-notify" || true
read -t 10 -r line <&7
check "the sharer gets the event after SIGKILL" "$line" "event=1"
read -t 10 -r line <&7
check "and sees the byte cleared" "$line" "byte0=0"
exec 7<&-
wait "$ns"

check "the hypervisor still serves" "$(pv list >/dev/null && echo ok)" ok
finish
