#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gnt_hostile.sh - hostile domains attack grants with raw syscalls and raw
# protocol messages (gnt_hostile.c): bad grants, a granter rewriting its
# entry under a mapper, maptrack and gntalloc exhaustion, a closed gntdev
# descriptor, read-only and foreign memory reached through descriptors,
# and malformed grant messages.  The daemon keeps serving throughout.
. "$(dirname "$0")/lib.sh"

GH="$BUILD/tests/gnt_hostile"
# a server that died must not take the script with it
trap '' PIPE

# serve ROLE DOMAIN FD: a gnt_hostile server in DOMAIN, fed on fd FD and
# read on fd FD+1
serve() {
    local role=$1 dom=$2 fd=$3
    mkfifo "$PROCVISOR_DIR/$role.in" "$PROCVISOR_DIR/$role.out"
    timeout -k 5 50 "$PROCVISOR" run "$dom" -- "$GH" serve \
        <"$PROCVISOR_DIR/$role.in" >"$PROCVISOR_DIR/$role.out" \
        2>"$PROCVISOR_DIR/$role.err" &
    eval "pid_$role=\$!; fd_$role=$fd"
    eval "exec $fd>\"\$PROCVISOR_DIR/$role.in\""
    eval "exec $((fd + 1))<\"\$PROCVISOR_DIR/$role.out\""
}

# ask ROLE CMD...: send a command; its answer goes to $PROCVISOR_DIR/ROLE.ans
# (a server that hangs is killed by its timeout: then every answer is empty)
ask() {
    local role=$1 fd line
    shift
    eval "fd=\$fd_$role"
    : >"$PROCVISOR_DIR/$role.ans"
    echo "$*" >&"$fd" || return
    while read -t 20 -r -u $((fd + 1)) line; do
        [ "$line" = end ] && return
        echo "$line" >>"$PROCVISOR_DIR/$role.ans"
    done
    echo "no answer from $role to: $*"
}

# ans ROLE KEY: a value of ROLE's last answer
ans() { kv "$PROCVISOR_DIR/$1.ans" "$2"; }

# pins REF: a grant of gh-a as `procvisor gnttab` shows it
pins() {
    pv gnttab gh-a | awk -v r="$1" '$1 == r {print $3, $5, $6, $7, $8}'
}

a=$(pv create gh-a)
b=$(pv create gh-b)
c=$(pv create gh-c)
mt=$(pv create gh-mt --max-maptrack 1)
pv create gh-lim >/dev/null
serve a gh-a 10
serve b gh-b 12
serve c gh-c 14
serve mt gh-mt 16
serve lim gh-lim 18

GE=-1 # GNTST_general_error
EINVAL=-22

# --- 1. bad grants: by hypercall (status) and by raw GNTDEV_MAP (-EINVAL
# with the failing slot's status)
ask a alloc s1 "$b" rw 1
check "gntalloc a page for B" "$(ans a alloc)" 0
good=$(ans a ref)
ask a table
beyond=$(ans a entries)
check "the table has one frame so far" "$beyond" 512
never=400
other=401
revoked=402
ask a entry $never
check "entry $never was never written" "$(ans a flags) $(ans a domid)" "0 0"
ask a forge s1 $other "$c"
ask a forge s1 $revoked "$b"
ask a forge s1 "$beyond" "$b"
check "a valid-looking entry past the table" "$(ans a forged)" "$beyond"

ask b hc "$a" "$good"
check "the gntalloc grant maps (hypercall)" "$(ans b hc) $(ans b hc_unmap)" "0 0"
ask b raw "$a" "$good"
check "the gntalloc grant maps (raw)" \
    "$(ans b raw_ret) $(ans b raw) $(ans b raw_fd) $(ans b raw_unmap)" "0 0 1 0"
ask b hc "$a" $revoked
check "a forged grant of that frame maps (hypercall)" "$(ans b hc)" 0
ask b raw "$a" $revoked
check "a forged grant of that frame maps (raw)" "$(ans b raw_ret)" 0
ask a revoke $revoked
check "the granter revokes it (flags=0)" "$(ans a revoke)" 0

# bad_grant WHAT REF DOM STATUS: a bad grant, both ways
bad_grant() {
    local what=$1 ref=$2 dom=$3 st=$4
    ask b hc "$dom" "$ref"
    check "$what: hypercall" "$(ans b hc)" "$st"
    ask b raw "$dom" "$ref"
    check "$what: raw map" "$(ans b raw_ret) $(ans b raw)" "$EINVAL $st"
}
bad_grant "a ref never granted" $never "$a" $GE
bad_grant "a ref granted to another domain" $other "$a" $GE
bad_grant "a revoked ref" $revoked "$a" $GE
bad_grant "a ref just past the table (GNTST_bad_gntref)" "$beyond" "$a" -3
bad_grant "ref 0xffffffff (GNTST_bad_gntref)" 4294967295 "$a" -3
bad_grant "an unknown domain (GNTST_bad_domain)" "$good" 30000 -2
ask b raw $((65536 + a)) "$good"
check "raw: a u32 domid that truncates to the granter" \
    "$(ans b raw_ret) $(ans b raw)" "$EINVAL -2"
