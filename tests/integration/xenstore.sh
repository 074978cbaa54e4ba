#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstore.sh - the store through Debian's xenstore-utils: dom0 on the
# socket of `procvisor env`, a domU through the preload library (relative
# paths, its own permissions, no way to dom0's view), the nodes a domain
# gets at creation and loses at death (@releaseDomain), watches, escapes,
# exit codes, and hostile clients on the socket.
. "$(dirname "$0")/lib.sh"

if ! command -v xenstore-read >/dev/null; then
    echo "SKIP: xenstore-utils is not installed (scripts/deps.sh)"
    exit 77
fi
eval "$(pv env)"
sock="$PROCVISOR_DIR/xenstored.sock"
out="$PROCVISOR_DIR/out"
check "XENSTORED_PATH from procvisor env" "$XENSTORED_PATH" "$sock"
check "the socket's mode" "$(stat -c %a "$sock")" 600

# --- dom0 on the socket
check "dom0's name" "$(xenstore-read /local/domain/0/name)" Domain-0
check "a relative path is dom0's" "$(xenstore-read domid)" 0
xenstore-write /test/a hello /test/b world
check "write then read" "$(xenstore-read /test/a /test/b | tr '\n' ' ')" \
    "hello world "
check "list" "$(xenstore-list /test | tr '\n' ' ')" "a b "
xenstore-exists /test/a
check "exists" $? 0
xenstore-exists /test/nope
check "exists of a missing node" $? 1
xenstore-read /test/nope 2>/dev/null
check "read of a missing node" $? 1
xenstore-rm /test/b
xenstore-exists /test/b
check "rm" $? 1
xenstore-write /test/esc 'a\tb\x01'
check "escapes, read back" "$(xenstore-read /test/esc)" 'a\tb\001'
check "escapes, raw" "$(xenstore-read -R /test/esc | od -An -c | tr -s ' ')" \
    " a \t b 001"
xenstore-write /test/bad/ x 2>/dev/null
check "an invalid path" $? 1
check "ls" "$(xenstore-ls /test | tr '\n' ' ')" \
    'a = "hello" esc = "a\tb\001" '
# watches: the initial event, then one per change
xenstore-watch -n 3 /test/w >"$out" &
w=$!
wait_for "xenstore-exists /test >/dev/null && [ -s '$out' ]"
xenstore-write /test/w/x 1
xenstore-rm /test/w
wait "$w"
check "watch events" "$(tr '\n' ' ' <"$out")" "/test/w /test/w/x /test/w "
# `procvisor run 0` sets XENSTORED_PATH for dom0's commands
check "run 0: XENSTORED_PATH" \
    "$(env -u XENSTORED_PATH "$PROCVISOR" run 0 -- sh -c 'echo $XENSTORED_PATH')" \
    "$sock"
check "run 0: dom0's view" \
    "$(env -u XENSTORED_PATH "$PROCVISOR" run 0 -- xenstore-read domid)" 0

# --- a domain's nodes, as xl writes them
a=$(pv create xs-a --vcpus 2)
b=$(pv create xs-b)
"$PROCVISOR" run xs-a -- sleep 600 &
keep_a=$!
"$PROCVISOR" run xs-b -- sleep 600 &
keep_b=$!
wait_for "[ \"\$(procs_of xs-a)\" = 1 ] && [ \"\$(procs_of xs-b)\" = 1 ]"
D=/local/domain/$a
check "name" "$(xenstore-read $D/name)" xs-a
check "domid" "$(xenstore-read $D/domid)" "$a"
check "cpus" "$(xenstore-list $D/cpu | tr '\n' ' ')" "0 1 "
check "memory/target" "$(xenstore-read $D/memory/target)" 65536
check "memory/videoram" "$(xenstore-read $D/memory/videoram)" 0
check "/libxl/<id>/device, dom0's" "$(xenstore-ls -p /libxl/$a |
    sed -n 's/^device = .*(\(.*\))$/\1/p')" n0
