# SPDX-License-Identifier: MIT
# lib.sh - shared by the integration tests: a private hypervisor instance
# in a temporary runtime directory, and small assertions.
set -u

: "${PROCVISOR:?set PROCVISOR to the procvisor binary}"
: "${BUILD:?set BUILD to the build directory}"
PROBE="$BUILD/tests/xencall_probe"
API_PROBE="$BUILD/tests/api_probe"

# As root, domU processes run as uid 0x70000000+domid (docs/security.md):
# they must be able to reach the build tree.  A tree under a private
# directory (say /root) is not reachable; then the domains run as root and
# the checks of the uid separation itself are skipped, saying so.
DOMAIN_UIDS=0
if [ "$(id -u)" = 0 ]; then
    if setpriv --reuid=1879048193 --regid=1879048193 --clear-groups \
        test -x "$PROBE" 2>/dev/null; then
        DOMAIN_UIDS=1
    else
        echo "note: $BUILD is not reachable by other uids: domains run as root"
        export PROCVISOR_DOMAIN_UIDS=0
    fi
fi

export PROCVISOR_DIR
PROCVISOR_DIR=$(mktemp -d /tmp/procvisor-test.XXXXXX)
# domain processes may run as other uids: let them traverse to nothing here
chmod 0700 "$PROCVISOR_DIR"

failures=0
checks=0

pv() { "$PROCVISOR" "$@"; }

# our own daemon, in the foreground of a background job, so its exit
# status (and, sanitized, its leak check) is seen
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1" \
    "$PROCVISOR" daemon 2>"$PROCVISOR_DIR/daemon.err" &
daemon_pid=$!
for _ in $(seq 1 200); do
    [ -S "$PROCVISOR_DIR/ctl.sock" ] && break
    sleep 0.02
done

cleanup() {
    pv down >/dev/null 2>&1 || true
    if ! wait "$daemon_pid"; then
        failures=$((failures + 1))
        echo "FAIL: the daemon exited with an error"
        cat "$PROCVISOR_DIR/daemon.err"
    fi
    if [ "$failures" -ne 0 ] && [ -f "$PROCVISOR_DIR/procvisord.log" ]; then
        echo "--- hypervisor log"; tail -n 40 "$PROCVISOR_DIR/procvisord.log"
    fi
    rm -rf "$PROCVISOR_DIR"
    [ "$failures" -eq 0 ]
}
trap 'cleanup || exit 1' EXIT

ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }

# check DESCRIPTION ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1: got '$2', want '$3'"; fi
}

# kv FILE KEY: the value of KEY=... in FILE
kv() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# field DOMAIN FIELD: a field of `procvisor info`
field() { pv info "$1" | sed -n "s/^$2: *//p"; }

# state of a domain id from `list --json`, dead ones included
state_of() {
    pv list --json | tr '{' '\n' | grep "\"domid\":$1," |
        sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'
}
reason_of() {
    pv list --json | tr '{' '\n' | grep "\"domid\":$1," |
        sed -n 's/.*"reason":"\([a-z_-]*\)".*/\1/p'
}

# wait_for 'SHELL CONDITION': poll up to 5 s for it to hold
wait_for() {
    for _ in $(seq 1 100); do
        if eval "$1"; then return 0; fi
        sleep 0.05
    done
    return 1
}

# procs_of NAME: processes (connections) of a live domain
procs_of() { pv list | awk -v n="$1" '$1 == n {print $7}'; }

finish() {
    echo "$checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
