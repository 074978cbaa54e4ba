#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-fuzz.sh TARGET CORPUS: a time-boxed libFuzzer run ($FUZZ_SECONDS,
# default 20) starting from the checked-in corpus; new inputs go to a
# scratch directory, so the run leaves the tree unchanged.  Fails on a crash,
# a leak, a timeout, or a run that ends without libFuzzer's "Done" line.
set -u
target=$1
corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$target" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work" "$corpus" >"$work/log" 2>&1
rc=$?
grep -E '^(Done|stat::|INFO: seed)' "$work/log"
if [ $rc -ne 0 ] || ! grep -q '^Done [0-9]* runs' "$work/log"; then
    echo "fuzzing failed (exit $rc):"
    tail -n 60 "$work/log"
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
        [ -e "$a" ] && { echo "artifact $a:"; od -A d -t x1 "$a" | head -n 20; }
    done
    exit 1
fi
