#!/usr/bin/env python3
"""memwatch_e2e.py SONDE FIXTURE [PLUGIN_DIR]: `sonde memwatch` snapshots and diffs of a live process.

Starts the grow fixture (tests/fixtures/grow: allocates objects of known
types and sizes on command and keeps them reachable) and runs the memwatch
plugin from the build's plugin directory and index (PLUGIN_DIR/plugins.yaml;
by default the plugins directory beside SONDE's own, build/plugins for
build/host/sonde), with a sonde.ini of its own. Snapshot A is taken after
`gc`; snapshot B after allocating 20,000 point (24 bytes, no pointers),
20,000 node (48, with a pointer), 3,000 rec (608 with a pointer: class 640,
typed main.rec on Go 1.22+), 2,000 plain (700, no pointers: class 704), 20
big (main.bigRec, 40,000 bytes: large) and 10 bignoscan (100,000-byte
[]byte: large), then `gc`. Checks:
- both snapshots exit 0 with a JSON file of format "sonde-memwatch-snapshot"
  version 1 and a gzip pprof profile; every span swept and readable; types
  recorded (has_types) from Go 1.22 on, and no bad allocation header; the
  GC cycle is the fixture's NumGC;
- their totals agree with the fixture's own runtime.ReadMemStats at the same
  moment within 2%: objects with HeapObjects, bytes with HeapAlloc; and
  exactly with the runtime's counters sonde read in the same stop;
- the rows partition the heap: they add up to the totals, and each class's
  rows to the class;
- `diff --json A B` (format "sonde-memwatch-diff" version 1) describes the
  two files, its deltas are B minus A, its classes are every class of A or
  B and its types every named row that changed, largest |bytes_delta|
  first; and it sees what was allocated, objects within 1% and bytes within
  1% of objects times the slot (the span, for large objects): classes 24,
  48, 640, 704 and 0 (large: big and bignoscan together) on every Go; on
  1.22+ also types main.rec (+3000) and main.bigRec (+20), and no untyped
  growth of class 640;
- the text diff exits 0 with both files named, a "by type" (before Go
  1.22: a note that the runtime records no types) and a "by size class"
  section, and on 1.22+ "+3000" on main.rec's line; --top 3 and
  --all exit 0;
- `go tool pprof -top -sample_index=inuse_objects` reads B's profile and
  shows main.rec (1.22+) or the untyped "class N (640 B)" row (older) with
  3,000 objects, and with -diff_base A the same row with +3,000;
- bad files get exit 12 and a message on standard error naming the file:
  truncated, empty, another format, version 99, missing; as A or as B;
- `top -p PID` exits 0 naming the pid, `top -p PID --json --top 3` is JSON;
- `watch --gc --count 3` writes three snapshots, each swept, at strictly
  increasing GC cycles, while the fixture keeps answering and collecting;
  `watch --every 200ms --count 2` writes two (and their profiles); a name
  without %n is refused;
- [memwatch] in sonde.ini, in a session (on_attach, every, diff, output,
  pprof) writes numbered snapshots and profiles and prints each diff while
  the fixture runs; the first and last differ by the 1,000 recs allocated
  in between; on_hit takes one snapshot per breakpoint hit;
- the fixture is unharmed afterwards: it answers, alive, no thread stopped
  or traced.
The Go for pprof: $MEMWATCH_PPROF_GO if set, else the newest installed
toolchain whose pprof comes prebuilt (Go 1.25+ builds it on first use, for
minutes), else the newest, with the build cache build_fixtures.sh uses.
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import glob
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import StdinFixture, check, is_int, results, wait_stderr  # noqa: E402
import agree  # noqa: E402  (thread_states: stopped or traced threads)

COMMAND_TIMEOUT = 60  # the fixture answers within a second; a loaded machine may take longer

# What B adds to A: (kind, count, size class slot in bytes, bytes per object
# as the heap counts them). Large objects count their span: 40,000 bytes in
# 10 pages, 100,000 in 13.
ALLOCS = [("point", 20000, 24, 24), ("node", 20000, 48, 48), ("rec", 3000, 640, 640),
          ("plain", 2000, 704, 704), ("big", 20, 0, 40960), ("bignoscan", 10, 0, 106496)]
REC_TYPE, BIG_TYPE = "main.rec", "main.bigRec"


def near(have, want, rel=0.02):
    return is_int(have) and want > 0 and abs(have - want) <= rel * want


def about(have, want):
    """have is want within 1% (at least 1)."""
    return is_int(have) and abs(have - want) <= max(0.01 * abs(want), 1)


class Fixture(StdinFixture):
    """The grow fixture, driven through its standard input."""

    def __init__(self, path, tmp):
        super().__init__(path, tmp, COMMAND_TIMEOUT)

    def gc(self):
        """`gc`: the fixture's runtime.ReadMemStats after two GCs, or None."""
        ans = self.command("gc")
        try:
            d = json.loads(ans)
        except ValueError:
            d = None
        ok = isinstance(d, dict) and all(isinstance(d.get(k), int) for k in ("heap_objects", "heap_alloc", "num_gc"))
        return d if ok else None, ans


