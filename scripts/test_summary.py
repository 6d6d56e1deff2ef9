#!/usr/bin/env python3
"""test_summary.py JUNIT.xml: the summary scripts/test.sh prints after ctest.

Counts passed, failed and skipped tests from ctest's JUnit report (ctest
--output-junit). A test that cannot run where it is (a toolchain or a tool
missing) exits 77, which ctest reports as skipped (SKIP_RETURN_CODE in
tests/CMakeLists.txt); its reason is the last line it printed. A test that
runs but leaves out one of its checks prints "skip NAME: REASON" (cmocka:
"[  SKIPPED ] NAME"); those are listed too, under the test that printed
them, so that nothing skipped passes for done. Exit status 0 unless the
report cannot be read.
"""
import re
import sys
import xml.etree.ElementTree as ET

PART = re.compile(r"^(skip \S.*|\[  SKIPPED \] .*)$", re.M)


def main():
    if len(sys.argv) != 2:
        print("usage: test_summary.py JUNIT.xml", file=sys.stderr)
        return 2
    try:
        cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        print("test summary: cannot read %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 2
    passed, failed, skipped, partial = [], [], [], []
    for c in cases:
        name, status = c.get("name"), c.get("status")
        out = c.findtext("system-out") or ""
        if status == "fail":
            failed.append(name)
        elif status in ("notrun", "disabled") or c.find("skipped") is not None:
            lines = [line for line in out.splitlines() if line.strip()]
            skipped.append((name, lines[-1] if lines else "(no reason printed)"))
        else:
            passed.append(name)
        partial += [(name, m) for m in PART.findall(out)]
    print("\ntest summary: %d passed, %d failed, %d skipped (of %d)" %
          (len(passed), len(failed), len(skipped), len(passed) + len(failed) + len(skipped)))
    for name in failed:
        print("  FAILED  %s" % name)
    for name, why in skipped:
        print("  SKIPPED %s: %s" % (name, why))
    if partial:
        print("checks skipped inside tests that ran (%d):" % len(partial))
        for name, line in partial:
            print("  %s: %s" % (name, line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