vm=$(xenstore-read $D/vm)
check "the vm node" "$(xenstore-read "$vm/name")" xs-a
check "the domain path's perms" "$(xenstore-ls -p /local/domain |
    sed -n "s/^$a = .*(\(.*\))$/\1/p")" "n0,r$a"
check "data's perms" "$(xenstore-ls -p $D | sed -n 's/^data = .*(\(.*\))$/\1/p')" \
    "n$a"
check "control/shutdown's perms" "$(xenstore-ls -p $D/control |
    sed -n 's/^shutdown = .*(\(.*\))$/\1/p')" "n$a"

# --- a domU through the preload library
runa() { "$PROCVISOR" run xs-a -- "$@"; }
check "domU: a relative path is its own" "$(runa xenstore-read domid)" "$a"
check "domU: its name" "$(runa xenstore-read name)" xs-a
check "domU: the default socket path" \
    "$(env -u XENSTORED_PATH "$PROCVISOR" run xs-a -- xenstore-read domid)" "$a"
check "domU: XENSTORED_RUNDIR" \
    "$(env -u XENSTORED_PATH XENSTORED_RUNDIR=/nonexistent \
        "$PROCVISOR" run xs-a -- xenstore-read domid)" "$a"
check "domU: dom0's socket path gives the domain's view" \
    "$(XENSTORED_PATH=$sock "$PROCVISOR" run xs-a -- xenstore-read domid)" "$a"
runa xenstore-write data/k v
check "domU: writes its data" $? 0
check "domU: dom0 reads it" "$(xenstore-read $D/data/k)" v
runa xenstore-write name evil 2>/dev/null
check "domU: may not write its name" $? 1
check "domU: name unchanged" "$(xenstore-read $D/name)" xs-a
runa xenstore-read /local/domain/$b/name 2>/dev/null
check "domU: may not read another domain" $? 1
runa xenstore-write /local/domain/$b/data/k v 2>/dev/null
check "domU: may not write another domain's data" $? 1
runa xenstore-read /local/domain/0/name 2>/dev/null
check "domU: may not read dom0's nodes" $? 1
runa xenstore-ls /local/domain >/dev/null 2>&1
check "domU: may not list the domains" $? 1
runa xenstore-rm /test 2>/dev/null
check "domU: may not remove dom0's nodes" $? 1
check "domU: /test is still there" "$(xenstore-read /test/a)" hello
runa xenstore-chmod data/k n0 2>/dev/null
check "domU: may not give its node to dom0" $? 1
runa xenstore-chmod data/k n$a r$b
check "domU: may let another domain read" \
    "$("$PROCVISOR" run xs-b -- xenstore-read /local/domain/$a/data/k)" v
# a relative watch in the domain sees relative paths
: >"$out"
runa xenstore-watch -n 2 data/w >"$out" &
w=$!
wait_for "[ -s '$out' ]"
xenstore-write $D/data/w/x 1
wait "$w"
check "domU: watch events" "$(tr '\n' ' ' <"$out")" "data/w data/w/x "

# python3 speaks the raw wire; xsreq(sock, type, body, tx) -> (type, body)
XSPY='
import os, socket, struct, sys
def xsconn(path=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path or os.environ["XENSTORED_PATH"])
    return s
def xsread(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b
def xsget(s):
    t, _, _, n = struct.unpack("<IIII", xsread(s, 16))
    return t, xsread(s, n)
def xssend(s, t, body, tx=0):
    s.sendall(struct.pack("<IIII", t, 0, tx, len(body)) + body)
def xsreq(s, t, body, tx=0, events=None):
    xssend(s, t, body, tx)
    while True:
        rt, rb = xsget(s)
        if rt != 15:
            return rt, rb
        if events is not None:
            events.append(rb)
'
xspy() { python3 -c "$XSPY$1" "${@:2}"; }
# quota_of DOMID FIELD: a domain's usage, from CONTROL quota <domid>
quota_of() {
    xspy 'print(xsreq(xsconn(sys.argv[1]), 0, b"quota\0%s\0" %
                      sys.argv[2].encode())[1][:-1].decode())' "$sock" "$1" |
        sed -n "s/^$2 *: *//p"
}