def pprof_go():
    """The go command whose `go tool pprof` the test runs (see the doc)."""
    if os.environ.get("MEMWATCH_PPROF_GO"):
        return os.environ["MEMWATCH_PPROF_GO"]

    def minor(go):
        m = re.search(r"/go-1\.(\d+)/bin/go$", go)
        return int(m.group(1)) if m else -1
    gos = sorted((g for g in glob.glob("/usr/lib/go-1.*/bin/go") if os.access(g, os.X_OK)), key=minor)
    prebuilt = [g for g in gos if os.path.exists(os.path.join(os.path.dirname(g), "..", "pkg", "tool",
                                                              "linux_amd64", "pprof"))]
    return (prebuilt or gos or [None])[-1]


PPROF_LINE = re.compile(r"^\s*(-?\d+)\s+\S+%\s+\S+%\s+(-?\d+)\s+\S+%\s+(.+?)\s*$")


def pprof_rows(text):
    """`pprof -top` lines: [(flat, cum, name)]."""
    rows = []
    for line in text.splitlines():
        m = PPROF_LINE.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return rows


def usable(doc):
    """What is wrong with doc's shape for the checks that add it up ("" if nothing)."""
    rows, classes = doc.get("rows"), doc.get("classes")
    if not all(is_int(doc.get(k)) for k in ("objects", "bytes")):
        return "objects %r, bytes %r" % (doc.get("objects"), doc.get("bytes"))
    if not isinstance(rows, list) or not rows or not isinstance(classes, list) or not classes:
        return "rows %r, classes %r" % (str(rows)[:200], str(classes)[:200])
    for c in classes:
        if not isinstance(c, dict) or not all(is_int(c.get(k)) for k in ("class", "object_size", "objects", "bytes")):
            return "class %r" % (c,)
    for r in rows:
        if not isinstance(r, dict) or not all(is_int(r.get(k)) for k in ("class", "objects", "bytes")) or \
                not isinstance(r.get("type"), (str, type(None))):
            return "row %r" % (r,)
    return ""


