#!/usr/bin/env python3
"""heap_e2e.py SONDE FIXTURE: `sonde heap -p PID` on a process with a known heap.

Starts the heap fixture (tests/fixtures/heap: 100,000 48-byte objects with
pointers, 50,000 100-byte byte slices, 2,000 1,000-byte pointer slices, 20
100,000-byte slices, all reachable, then runtime.GC() twice and
runtime.ReadMemStats) and checks:
- `sonde heap -p PID --json` exits 0 with one JSON document;
- its totals agree with the fixture's own runtime.ReadMemStats: objects with
  HeapObjects and bytes with HeapAlloc, within 2%;
- the runtime's own counters (memstats.heapStats, read in the same stop)
  agree exactly with sonde's objects, bytes and span bytes;
- the heap arenas (mheap_.allArenas) are 64 MiB each and mapped in the
  process;
- gc_cycles equals the fixture's NumGC; resident bytes are within the
  spans' bytes, overall and per class;
- every span is swept (unswept_spans 0: the fixture ran the GC), none
  unreadable;
- the size classes hold what was allocated: at least 100,000 objects of 48
  bytes, 50,000 of 112 (100-byte slices round up), 2,000 of 1,024, and at
  least 20 large objects (class 0), each within 2% plus the runtime's own;
- Go 1.22+: the types the runtime records are named: 3,000 main.rec (608
  bytes with a pointer, class 640, allocation headers), 2,000 []*int64, 10
  large main.bigRec; before 1.22 the output says there are none;
- the text table exits 0 and shows the same total objects;
- the fixture is unharmed afterwards: alive, no thread stopped or traced.
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import check, results  # noqa: E402
import agree  # noqa: E402  (thread_states)


def near(have, want, rel=0.02):
    return want > 0 and abs(have - want) <= rel * want


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[0])
        return 2
    sonde, fixture = (os.path.abspath(a) for a in sys.argv[1:])
    if not os.path.exists(fixture):
        print("no Go fixture at %s (tests/e2e/build_fixtures.sh builds it)" % fixture)
        return 2
    fx = subprocess.Popen([fixture], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        # the two lines come at once, after the allocations and two GCs;
        # ctest's timeout bounds a fixture that never says them
        lines = [fx.stdout.readline().strip(), fx.stdout.readline().strip()]
        if not lines[1].startswith("READY "):
            print("setup: the fixture said %r" % lines)
            return 2
        stats = json.loads(lines[0])
        pid = str(stats["pid"])
        want = {k["name"]: k for k in stats["kinds"]}

        p = subprocess.run([sonde, "heap", "-p", pid, "--json"], capture_output=True, text=True, timeout=120)
        doc = {}
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            pass
        check("heap_json_exits_0_with_one_document", p.returncode == 0 and doc, "exit %d\n%s" % (p.returncode, p.stderr))
        objs, nbytes = doc.get("objects", -1), doc.get("bytes", -1)
        check("objects_agree_with_readmemstats_heapobjects", near(objs, stats["heap_objects"]),
              "sonde %r, HeapObjects %r" % (objs, stats["heap_objects"]))
        check("bytes_agree_with_readmemstats_heapalloc", near(nbytes, stats["heap_alloc"]),
              "sonde %r, HeapAlloc %r" % (nbytes, stats["heap_alloc"]))
        check("every_span_swept_and_readable", doc.get("unswept_spans") == 0 and doc.get("unreadable_spans") == 0,
              "unswept %r, unreadable %r" % (doc.get("unswept_spans"), doc.get("unreadable_spans")))
        # the runtime's own count of GC cycles (runtime.memstats.numgc); the
        # idle fixture runs no GC between ReadMemStats and sonde
        check("gc_cycles_agree_with_readmemstats_numgc", doc.get("gc_cycles") == stats["num_gc"],
              "sonde %r, NumGC %r" % (doc.get("gc_cycles"), stats["num_gc"]))
        res, sb = doc.get("resident_bytes", -1), doc.get("span_bytes", 0)
        check("resident_bytes_within_the_spans", 0 < res <= sb and
              all(0 <= c.get("resident_bytes", -1) <= c["span_bytes"] for c in doc.get("classes", [])),
              "resident %r of %r" % (res, sb))
        # the runtime's own counters (memstats.heapStats), read in the same
        # stop: they count the same heap, so they agree exactly
        rt = doc.get("runtime", {})
        check("runtime_accounting_agrees_exactly",
              rt.get("objects") == objs and rt.get("bytes") == nbytes and rt.get("heap_inuse") == doc.get("span_bytes")
              and rt.get("stacks_inuse", -1) >= 0, "sonde %r/%r/%r, runtime %r" % (objs, nbytes, doc.get("span_bytes"), rt))
        # heap arenas: 64 MiB each, every one mapped in the process
        maps = []
        with open("/proc/%s/maps" % pid) as f:
            for line in f:
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                maps.append((lo, hi))
        arenas = doc.get("arenas", [])

        def mapped(lo, hi):
            return all(any(a <= x < b for a, b in maps) for x in range(lo, hi, 1 << 20))
        check("arenas_are_mapped_64_mib_each", arenas and all(
            a.get("bytes") == 64 << 20 and mapped(a["base"], a["base"] + a["bytes"]) for a in arenas), repr(arenas))
        by_size = {c["object_size"]: c for c in doc.get("classes", [])}
        for name, size in (("node", 48), ("blob", 112), ("table", 1024)):
            n = want[name]["count"]
            got = by_size.get(size, {}).get("objects", 0)
            check("class_%d_holds_the_%d_%ss" % (size, n, name), n <= got <= n * 1.02 + 200,
                  "%d objects of %d bytes, want %d" % (got, size, n))
        large = by_size.get(0, {})
        n = want["big"]["count"]
        check("large_objects_one_per_span", n <= large.get("objects", 0) <= n + 50
              and large.get("objects") == large.get("spans"), repr(large))

        minor = int(doc.get("go_version", "go1.0").split(".")[1])
        if minor >= 22:
            rows = {}
            for t in doc.get("types", []):
                rows.setdefault(t["type"], []).append(t)
            for k in (k for k in want.values() if k.get("type")):
                got = rows.get(k["type"], [])
                n = sum(t["objects"] for t in got)
                check("type_%s_counted" % k["type"], k["count"] <= n <= k["count"] * 1.01 + 5 and
                      all(t["named"] for t in got), "%d objects, want %d: %r" % (n, k["count"], got))
            big = rows.get("main.bigRec", [{}])[0]
            check("large_type_in_class_0", big.get("class") == 0 and big.get("bytes") == 10 * 40960, repr(big))
            rec = rows.get("main.rec", [{}])[0]
            check("header_type_in_class_640", by_size.get(640, {}).get("objects", 0) >= 3000 and
                  rec.get("class") and rec.get("bytes") == 640 * rec.get("objects", 0) and not rec.get("array"),
                  repr(rec))
            check("no_bad_headers", doc.get("bad_headers") == 0, repr(doc.get("bad_headers")))
        else:
            check("no_types_before_go1.22", "types" not in doc, repr(doc.get("types"))[:200])

        p = subprocess.run([sonde, "heap", "-p", pid], capture_output=True, text=True, timeout=120)
        check("heap_text_exits_0_with_the_same_total", p.returncode == 0 and "CLASS" in p.stdout and
              (" in %d objects" % objs) in p.stdout.splitlines()[0], p.stdout[:300] + p.stderr)
        if minor >= 22:
            check("heap_text_lists_types", "main.rec" in p.stdout and "[]*int64" in p.stdout, p.stdout[-800:])
        else:
            check("heap_text_says_no_types", "records no types" in p.stdout, p.stdout[-400:])

        probs = [] if fx.poll() is None else ["the fixture exited: %r" % fx.poll()]
        if not probs:
            probs = agree.thread_states(int(pid))
        check("fixture_alive_not_stopped_not_traced", not probs, "; ".join(probs))
    finally:
        if fx.poll() is None:
            fx.kill()
        fx.wait()
    failed = [n for n, ok in results if not ok]
    print("%d of %d checks passed" % (len(results) - len(failed), len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
