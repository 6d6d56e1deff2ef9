#!/usr/bin/env python3
"""group.py SONDE FIXTURE: `sonde goroutines --group` merges exactly the
goroutines that share a stack and state, in text and in JSON.

Starts the agreement fixture with 500 extra goroutines parked in
main.parkedWorker, then checks: the group holding main.parkedWorker has 500
members; the groups' counts add up to the number of goroutines sonde lists
without --group; every goroutine id appears in exactly one group; and the
text output's first group line reads "N goroutines [reason]: ids...".
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

EXTRA = 500


def main():
    sonde, fixture = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="sonde-group-")
    out = open(os.path.join(tmp, "out"), "w+")
    proc = subprocess.Popen([fixture, "-dump", os.path.join(tmp, "dump"), "-n", str(EXTRA)],
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            out.seek(0)
            if "READY" in out.read():
                break
            time.sleep(0.1)
        else:
            print("group: the fixture never became ready")
            return 2
        pid = str(proc.pid)
        plain = json.loads(subprocess.run([sonde, "goroutines", "-p", pid, "--json"], check=True,
                                          capture_output=True, text=True).stdout)
        grouped = json.loads(subprocess.run([sonde, "goroutines", "-p", pid, "--json", "--group"], check=True,
                                            capture_output=True, text=True).stdout)
        text = subprocess.run([sonde, "goroutines", "-p", pid, "--group"], check=True,
                              capture_output=True, text=True).stdout
    finally:
        proc.kill()
        proc.wait()
        out.close()
        shutil.rmtree(tmp, ignore_errors=True)
    problems = []
    groups = grouped["groups"]
    workers = [g for g in groups if any(f["function"] == "main.parkedWorker" for f in g["frames"])]
    if len(workers) != 1 or workers[0]["count"] != EXTRA:
        problems.append("main.parkedWorker groups: %s, want one group of %d" %
                        ([g["count"] for g in workers], EXTRA))
    total = sum(g["count"] for g in groups)
    if total != len(plain["goroutines"]):
        problems.append("group counts add up to %d, sonde lists %d goroutines" % (total, len(plain["goroutines"])))
    ids = [i for g in groups for i in g["ids"]]
    if sorted(ids) != sorted(g["id"] for g in plain["goroutines"]) or len(set(ids)) != len(ids):
        problems.append("ids across groups are not exactly the goroutines' ids, once each")
    if any(g["count"] != len(g["ids"]) for g in groups):
        problems.append("a group's count differs from its number of ids")
    first = text.splitlines()[0] if text else ""
    if not first.startswith("%d goroutines [" % max(g["count"] for g in groups)):
        problems.append("text output starts with %r, want the largest group first" % first)
    for p in problems:
        print("group: FAIL:", p)
    if not problems:
        print("group: OK: %d goroutines in %d groups; %d parked workers in one group" % (total, len(groups), EXTRA))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