# --- death: @releaseDomain, and the nodes go
: >"$out"
xenstore-watch -n 2 @releaseDomain >"$out" &
w=$!
wait_for "[ -s '$out' ]"
vmb=$(xenstore-read /local/domain/$b/vm)
kill "$keep_b"
wait "$keep_b" 2>/dev/null
wait "$w"
check "@releaseDomain fired" "$(tr '\n' ' ' <"$out")" "@releaseDomain @releaseDomain "
xenstore-exists /local/domain/$b
check "the dead domain's nodes are gone" $? 1
xenstore-exists "$vmb"
check "its vm node is gone" $? 1
check "the other domain's are not" "$(xenstore-read $D/data/k)" v

if command -v python3 >/dev/null; then
    # --- death: what the toolstack wrote goes, then @releaseDomain fires
    e=$(pv create xs-e)
    "$PROCVISOR" run xs-e -- sleep 600 &
    keep_e=$!
    wait_for "[ \"\$(procs_of xs-e)\" = 1 ]"
    : >"$out"
    xspy '
s = xsconn(sys.argv[1])
ev = []
xsreq(s, 4, b"/local/domain/%s\0d\0" % sys.argv[2].encode(), events=ev)
xsreq(s, 4, b"@releaseDomain\0r\0", events=ev)
print("ready", flush=True)
s.settimeout(10)
while len(ev) < 3 or not ev[-1].startswith(b"@releaseDomain"):
    ev.append(xsget(s)[1])
print(" ".join(e.split(b"\0")[1].decode() for e in ev[2:]))
' "$sock" "$e" >"$out" &
    w=$!
    wait_for "grep -q ready '$out'"
    kill "$keep_e"
    wait "$keep_e" 2>/dev/null
    wait "$w"
    check "death: the domain's nodes go, then @releaseDomain fires" \
        "$(sed -n 2p "$out")" "d r"

    # --- shutdown: @releaseDomain while the domain's process lives, and
    # again at its death (4.17's check_domains)
    c=$(pv create xs-c)
    "$PROCVISOR" run xs-c -- sleep 600 &
    keep_c=$!
    wait_for "[ \"\$(procs_of xs-c)\" = 1 ]"
    : >"$out" # empty before the watch starts: its first event shows
    timeout 10 xenstore-watch -n 2 @releaseDomain >"$out" &
    w=$!
    wait_for "[ -s '$out' ]"
    pv run xs-c -- "$PROBE" sched shutdown 0 >/dev/null
    wait "$w"
    check "@releaseDomain on shutdown" "$(tr '\n' ' ' <"$out")" \
        "@releaseDomain @releaseDomain "
    check "shut down, not dead" "$(state_of "$c")" shutdown
    check "its process lives" "$(kill -0 "$keep_c" && echo yes)" yes
    check "its nodes are still there" \
        "$(xenstore-read /local/domain/$c/name)" xs-c
    : >"$out" # empty before the watch starts: its first event shows
    timeout 10 xenstore-watch -n 2 @releaseDomain >"$out" &
    w=$!
    wait_for "[ -s '$out' ]"
    kill "$keep_c"
    wait "$keep_c" 2>/dev/null
    wait "$w"
    check "@releaseDomain again at its death" "$(tr '\n' ' ' <"$out")" \
        "@releaseDomain @releaseDomain "

    # --- XS_RELEASE of a live domain closes its store connections; its
    # death still cleans up what it got since
    r=$(pv create xs-r)
    "$PROCVISOR" run xs-r -- sleep 600 &
    keep_r=$!
    : >"$out"
    "$PROCVISOR" run xs-r -- python3 -c "$XSPY"'
s = xsconn()
xsreq(s, 4, b"data\0t\0")
print("watching", flush=True)
try:
    while True:
        xsget(s)
except (EOFError, OSError):
    print("closed")
' >"$out" 2>&1 &
    wr=$!
    wait_for "grep -q watching '$out'"
    check "release: the domain watches" "$(quota_of $r watches)" 1
    check "XS_RELEASE of a live domain" "$(xspy '