ask b cross "$a" "$good"
check "a raw handle is not the hypercall's to unmap" \
    "$(ans b cross_raw) $(ans b cross_hc_unmap_raw) $(ans b cross_raw_unmap)" \
    "0 -4 0"
check "a hypercall handle is not a raw message's" \
    "$(ans b cross_hc) $(ans b cross_raw_unmap_hc) $(ans b cross_hc_unmap)" \
    "0 -2 0"
check "unmap of a bogus handle: GNTST_bad_handle" \
    "$(ans b cross_hc_unmap_bogus)" -4
ask a entry "$good"
check "the refused maps left no pin" "$(ans a busy)" 0

# --- 2. the granter flips its entry while the grantee maps and unmaps
ask a alloc s2 "$b" rw 1
flipref=$(ans a ref)
ask a flip "$flipref" "$c"
check "a granter thread flips the entry" "$(ans a flipping)" 1
ask b churn "$a" "$flipref" 10000
check "10,000 maps under a flipping granter" "$(ans b churn_total)" 10000
check "each okay or general_error" "$(ans b churn_other)" 0
check "every successful map unmaps" "$(ans b churn_unmap_bad)" 0
echo "note: okay: $(ans b churn_okay_hc_rw) hypercall rw," \
    "$(ans b churn_okay_hc_ro) hypercall ro, $(ans b churn_okay_raw_rw) raw rw," \
    "$(ans b churn_okay_raw_ro) raw ro; $(ans b churn_error) general_error"
ask a unflip
check "the flipper flipped" "$(ans a flipped)" 1
ask a entry "$flipref"
check "GTF_reading/GTF_writing clear once unmapped" "$(ans a busy)" 0
check "pins after the storm" "$(pins "$flipref")" "access 0 0 - 0"
ask b hc "$a" "$flipref"
check "the restored entry maps again" "$(ans b hc) $(ans b hc_unmap)" "0 0"
ask a entry "$flipref"
check "and is clear again" "$(ans a busy)" 0

# --- 3. maptrack exhaustion: --max-maptrack 1 is 256 handles
ask a alloc s3 "$mt" rw 2
ask mt maptrack "$a" "$(ans a ref)" "$(ans a ref_1)"
check "one grant holds 128 read-only + 128 writable maps" \
    "$(ans mt one_page_okay)" 256
echo "note: $(ans mt ro_okay) read-only and $(ans mt rw_okay) writable maps okay"
check "the 129th read-only pin" "$(ans mt ro_pin_129)" $GE
check "the 129th writable pin" "$(ans mt rw_pin_129)" $GE
check "handles in use" "$(ans mt handles)" 256
check "the 257th map: GNTST_no_space" "$(ans mt map_257)" -13
check "unmapping one" "$(ans mt unmap_one)" 0
check "frees a handle" "$(ans mt map_again)" 0
check "and only one" "$(ans mt map_again_full)" -13
check "every handle unmaps" "$(ans mt unmap_all_bad)" 0

# --- 4. the gntalloc limit (1024 pages a domain)
ask lim limit 0
check "ALLOC_GREF of 0xffffffff pages: ENOSPC" "$(ans lim huge)" -28
check "raw GNTALLOC of 0xffffffff pages: -ENOSPC" "$(ans lim huge_raw)" -28
check "raw GNTALLOC of 1025 pages: -ENOSPC" "$(ans lim over_raw)" -28
check "the daemon still answers" "$(ans lim alive)" $(((4 << 16) | 17))
check "1024 pages" "$(ans lim full) $(ans lim full_mmap)" "0 0"
check "one more: ENOSPC" "$(ans lim one_more)" -28
check "one more (raw): -ENOSPC" "$(ans lim one_more_raw)" -28
check "DEALLOC_GREF" "$(ans lim dealloc)" 0
check "while still mapped, the pages count" "$(ans lim while_mapped)" -28
check "munmap" "$(ans lim munmap)" 0
check "then the limit is available again" "$(ans lim again)" 0
check "the daemon answers after it" "$(ans lim alive_after)" $(((4 << 16) | 17))

# --- 5. a gntdev descriptor closed under a live mapping
ask a alloc s5 "$b" rw 1
ref5=$(ans a ref)
ask b hold "$a" "$ref5"
check "gntdev map, mmap, close" \
    "$(ans b hold_ioctl) $(ans b hold_mmap) $(ans b hold_close)" "0 0 0"
check "the page reads after close()" "$(ans b at0)" s5-page-0
check "and is written" "$(ans b wrote)" 1
ask a peek s5
check "the granter sees the write" "$(ans a at256)" from-b
check "the grant is pinned while mapped" "$(pins "$ref5")" \
    "access,reading,writing 0 1 d$b 1"

