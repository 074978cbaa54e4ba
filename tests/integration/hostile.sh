#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hostile.sh - a hostile domain attacks the wire protocol with raw syscalls
# while another domain keeps making hypercalls: the attacker gets errors or
# closed connections, the bystander notices nothing, the daemon lives.
. "$(dirname "$0")/lib.sh"

HOSTILE="$BUILD/tests/hostile"
pv create bystander >/dev/null
pv create mallory >/dev/null

"$PROCVISOR" run bystander -- sh -c '
    n=0
    while [ $n -lt 200 ]; do
        "$0" version | grep -q "^version=4.17$" || { echo "bystander failed at $n"; exit 1; }
        n=$((n + 1))
    done
    echo "bystander made 200 calls"' "$PROBE" >"$PROCVISOR_DIR/by.out" 2>&1 &
pb=$!
pv run mallory -- "$HOSTILE" >"$PROCVISOR_DIR/mal.out" 2>&1
check "hostile domain's run" $? 0
cat "$PROCVISOR_DIR/mal.out"
check "every attack answered as expected" "$(tail -n 1 "$PROCVISOR_DIR/mal.out")" survived
wait $pb
check "bystander unaffected" "$(cat "$PROCVISOR_DIR/by.out")" "bystander made 200 calls"

# a raw control-socket client that sends garbage does not stop dom0's work
python3 - "$PROCVISOR_DIR/ctl.sock" <<'PY' || bad "raw control client"
import socket, sys
for payload in [b"", b"\x00" * 3, b"\xff" * 16, b"pv" * 40000]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    try:
        s.send(payload)
        s.settimeout(2)
        s.recv(100)
    except OSError:
        pass
    s.close()
PY
check "daemon still lists domains" "$(pv list | awk '$2 == 0 {print $1}')" Domain-0
pv create after >/dev/null
pv run after -- "$PROBE" version >"$PROCVISOR_DIR/after.out"
check "a new domain works afterwards" "$(kv "$PROCVISOR_DIR/after.out" version)" 4.17
finish