s = xsconn(sys.argv[1])
print(xsreq(s, 9, sys.argv[2].encode() + b"\0")[1][:-1].decode())
' "$sock" "$r")" OK
    wait "$wr"
    check "its store connection is closed" "$(sed -n 2p "$out")" closed
    check "its watch is gone" "$(quota_of $r watches)" 0
    "$PROCVISOR" run xs-r -- xenstore-read domid >/dev/null 2>&1
    check "no store connection once released" $? 1
    xenstore-write /given-to-r x && xenstore-chmod /given-to-r "n$r"
    check "dom0 gives the released domain a node" \
        "$(xenstore-ls -p / | sed -n 's/^given-to-r = .*(\(.*\))$/\1/p')" "n$r"
    : >"$out" # empty before the watch starts: its first event shows
    timeout 10 xenstore-watch -n 2 @releaseDomain >"$out" &
    w=$!
    wait_for "[ -s '$out' ]"
    kill "$keep_r"
    wait "$keep_r" 2>/dev/null
    wait "$w"
    check "its death fires @releaseDomain" "$(tr '\n' ' ' <"$out")" \
        "@releaseDomain @releaseDomain "
    xenstore-exists /given-to-r
    check "and removes the node it got after the release" $? 1

    # --- a hostile domain: at most 16 store connections, and what they
    # make the store hold is the domain's, within its memory quota
    h=$(pv create xs-h)
    mkfifo "$PROCVISOR_DIR/hold"
    : >"$out"
    "$PROCVISOR" run xs-h -- python3 -c "$XSPY"'
conns = []
try:
    for i in range(20):
        conns.append(xsconn())
except OSError as e:
    print("connections", len(conns), os.strerror(e.errno))
# every transaction the domain may open, spread over its connections,
# each reading long missing paths until refused
txs, refused = [], {}
for s in conns:
    t, b = xsreq(s, 6, b"\0")
    if t == 16:
        print("transaction refused", b[:-1].decode())
        break
    txs.append((s, int(b[:-1])))
for s, tx in txs:
    for k in range(1100):
        p = b"%05d-%05d-" % (tx, k) + b"a" * 2036 + b"\0"
        t, b = xsreq(s, 2, p, tx)
        if b != b"ENOENT\0":
            refused[b] = refused.get(b, 0) + 1
            break
print("transactions", len(txs), "refused", refused, flush=True)
sys.stdin.readline()
for s, tx in txs:
    xsreq(s, 7, b"F\0", tx)
# a client that does not read: 300 reads of a 2000-byte node
s = conns[0]
xsreq(s, 11, b"data/big\0" + b"b" * 2000)
for i in range(300):
    xssend(s, 2, b"data/big\0")
print("sent", flush=True)
sys.stdin.read()
' >"$out" <"$PROCVISOR_DIR/hold" &
    hp=$!
    exec 9>"$PROCVISOR_DIR/hold"
    wait_for "grep -q '^transactions' '$out'"
    check "a domain's 17th store connection is refused" \
        "$(sed -n 1p "$out")" "connections 16 Too many open files"
    check "11 transactions, on all its connections together" \
        "$(sed -n 2p "$out")" "transaction refused ENOSPC"
    check "each refused at the memory quota" "$(sed -n 3p "$out")" \
        "transactions 11 refused {b'ENOMEM\\x00': 11}"
    check "what the store holds for it stays under 2.5 MiB" \
        "$([ "$(quota_of $h memory)" -lt 2621440 ] && echo yes)" yes
    check "its transactions" "$(quota_of $h transactions)" 11
    echo >&9
    wait_for "grep -q '^sent' '$out'"
    wait_for "[ \"\$(quota_of $h outstanding)\" = 20 ]"
    check "a domain that does not read is not read: 20 replies wait" \
        "$(quota_of $h outstanding)" 20
    check "the store answers others" "$(xenstore-read /test/a)" hello
    exec 9>&-
    wait "$hp"
    check "its connections gone, the store holds nothing for them" \
        "$(quota_of $h transactions):$(quota_of $h outstanding)" 0:0
    pv destroy "$h"

fi

