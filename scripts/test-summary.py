#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Add up meson's test logs (build dirs given as arguments) into one line,
'N passed, N failed, N skipped', counting test cases: a cmocka program's
tests, an integration script's checks, a fuzz run as one.  Exit 1 if
anything failed or nothing ran."""
import json
import os
import re
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
            out = (r.get("stdout") or "") + (r.get("stderr") or "")
            ok = res in ("OK", "EXPECTEDFAIL")
            run = re.search(r"\[=+\] (\d+) test\(s\) run", out)
            good = re.search(r"\[  PASSED  \] (\d+) test\(s\)", out)
            checks = re.search(r"^(\d+) checks, (\d+) failed$", out, re.M)
            if run:
                n, p = int(run.group(1)), int(good.group(1)) if good else 0
                passed += p
                failed += n - p
            elif checks:
                n, m = int(checks.group(1)), int(checks.group(2))
                passed += n - m
                failed += m
            else:
                n, m = (1, 0) if ok else (0, 1)
                passed += n
                failed += m
                if res == "SKIP":
                    passed -= 1
                    skipped += 1
            if not ok and res != "SKIP":
                # a script or program that failed outside its own counts
                if (run and good and int(good.group(1)) == int(run.group(1))) or \
                        (checks and int(checks.group(2)) == 0):
                    failed += 1
                print(f"failed: {r.get('name')} ({res})", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
