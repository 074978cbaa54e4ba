#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Add up meson's test logs (build dirs given as arguments) into one line:
'N passed, N failed, N skipped'.  Exit 1 if anything failed or nothing ran."""
import json
import os
import sys

passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        print(f"no test log in {d}", file=sys.stderr)
        failed += 1
        continue
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            res = r.get("result")
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skipped += 1
            else:
                failed += 1
                print(f"failed: {r.get('name')} ({res})", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