def check_snapshot(name, doc, ms, minor):
    """The checks of one snapshot file against the fixture's ReadMemStats;
    whether its rows and classes can be added up."""
    check("snapshot_%s_every_span_swept_and_readable" % name,
          doc.get("unswept_spans") == 0 and doc.get("unreadable_spans") == 0,
          "unswept %r, unreadable %r" % (doc.get("unswept_spans"), doc.get("unreadable_spans")))
    if minor >= 22:
        check("snapshot_%s_has_types_and_no_bad_headers" % name,
              doc.get("has_types") is True and doc.get("bad_headers") == 0,
              "has_types %r, bad_headers %r" % (doc.get("has_types"), doc.get("bad_headers")))
    else:
        check("snapshot_%s_has_no_types_before_go1.22" % name, doc.get("has_types") is False and
              all(r.get("type") is None for r in doc.get("rows", []) if isinstance(r, dict)),
              "has_types %r" % doc.get("has_types"))
    rt = doc.get("runtime") or {}
    check("snapshot_%s_agrees_exactly_with_the_runtimes_own_accounting" % name,
          rt.get("objects") == doc.get("objects") and rt.get("bytes") == doc.get("bytes") and
          rt.get("heap_inuse") == doc.get("span_bytes"),
          "snapshot %r/%r/%r, runtime %r" % (doc.get("objects"), doc.get("bytes"), doc.get("span_bytes"), rt))
    # a periodic GC (every 2 minutes) may come between the two
    gc = doc.get("gc_cycle")
    check("snapshot_%s_gc_cycle_is_the_fixtures_num_gc" % name,
          is_int(gc) and ms["num_gc"] <= gc <= ms["num_gc"] + 1,
          "gc_cycle %r, NumGC %r" % (gc, ms["num_gc"]))
    objs, nbytes = doc.get("objects"), doc.get("bytes")
    check("snapshot_%s_objects_agree_with_readmemstats_heapobjects" % name, near(objs, ms["heap_objects"]),
          "snapshot %r, HeapObjects %r" % (objs, ms["heap_objects"]))
    check("snapshot_%s_bytes_agree_with_readmemstats_heapalloc" % name, near(nbytes, ms["heap_alloc"]),
          "snapshot %r, HeapAlloc %r" % (nbytes, ms["heap_alloc"]))

    shape = usable(doc)
    probs = [shape] if shape else []
    if not shape:
        rows, classes = doc["rows"], doc["classes"]
        for what, total in (("objects", objs), ("bytes", nbytes)):
            n = sum(r[what] for r in rows)
            if n != total:
                probs.append("rows hold %d %s, the snapshot %r" % (n, what, total))
            n = sum(c[what] for c in classes)
            if n != total:
                probs.append("classes hold %d %s, the snapshot %r" % (n, what, total))
        by_class = {c["class"]: c for c in classes}
        if len(by_class) != len(classes):
            probs.append("a class listed twice: %r" % sorted(c["class"] for c in classes))
        for r in rows:
            if r["class"] not in by_class:
                probs.append("row %r is in no class of the snapshot" % r)
        for k, c in sorted(by_class.items()):
            mine = [r for r in rows if r["class"] == k]
            for what in ("objects", "bytes"):
                n = sum(r[what] for r in mine)
                if n != c[what]:
                    probs.append("class %d: its rows hold %d %s, the class %d" % (k, n, what, c[what]))
            if sum(1 for r in mine if r["type"] is None) > 1:
                probs.append("class %d has more than one untyped row" % k)
    check("snapshot_%s_rows_add_up_to_the_totals_and_to_each_class" % name, not probs, "; ".join(probs[:4]))
    return not shape