# --- CONTROL through xen-utils-4.17's xenstore-control (/usr/bin's is a
# wrapper that wants a real Xen): 4.17's commands, as built without live
# update
XSCTL=/usr/lib/xen-4.17/bin/xenstore-control
if [ -x "$XSCTL" ]; then
    check "CONTROL help" "$("$XSCTL" help | cut -f1 | tr '\n' ' ')" \
        "check log logfile memreport print quota quota-soft help  "
    "$XSCTL" live-update -s >/dev/null 2>&1
    check "live-update: not built in" $? 3
    check "memreport with no log file: the reply" \
        "$("$XSCTL" memreport | sed -n 1p | cut -d: -f1)" \
        "Xenstore memory report"
    "$XSCTL" logfile "$PROCVISOR_DIR/xs.log"
    check "logfile" $? 0
    "$XSCTL" memreport
    check "memreport to the log file" \
        "$(grep -c '^Xenstore memory report' "$PROCVISOR_DIR/xs.log")" 1
    "$XSCTL" print "hello log"
    check "the store's log lines go there" \
        "$(grep -c '^hello log$' "$PROCVISOR_DIR/xs.log")" 1
    "$XSCTL" memreport "$PROCVISOR_DIR/mem.txt"
    check "memreport to a file" "$(grep -c '^ *0 ' "$PROCVISOR_DIR/mem.txt")" 1
else
    bad "xenstore-control is not installed (scripts/deps.sh installs xen-utils-4.17)"
fi

# --- hostile clients on the socket (python3 speaks the raw wire)
if command -v python3 >/dev/null; then
    check "an oversized request closes the connection" "$(python3 - "$sock" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack("<IIII", 2, 0, 0, 4097))
s.settimeout(5)
print("closed" if s.recv(16) == b"" else "open")
EOF
)" closed
    check "a client that never reads is dropped" "$(python3 - "$sock" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
val = b"x" * 3000
req = b"/test/big\0" + val
s.sendall(struct.pack("<IIII", 11, 0, 0, len(req)) + req)
r = b"/test/big\0"
one = struct.pack("<IIII", 2, 0, 0, len(r)) + r
s.settimeout(10)
try:
    for i in range(2000):
        s.sendall(one * 16)
    print("still open")
except (BrokenPipeError, ConnectionResetError):
    print("dropped")
EOF
)" dropped
    check "the store still answers" "$(xenstore-read /test/a)" hello
fi

kill "$keep_a"
wait "$keep_a" 2>/dev/null

# --- upstream's test-xenstore (xen-utils-4.17, from scripts/deps.sh): each
# of its tests as dom0, then all of them repeated, then its random mode
T=/usr/lib/xen-4.17/bin/test-xenstore
if [ ! -x "$T" ]; then
    bad "test-xenstore is not installed (scripts/deps.sh installs xen-utils-4.17)"
else
    "$T" -l | sed 's/ *:.*//' >"$out.list"
    check "test-xenstore lists its 12 tests" "$(wc -l <"$out.list")" 12
    while IFS= read -r t; do
        timeout 60 "$T" -t "$t" >"$out" 2>&1
        check "test-xenstore -t '$t'" "$?:$(grep -c failed "$out")" "0:0"
    done <"$out.list"
    timeout 120 "$T" -i 20 >"$out" 2>&1
    check "test-xenstore, every test 20 times" "$?:$(grep -c failed "$out")" "0:0"
    timeout 60 "$T" -r 5 >"$out" 2>&1
    check "test-xenstore -r 5 (random operations)" "$?:$(grep -c failed "$out")" "0:0"
    check "test-xenstore left nothing behind" \
        "$(xenstore-exists /local/domain/0/xenstore-test 2>/dev/null; echo $?)" 1
    # in a domU its home is the domain's (read-only to it, as libxl makes
    # it), so its set-up is refused with EACCES (13), as under Xen
    d=$(pv create xs-test-domu)
    pv run "$d" -- "$T" -t "read 1" >"$out" 2>&1
    check "test-xenstore in a domU: its home is read-only to it" \
        "$(grep -c 'ret = 13, stage pre-init' "$out")" 1
fi
finish