# --- 6. a read-only grant arrives as a read-only descriptor
ask a alloc s6 "$b" ro 1
ask b ro-attack "$a" "$(ans a ref)"
check "raw read-only map" "$(ans b ro_ret) $(ans b ro)" "0 0"
check "one page, sealed" "$(ans b ro_size) $(ans b ro_sealed)" "4096 1"
check "mmap PROT_WRITE MAP_SHARED: EPERM" "$(ans b mmap_rw)" -1
check "mmap PROT_READ" "$(ans b mmap_ro) $(ans b ro_content)" "0 1"
check "mmap MAP_PRIVATE writable (a private copy)" "$(ans b mmap_private)" 0
check "mprotect(PROT_WRITE): EACCES" "$(ans b mprotect_rw)" -13
check "reopen through /proc/self/fd O_RDWR" "$(ans b reopen)" 0
check "then mmap writable: EPERM" "$(ans b reopen_mmap_rw)" -1
check "then pwrite: EPERM" "$(ans b reopen_pwrite)" -1
check "write: EPERM" "$(ans b write)" -1
check "pwrite: EPERM" "$(ans b pwrite)" -1
check "ftruncate to 0: EPERM" "$(ans b ftruncate_shrink)" -1
check "ftruncate larger: EPERM" "$(ans b ftruncate_grow)" -1
check "fallocate PUNCH_HOLE|KEEP_SIZE: EPERM" "$(ans b punch)" -1
check "F_ADD_SEALS: EPERM (sealed seals)" "$(ans b add_seal)" -1
check "the page is intact" "$(ans b ro_intact)" 1
check "raw unmap" "$(ans b ro_unmap)" 0
check "a read-write map of a read-only grant" "$(ans b rw_ret) $(ans b rw)" \
    "$EINVAL $GE"
ask a peek s6
check "the granter's page is untouched" "$(ans a at0)" s6-page-0
check "nothing written at 256" "$(ans a at256)" ""

# --- 7. no descriptor covers pages granted to someone else
ask a alloc s7 "$b" rw 2
ref7=$(ans a ref)
ask c raw "$a" "$ref7"
check "C maps A's grant to B: refused" "$(ans c raw_ret) $(ans c raw)" \
    "$EINVAL $GE"
ask a setdom "$ref7" "$c"
ask a entry "$ref7"
check "the granter rewrites the grantee to C" "$(ans a domid)" "$c"
ask c raw "$a" "$ref7"
check "C is still refused: the memory is B's" \
    "$(ans c raw_ret) $(ans c raw)" "$EINVAL $GE"
ask a entry "$ref7"
check "the refused map left no pin" "$(ans a busy)" 0
ask a setdom "$ref7" "$b"
ask b rw-fd "$a" "$ref7"
check "B maps its read-write grant" "$(ans b rwfd_ret)" 0
check "the descriptor is the allocation's two pages" "$(ans b rwfd_size)" 8192
check "sealed against shrinking and growing" "$(ans b rwfd_seals)" 1
check "ftruncate to 0: EPERM" "$(ans b rwfd_ftruncate_shrink)" -1
check "ftruncate larger: EPERM" "$(ans b rwfd_ftruncate_grow)" -1
check "fallocate past the end: EPERM" "$(ans b rwfd_fallocate_grow)" -1
check "raw unmap" "$(ans b rwfd_unmap)" 0

# --- 8. malformed grant messages close only their own connection
ask c malformed "$a" "$ref7"
for m in map_count0 map_count65 map_count65_in_64 map_len_mismatch \
    copy_len4097 unmap_count; do
    check "$m: the connection closes" "$(ans c $m)" -104
    check "$m: the next call on it fails" "$(ans c ${m}_next)" -32
done
v=$(((4 << 16) | 17))
check "xen_version on the domain's other connections" \
    "$(ans c version_handle) $(ans c version_raw)" "$v $v"
check "xen_version on a new connection" "$(ans c version_new)" "$v"
ask b read
check "B's mapping made before still reads" "$(ans b at256)" from-b
ask b write after-attack
ask a peek s5
check "and writes through to the granter" "$(ans a at256)" after-attack

# --- 5 (end). munmap after close(): the pins go
ask b release
check "munmap of the held page" "$(ans b release)" 0
check "the grant is unpinned" "$(pins "$ref5")" "access 0 0 - 0"
check "no grant of A is pinned" \
    "$(pv gnttab gh-a | awk 'NR > 1 && ($5 != 0 || $6 != 0)' | wc -l)" 0

# --- 9. the servers end; the hypervisor still serves
fd=0
pid=0
for role in a b c mt lim; do
    eval "fd=\$fd_$role; pid=\$pid_$role"
    echo quit >&"$fd"
    eval "exec $fd>&- $((fd + 1))<&-"
    wait "$pid"
    check "server $role exits cleanly" $? 0
    if [ -s "$PROCVISOR_DIR/$role.err" ]; then
        echo "--- $role's stderr"
        cat "$PROCVISOR_DIR/$role.err"
    fi
done
check "procvisor list works" "$(pv list | awk '$2 == 0 {print $1}')" Domain-0
finish