def check_diff(d, a, b, minor):
    """The checks of `diff A.json B.json --json`."""
    check("diff_format_and_version", (d.get("format"), d.get("version")) == ("sonde-memwatch-diff", 1),
          "format %r version %r" % (d.get("format"), d.get("version")))
    for side, snap, name in (("a", a, "A.json"), ("b", b, "B.json")):
        h = d.get(side) if isinstance(d.get(side), dict) else {}
        want = dict({k: snap.get(k) for k in ("pid", "gc_cycle", "objects", "bytes")}, file=name)
        have = {k: h.get(k) for k in want}
        check("diff_%s_describes_%s" % (side, name), have == want, "%r, want %r" % (have, want))
    deltas = (d.get("objects_delta"), d.get("bytes_delta"))
    want = (b["objects"] - a["objects"], b["bytes"] - a["bytes"])
    check("diff_totals_are_b_minus_a", deltas == want, "%r, want %r" % (deltas, want))

    # classes: every class of A or B, with A's and B's counts
    ca = {c["class"]: c for c in a["classes"]}
    cb = {c["class"]: c for c in b["classes"]}
    classes = [c for c in d.get("classes") or [] if isinstance(c, dict)]
    dc = {c.get("class"): c for c in classes}
    probs = []
    if sorted(dc, key=str) != sorted(set(ca) | set(cb), key=str) or len(dc) != len(classes):
        probs.append("classes %s, A and B have %s" % (sorted([c.get("class") for c in classes], key=str),
                                                      sorted(set(ca) | set(cb))))
    for k, c in dc.items():
        for what in ("objects", "bytes"):
            va, vb = ca.get(k, {}).get(what, 0), cb.get(k, {}).get(what, 0)
            have = (c.get(what + "_a"), c.get(what + "_b"), c.get(what + "_delta"))
            if have != (va, vb, vb - va):
                probs.append("class %r %s a, b, delta %r, the snapshots %r" % (k, what, have, (va, vb, vb - va)))
    check("diff_classes_are_every_class_of_a_or_b_with_their_counts", not probs, "; ".join(probs[:4]))

    # types: named rows summed by name over classes; every one that changed
    def by_type(snap):
        t = {}
        for r in snap["rows"]:
            if r.get("type") is not None:
                o, n = t.get(r["type"], (0, 0))
                t[r["type"]] = (o + r["objects"], n + r["bytes"])
        return t
    ta, tb = by_type(a), by_type(b)
    types = [t for t in d.get("types") or [] if isinstance(t, dict)]
    dt = {t.get("type"): t for t in types}
    probs = []
    for name in sorted(set(ta) | set(tb)):
        (oa, ba), (ob, bb) = ta.get(name, (0, 0)), tb.get(name, (0, 0))
        want = {"objects_a": oa, "objects_b": ob, "objects_delta": ob - oa,
                "bytes_a": ba, "bytes_b": bb, "bytes_delta": bb - ba}
        t = dt.get(name)
        if t is None:
            if (oa, ba) != (ob, bb):
                probs.append("%s changed (%r) and is not listed" % (name, want))
        elif {k: t.get(k) for k in want} != want:
            probs.append("%s: %r, the snapshots %r" % (name, {k: t.get(k) for k in want}, want))
    if len(dt) != len(types) or not set(dt) <= set(ta) | set(tb):
        probs.append("types listed twice or not in A or B: %r" % sorted(map(str, set(dt) - set(ta) - set(tb))))
    check("diff_types_are_named_rows_summed_by_name", not probs, "; ".join(probs[:4]))
    mags = [abs(t.get("bytes_delta", 0)) for t in types]
    check("diff_types_largest_abs_bytes_delta_first", mags == sorted(mags, reverse=True), repr(mags[:20]))

    # what the fixture allocated, by size class and, on 1.22+, by type
    def by_size(size):
        return next((c for c in classes if c.get("object_size") == size and c.get("class") != 0), {})
    for kind, n, size, each in ALLOCS:
        if size == 0:
            continue
        c = by_size(size)
        check("diff_%s_class_%d_grows_by_%d_objects" % (kind, size, n),
              about(c.get("objects_delta"), n) and about(c.get("bytes_delta"), n * each),
              "objects_delta %r, bytes_delta %r; want %d, %d" % (c.get("objects_delta"), c.get("bytes_delta"),
                                                                 n, n * each))
    large = [x for x in ALLOCS if x[2] == 0]
    n, nbytes = sum(x[1] for x in large), sum(x[1] * x[3] for x in large)
    c = dc.get(0, {})
    check("diff_large_class_0_grows_by_%d_big_and_bignoscan" % n,
          about(c.get("objects_delta"), n) and about(c.get("bytes_delta"), nbytes),
          "objects_delta %r, bytes_delta %r; want %d, %d" % (c.get("objects_delta"), c.get("bytes_delta"), n, nbytes))
    if minor >= 22:
        for name, kind in ((REC_TYPE, "rec"), (BIG_TYPE, "big")):
            n, each = next((x[1], x[3]) for x in ALLOCS if x[0] == kind)
            t = dt.get(name, {})
            check("diff_type_%s_grows_by_%d_objects" % (name, n),
                  about(t.get("objects_delta"), n) and about(t.get("bytes_delta"), n * each),
                  "%r; want objects_delta %d, bytes_delta %d" % (t or None, n, n * each))
        c = by_size(640)
        u = c.get("untyped_objects_delta")
        check("diff_class_640_untyped_objects_do_not_grow",
              is_int(u) and abs(u) <= max(0.01 * 3000, 1), "untyped_objects_delta %r" % u)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.split("\n\n")[0])
        return 2
    # absolute: sonde runs in the temporary directory
    sonde, fixture = (os.path.abspath(x) for x in sys.argv[1:3])
    plugin_dir = os.path.abspath(sys.argv[3] if len(sys.argv) == 4 else
                                 os.path.join(os.path.dirname(sonde), "..", "plugins"))
    if not os.path.exists(fixture):
        print("no Go fixture at %s (tests/e2e/build_fixtures.sh builds it)" % fixture)
        return 2
    index = os.path.join(plugin_dir, "plugins.yaml")
    if not os.path.exists(index):
        print("no plugin index at %s (build sonde and its plugins first)" % index)
        return 2
    tmp = tempfile.mkdtemp(prefix="sonde-memwatch-")
    ini = os.path.join(tmp, "empty.ini")
    with open(ini, "w") as f:
        f.write("# no settings: defaults only\n")
    # The build's index and plugin directory, and a sonde.ini of our own, so
    # nothing else on the machine changes what the test sees.
    host = ["--config", ini, "--index", index, "--plugin-dir", plugin_dir]
    env = {k: v for k, v in os.environ.items() if k not in ("SONDE_CONFIG", "NO_COLOR")}

    def run(args):
        # cwd tmp: the diff names its files as on the command line, A.json
        p = subprocess.run([sonde, "memwatch"] + args + host, capture_output=True, text=True, env=env, cwd=tmp,
                           timeout=120, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def load(name):
        try:
            with open(os.path.join(tmp, name), encoding="utf-8") as f:
                return json.load(f), ""
        except (OSError, ValueError) as e:
            return None, str(e)

    fx = None
    failed = []
    try:
        try:
            fx = Fixture(fixture, tmp)
        except (OSError, ValueError, RuntimeError) as e:
            print("setup: %s" % e)
            return 2
        spid = str(fx.pid)

        def snapshot(name):
            """Snapshot NAME.json and NAME.pb.gz: the document, or None."""
            rc, out, err = run(["snapshot", "-p", spid, "-o", name + ".json", "--pprof", name + ".pb.gz"])
            doc, why = load(name + ".json") if rc == 0 else (None, "")
            ok = isinstance(doc, dict) and (doc.get("format"), doc.get("version")) == ("sonde-memwatch-snapshot", 1)
            check("snapshot_%s_exits_0_with_format_sonde_memwatch_snapshot_1" % name, ok,
                  "exit %d %s\n%s%s" % (rc, why, (err or out)[-1500:],
                                        "" if not isinstance(doc, dict) else
                                        "format %r version %r" % (doc.get("format"), doc.get("version"))))
            try:
                with open(os.path.join(tmp, name + ".pb.gz"), "rb") as f:
                    gzip.decompress(f.read())
                why = ""
            except (OSError, EOFError, gzip.BadGzipFile) as e:
                why = str(e)
            check("snapshot_%s_writes_a_gzip_pprof_profile" % name, rc == 0 and not why, why)
            return doc if ok else None

        # 1. A: the fixture as it starts
        ms_a, ans = fx.gc()
        if not check("fixture_answers_gc_with_its_memstats", ms_a is not None, ans):
            return 1
        a = snapshot("A")
        if a is None:
            print("(no snapshot A: the other checks are not run)")
            return 1

        # 2. B: what ALLOCS lists more (the fixture answered after A, so the
        # snapshot left it running)
        answers = [(kind, fx.command("alloc %s %d" % (kind, n))) for kind, n, _, _ in ALLOCS]
        check("fixture_runs_after_snapshot_and_allocates", all(x == "OK" for _, x in answers), repr(answers))
        ms_b, ans = fx.gc()
        if not check("fixture_answers_gc_after_allocating", ms_b is not None, ans):
            return 1
        b = snapshot("B")
        if b is None:
            print("(no snapshot B: the other checks are not run)")
            return 1

        try:
            minor = int(b.get("go_version", "").split(".")[1])
        except (IndexError, ValueError):
            minor = 0
        check("snapshot_B_names_its_go_version", minor >= 19, repr(b.get("go_version")))
        shapes = [check_snapshot(name, doc, ms, minor) for name, doc, ms in (("A", a, ms_a), ("B", b, ms_b))]
        if not all(shapes):
            print("(the snapshots have no rows and classes to compare: the other checks are not run)")
            return 1

        # 3. diff --json A B
        rc, out, err = run(["diff", "A.json", "B.json", "--json"])
        d = None
        try:
            d = json.loads(out) if rc == 0 else None
        except ValueError as e:
            err += "\ninvalid JSON: %s" % e
        if check("diff_json_exits_0_with_one_json_document", isinstance(d, dict), "exit %d\n%s" % (rc, err[-2000:])):
            check_diff(d, a, b, minor)

        # 4. the text diff
        rc, out, err = run(["diff", "A.json", "B.json"])
        low = out.lower()
        # before Go 1.22 there are no types: no "by type" section, a note saying why
        sections = (0 <= low.find("by type") < low.find("by size class") if minor >= 22 else
                    "by type" not in low and "records no types" in low and "by size class" in low)
        check("diff_text_exits_0_naming_both_files_by_type_then_by_size_class",
              rc == 0 and "A.json" in out and "B.json" in out and sections,
              "exit %d\n%s%s" % (rc, out[:1500], err[-500:]))
        if minor >= 22:
            lines = [x for x in out.splitlines() if re.search(r"(?<![\w.])main\.rec(?![\w.])", x)]
            check("diff_text_shows_+3000_on_the_main.rec_line",
                  any(re.search(r"(?<![\d,.])\+3000(?![\d,.])", x) for x in lines),
                  "main.rec lines %r in\n%s" % (lines, out[:1500]))
        for opts in (["--top", "3"], ["--all"]):
            rc, out, err = run(["diff", "A.json", "B.json"] + opts)
            check("diff_text_%s_exits_0" % "_".join(o.strip("-") for o in opts), rc == 0 and out,
                  "exit %d\n%s" % (rc, err[-500:]))

        # 5. the pprof profiles, read by Go's own pprof
        go = pprof_go()
        if go is None:
            print("skip pprof: no Go toolchain under /usr/lib/go-1.*")
        else:
            home = os.path.join(tmp, "home")
            os.makedirs(home, exist_ok=True)
            # pprof of Go 1.25+ is built on first use: share build_fixtures.sh's cache
            cache = os.path.join(os.path.dirname(fixture), ".cache", "go-build")
            genv = dict(env, HOME=home, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off", GOENV="off",
                        GOCACHE=cache if os.path.isdir(cache) else os.path.join(home, "go-build"),
                        XDG_CONFIG_HOME=os.path.join(home, "config"))

            def pprof(args):
                p = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=inuse_objects", "-nodefraction=0"] +
                                   args, capture_output=True, text=True, env=genv, cwd=tmp, timeout=240,
                                   stdin=subprocess.DEVNULL)
                return p.returncode, p.stdout, p.stderr

            if minor >= 22:
                label, is_row = REC_TYPE, lambda s: re.search(r"(?<![\w.])main\.rec(?![\w.])", s)
            else:  # the untyped row of class 640, "class 27 (640 B)" (the number varies with Go)
                label, is_row = "untyped_class_640", lambda s: re.search(r"class \d+ \(640 B\)", s)
            for what, args in (("B", ["B.pb.gz"]), ("B_minus_A", ["-diff_base", "A.pb.gz", "B.pb.gz"])):
                rc, out, err = pprof(args)
                row = next((r for r in pprof_rows(out) if is_row(r[2])), None)
                check("pprof_%s_shows_%s_with_3000_objects" % (what, label),
                      rc == 0 and row is not None and about(row[0], 3000),
                      "%s: exit %d, row %r\n%s%s" % (go, rc, row, out[-1500:], err[-800:]))

        # 6. bad files: exit 12 and the file named on standard error
        with open(os.path.join(tmp, "A.json"), encoding="utf-8") as f:
            text = f.read()
        bad = {"truncated.json": text[:len(text) // 2], "empty.json": "",
               "other-format.json": '{"format": "sonde-stackdiff-snapshot", "version": 1}\n',
               "version-99.json": json.dumps(dict(a, version=99)) + "\n"}
        for name, content in bad.items():
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                f.write(content)
        for name, args in ([(n, [n, "B.json"]) for n in sorted(bad) + ["missing.json"]] +
                           [("truncated.json", ["A.json", "truncated.json"])]):
            rc, out, err = run(["diff"] + args)
            check("diff_%s_%s_exits_12_naming_it" % ("a" if args[0] == name else "b", name.replace(".json", "")),
                  rc == 12 and name in err, "exit %d, stderr %r" % (rc, err[-500:]))

        # 7. top
        rc, out, err = run(["top", "-p", spid])
        check("top_exits_0_naming_the_pid", rc == 0 and re.search(r"(?<!\d)%s(?!\d)" % spid, out),
              "exit %d\n%s%s" % (rc, out[:800], err[-500:]))
        rc, out, err = run(["top", "-p", spid, "--json", "--top", "3"])
        try:
            doc = json.loads(out) if rc == 0 else None
        except ValueError as e:
            doc, err = None, err + "\ninvalid JSON: %s" % e
        check("top_json_exits_0_with_one_json_document", doc is not None, "exit %d\n%s" % (rc, err[-800:]))

        # 8. watch: a snapshot now, then one per GC cycle, each after the
        # sweep; sonde is detached in between, so the fixture answers
        wcmd = [sonde, "memwatch", "watch", "-p", spid, "--gc", "-o", "W-%n.json", "--count", "3", "-d", "60s"] + host
        w = subprocess.Popen(wcmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp,
                             stdin=subprocess.DEVNULL)
        answers = []
        for _ in range(10):  # each `gc` is two cycles; a few more than needed, until watch is done
            if w.poll() is not None or os.path.exists(os.path.join(tmp, "W-3.json")):
                break
            time.sleep(0.3)
            answers.append(fx.command("alloc node 100"))
            answers.append(fx.gc()[1])
        try:
            wout, werr = w.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            wout, werr = w.communicate()
        snaps = [load("W-%d.json" % i)[0] for i in (1, 2, 3)]
        cycles = [x.get("gc_cycle") if x else None for x in snaps]
        check("watch_gc_writes_a_snapshot_per_gc_cycle",
              w.returncode == 0 and all(snaps) and is_int(cycles[0]) and cycles[0] < cycles[1] < cycles[2] and
              len(wout.strip().splitlines()) == 3 and "W-3.json" in wout,
              "exit %r, cycles %r, fixture said %r\n%s%s" % (w.returncode, cycles, answers[-4:], wout, werr[-800:]))
        check("watch_gc_snapshots_are_swept", all(x and x.get("unswept_spans") == 0 for x in snaps),
              repr([x.get("unswept_spans") if x else None for x in snaps]))
        rc, out, err = run(["watch", "-p", spid, "--every", "200ms", "-o", "E-%n.json", "--pprof", "E-%n.pb.gz",
                            "--count", "2"])
        check("watch_every_writes_count_snapshots",
              rc == 0 and all(os.path.exists(os.path.join(tmp, f)) for f in ("E-1.json", "E-2.json", "E-1.pb.gz",
                                                                              "E-2.pb.gz")) and
              not os.path.exists(os.path.join(tmp, "E-3.json")), "exit %d\n%s%s" % (rc, out, err[-800:]))
        rc, out, err = run(["watch", "-p", spid, "--gc", "-o", "same.json", "--count", "2"])
        check("watch_refuses_a_name_without_%n", rc == 12 and "%n" in err, "exit %d\n%s" % (rc, err[-500:]))

        # 9. [memwatch] in sonde.ini, in a session: snapshots at attach and
        # on an interval, with profiles and each diff printed, while the
        # process runs (it answers and allocates in the middle)
        sess_ini = os.path.join(tmp, "session.ini")
        with open(sess_ini, "w") as f:
            f.write("[memwatch]\non_attach = yes\nevery = 400ms\ndiff = yes\noutput = S-%n.json\npprof = S-%n.pb.gz\n")
        shost = ["--config", sess_ini] + host[2:]
        # No fixed duration: the session runs until the snapshots the checks
        # need exist, then SIGINT (Ctrl-C) ends it; a slow run cannot end it early.
        sess = subprocess.Popen([sonde, "attach", "-p", spid, "--plugin", "memwatch", "-d", "300s"] + shost, cwd=tmp,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)

        def wait_file(name):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and sess.poll() is None and not os.path.exists(os.path.join(tmp, name)):
                time.sleep(0.05)

        wait_file("S-2.json")
        answer = fx.command("alloc rec 1000")
        during = sess.poll() is None
        wait_file("S-4.json")  # two intervals after the allocation, with its profile
        wait_file("S-4.pb.gz")
        sess.send_signal(signal.SIGINT)
        sout, serr = sess.communicate(timeout=120)
        check("session_process_runs_while_memwatch_snapshots", answer == "OK" and during,
              "fixture said %r, %s the session ended" % (answer, "before" if during else "after"))
        autos = sorted((f for f in os.listdir(tmp) if re.match(r"^S-\d+\.json$", f)), key=lambda f: int(f[2:-5]))
        check("session_ini_on_attach_and_every_write_snapshots_and_profiles",
              sess.returncode == 0 and len(autos) >= 4 and autos[0] == "S-1.json" and
              all(os.path.exists(os.path.join(tmp, f[:-5] + ".pb.gz")) for f in autos) and "wrote S-1.json" in serr,
              "exit %r, files %r\n%s" % (sess.returncode, autos, serr[-1500:]))
        check("session_ini_diff_prints_each_change", "A S-1.json" in sout and "B S-2.json" in sout, sout[-1500:])
        if len(autos) >= 2:
            rc, out, err = run(["diff", "--json", autos[0], autos[-1]])
            d = json.loads(out) if rc == 0 else {}
            if minor >= 22:
                got = {t["type"]: t for t in d.get("types", [])}.get("main.rec", {}).get("objects_delta")
            else:
                got = {c["object_size"]: c for c in d.get("classes", [])}.get(640, {}).get("objects_delta")
            check("session_first_and_last_snapshot_differ_by_the_1000_recs", about(got, 1000),
                  "exit %d, delta %r %s" % (rc, got, err[-500:]))

        # 10. on_hit: a snapshot at each hit of a breakpoint on main.alloc,
        # the fixture's allocating function; two alloc commands, two hits
        hit_ini = os.path.join(tmp, "hit.ini")
        with open(hit_ini, "w") as f:
            f.write("[memwatch]\non_hit = yes\noutput = H-%n.json\n")
        hhost = ["--config", hit_ini] + host[2:]
        sess = subprocess.Popen([sonde, "attach", "-p", spid, "--plugin", "memwatch", "-b", "main.alloc", "-n", "2",
                                 "-d", "60s"] + hhost, cwd=tmp, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        head = wait_stderr(sess, "attached to")  # the breakpoint is in from then on
        answers = [fx.command("alloc node 10") for _ in range(2)]
        sout, serr = sess.communicate(timeout=120)
        serr = head + serr
        hits = [load("H-%d.json" % i)[0] for i in (1, 2)]
        check("session_ini_on_hit_takes_a_snapshot_per_hit",
              sess.returncode == 0 and all(hits) and not os.path.exists(os.path.join(tmp, "H-3.json")) and
              answers == ["OK", "OK"], "exit %r, answers %r, files %r\n%s" %
              (sess.returncode, answers, [bool(x) for x in hits], serr[-1500:]))

        # 11. the fixture
        ms, ans = fx.gc()
        probs = [] if ms is not None else ["it answered gc with %r" % ans]
        if fx.proc.poll() is not None:
            probs.append("the fixture exited: %r" % fx.proc.poll())
        else:
            probs += agree.thread_states(fx.pid)
        check("fixture_answers_alive_not_stopped_not_traced", not probs, "; ".join(probs))
    finally:
        if fx is not None:
            fx.stop()
        failed = [n for n, ok in results if not ok]
        if failed:
            print("kept %s for inspection" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d of %d checks passed" % (len(results) - len(failed), len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
