#!/usr/bin/env python3
"""snapshot_e2e.py SONDE PLUGIN_DIR FIXTURE: `sonde stackdiff snapshot` on a live process.

Starts the agreement fixture (tests/fixtures/agree: every goroutine parked in
a known place) and runs the stackdiff plugin from the build's plugin
directory and index (PLUGIN_DIR/plugins.yaml, written by the build), then
checks:
- `snapshot -p PID -o FILE` writes one JSON document of format
  "sonde-stackdiff-snapshot" version 1 with every field docs/stackdiff.md
  lists, of the documented type;
- it agrees with `sonde goroutines --json`: the same goroutine ids, the same
  status, wait reason, parent, thread lock and creator, and the same frames
  (function, file, line, inlined) for each goroutine;
- without -o the same document goes to standard output;
- -o replaces an existing file; an unwritable -o path fails with exit 12 and
  a message naming the path, and creates nothing; an unknown option fails;
- `snapshot --help` exits 0 and documents -o;
- the fixture is unharmed afterwards: alive, not stopped or traced, running,
  and answering its ping server.
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import check, results, is_int  # noqa: E402
import agree  # noqa: E402  (fixture start, readiness and health checks)

EXTRA = 50  # goroutines parked in main.parkedWorker, beside the fixture's own
SPINNER = "main.spinner"

GOROUTINE_KEYS = {"id", "status", "wait_reason", "wait_minutes", "parent_id", "system", "locked_to_thread",
                  "stack_size", "created_by", "frames"}
FRAME_KEYS = {"function", "file", "line", "pc", "inlined"}
CREATOR_KEYS = {"function", "file", "line", "pc"}
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")







def shape_problems(doc, pid, fixture):
    """What in doc differs from docs/stackdiff.md, version 1."""
    p = []
    want_top = {"format", "version", "pid", "go_version", "exe", "taken_at", "goroutine_count", "goroutines"}
    if set(doc) != want_top:
        p.append("top-level keys %s, want %s" % (sorted(doc), sorted(want_top)))
        return p
    if doc["format"] != "sonde-stackdiff-snapshot" or doc["version"] != 1:
        p.append("format %r version %r" % (doc["format"], doc["version"]))
    if doc["pid"] != pid:
        p.append("pid %r, want %d" % (doc["pid"], pid))
    m = re.search(r"go(1\.\d+)", os.path.basename(fixture))
    if not isinstance(doc["go_version"], str) or (m and not doc["go_version"].startswith("go" + m.group(1))):
        p.append("go_version %r for fixture %s" % (doc["go_version"], fixture))
    if not isinstance(doc["exe"], str) or os.path.realpath(doc["exe"]) != os.path.realpath(fixture):
        p.append("exe %r, want %s" % (doc["exe"], fixture))
    if not isinstance(doc["taken_at"], str) or not RFC3339_UTC.match(doc["taken_at"]):
        p.append("taken_at %r is not RFC 3339 UTC" % doc["taken_at"])
    if not is_int(doc["goroutine_count"]) or not isinstance(doc["goroutines"], list):
        p.append("goroutine_count or goroutines of the wrong type")
        return p
    for g in doc["goroutines"]:
        if not isinstance(g, dict) or set(g) != GOROUTINE_KEYS:
            p.append("goroutine keys %s" % (sorted(g) if isinstance(g, dict) else type(g).__name__))
            continue
        gid = g["id"]
        if not all(is_int(g[k]) for k in ("id", "wait_minutes", "parent_id")) or g["wait_minutes"] < 0:
            p.append("goroutine %r: id, wait_minutes or parent_id not a (non-negative) integer" % gid)
        if not isinstance(g["status"], str) or not g["status"] or not isinstance(g["wait_reason"], str):
            p.append("goroutine %r: status %r wait_reason %r" % (gid, g["status"], g["wait_reason"]))
        if not isinstance(g["system"], bool) or not isinstance(g["locked_to_thread"], bool):
            p.append("goroutine %r: system or locked_to_thread not a boolean" % gid)
        # runtime.stackalloc: a power of two, at least _StackMin (2 KiB)
        ss = g["stack_size"]
        if not is_int(ss) or ss < 2048 or ss & (ss - 1):
            p.append("goroutine %r: stack_size %r is not a power of two of at least 2048" % (gid, ss))
        c = g["created_by"]
        if c is not None and (not isinstance(c, dict) or set(c) != CREATOR_KEYS or not is_int(c["line"])
                              or not is_int(c["pc"]) or not isinstance(c["function"], str)):
            p.append("goroutine %r: created_by %r" % (gid, c))
        if not isinstance(g["frames"], list) or not g["frames"]:
            p.append("goroutine %r: no frames" % gid)
            continue
        for f in g["frames"]:
            if (not isinstance(f, dict) or set(f) != FRAME_KEYS or not isinstance(f["function"], str)
                    or not f["function"] or not isinstance(f["file"], str) or not is_int(f["line"])
                    or not is_int(f["pc"]) or not isinstance(f["inlined"], bool)):
                p.append("goroutine %r: frame %r" % (gid, f))
                break
    return p


def frames_of(g):
    return [(f["function"], f["file"], f["line"], f["inlined"]) for f in g["frames"]]


def header_of(g):
    c = g["created_by"]
    return (g["status"], g["wait_reason"], g["parent_id"], g["locked_to_thread"],
            None if c is None else (c["function"], c["file"], c["line"]))


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[0])
        return 2
    sonde, plugin_dir, fixture = sys.argv[1:]
    if not os.path.exists(fixture):
        print("no Go fixture at %s (tests/e2e/build_fixtures.sh builds it)" % fixture)
        return 2
    tmp = tempfile.mkdtemp(prefix="sonde-stackdiff-")
    ini = os.path.join(tmp, "empty.ini")
    with open(ini, "w") as f:
        f.write("# no settings: defaults only\n")
    # The build's index and plugin directory, and a sonde.ini of our own, so
    # nothing else on the machine changes what the test sees.
    host = ["--config", ini, "--index", os.path.join(plugin_dir, "plugins.yaml"), "--plugin-dir", plugin_dir]
    env = {k: v for k, v in os.environ.items() if k != "SONDE_CONFIG"}

    def run(args):
        p = subprocess.run([sonde] + args, capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    proc = None
    keep = False
    try:
        try:
            proc, _, port_file = agree.start_fixture(fixture, tmp, EXTRA, "")
            pid = agree.wait_ready(proc, tmp, agree.READY_TIMEOUT)
            with open(port_file) as f:
                port = int(f.read())
        except (agree.SetupError, OSError, ValueError) as e:
            print("setup: %s" % e)
            return 2
        spid = str(pid)

        # --help, before anything reads the process
        rc, out, err = run(["stackdiff", "snapshot", "--help"] + host)
        check("snapshot_help_exits_0_and_documents_o", rc == 0 and "-o" in out and "FILE" in out,
              "exit %d\n%s%s" % (rc, out, err))

        # -o FILE, over an existing longer file: replaced, not appended to
        snap = os.path.join(tmp, "snap.json")
        with open(snap, "w") as f:
            f.write("x" * 1000000)
        rc, out, err = run(["stackdiff", "snapshot", "-p", spid, "-o", snap] + host)
        doc = None
        if check("snapshot_to_file_exits_0_and_prints_nothing", rc == 0 and out == "", "exit %d\n%s%s" % (rc, out, err)):
            try:
                with open(snap, encoding="utf-8") as f:  # strict: the file must be valid UTF-8
                    doc = json.load(f)
            except ValueError as e:
                check("snapshot_file_is_one_json_document", False, str(e))
            else:
                check("snapshot_file_is_one_json_document", True)
        if doc is not None:
            probs = shape_problems(doc, pid, fixture)
            check("snapshot_has_documented_format_version_1_fields", not probs, "; ".join(probs[:10]))
            gs = doc.get("goroutines") or []
            check("goroutine_count_equals_goroutines_listed", doc.get("goroutine_count") == len(gs),
                  "goroutine_count %r, %d listed" % (doc.get("goroutine_count"), len(gs)))
            parked = [g for g in gs if any(f["function"] == "main.parkedWorker" for f in g.get("frames", []))]
            check("snapshot_holds_the_fixtures_parked_workers", len(parked) == EXTRA,
                  "%d goroutines in main.parkedWorker, want %d" % (len(parked), EXTRA))
            # main.recurse holds 100 frames of real stack: its stack grew
            # (copied to a larger one) past the 8 KiB every other
            # goroutine of the fixture fits in.
            sizes = {g["id"]: g.get("stack_size") for g in gs}
            deep = [g["id"] for g in gs if g.get("frames") and g["frames"][0]["function"] == "main.recurse"]
            others = [v for k, v in sizes.items() if k not in deep and is_int(v)]
            check("deep_recursion_owns_the_only_stack_that_grew",
                  len(deep) == 1 and is_int(sizes[deep[0]]) and sizes[deep[0]] > 8192 and others
                  and max(others) <= 8192, "recurse %r, others up to %r" % ([sizes.get(d) for d in deep],
                                                                          max(others) if others else None))

            # Against sonde's own view. Both leave the runtime's goroutines
            # out (no --system), as the plugin's snapshot does.
            rc, out, err = run(["goroutines", "-p", spid, "--json"])
            ref = json.loads(out)["goroutines"] if rc == 0 else []
            check("sonde_goroutines_json_runs", rc == 0, "exit %d\n%s" % (rc, err))
            want = {g["id"]: g for g in ref}
            have = {g["id"]: g for g in gs}
            check("goroutine_count_equals_sonde_goroutines", len(gs) == len(ref),
                  "snapshot %d, sonde goroutines %d" % (len(gs), len(ref)))
            check("goroutine_ids_equal_sonde_goroutines", set(have) == set(want) and len(have) == len(gs),
                  "only in snapshot %s, only in sonde goroutines %s" %
                  (sorted(set(have) - set(want)), sorted(set(want) - set(have))))
            # The fixture parks every goroutine but one: main.spinner never
            # blocks, so between the two stops it may be anywhere in its
            # loop. That goroutine, and only that one, may differ.
            differ = []
            for gid in sorted(set(have) & set(want)):
                a, b = have[gid], want[gid]
                if frames_of(a) != frames_of(b) or header_of(a) != header_of(b):
                    differ.append(gid)
            spinning = [gid for gid in differ
                        if any(f["function"] == SPINNER for f in have[gid]["frames"] + want[gid]["frames"])]
            detail = ""
            for gid in [g for g in differ if g not in spinning][:3]:
                detail += "\ngoroutine %d:\n  snapshot %s %s\n  sonde    %s %s" % (
                    gid, header_of(have[gid]), [f[0] for f in frames_of(have[gid])],
                    header_of(want[gid]), [f[0] for f in frames_of(want[gid])])
            check("frames_and_states_equal_sonde_goroutines",
                  bool(ref) and len(differ) <= 1 and differ == spinning,
                  "%d goroutines differ (%s)%s" % (len(differ), differ[:10], detail))

            # Standard output: the same document.
            rc, out, err = run(["stackdiff", "snapshot", "-p", spid] + host)
            try:
                sdoc = json.loads(out) if rc == 0 else None
            except ValueError as e:
                sdoc = None
                err += "\ninvalid JSON: %s" % e
            check("snapshot_to_stdout_is_the_same_document",
                  sdoc is not None and not shape_problems(sdoc, pid, fixture)
                  and {g["id"] for g in sdoc["goroutines"]} == set(have),
                  "exit %d\n%s" % (rc, err[-2000:]))

        # Errors: an unwritable path, an unknown option.
        bad = "/nonexistent/dir/x.json"
        rc, out, err = run(["stackdiff", "snapshot", "-p", spid, "-o", bad] + host)
        check("unwritable_output_exits_12_naming_the_path",
              rc == 12 and bad in err and out == "" and not os.path.exists(bad), "exit %d\n%s" % (rc, err))
        rc, out, err = run(["stackdiff", "snapshot", "-p", spid, "--bogus"] + host)
        check("unknown_option_is_refused_with_usage", rc != 0 and "--bogus" in err and "-o FILE" in err,
              "exit %d\n%s" % (rc, err))

        # In a session: a numbered snapshot on every interval (-o with %n).
        series = os.path.join(tmp, "series-%n.json")
        rc, out, err = run(["attach", "-p", spid, "--every", "400ms", "stackdiff snapshot -o " + series, "-d", "1.4"] +
                           host)
        files = sorted(f for f in os.listdir(tmp) if f.startswith("series-"))
        docs = []
        for f in files:
            try:
                with open(os.path.join(tmp, f)) as fh:
                    docs.append(json.load(fh))
            except ValueError:
                pass
        check("every_interval_writes_numbered_snapshots",
              rc == 0 and files == ["series-1.json", "series-2.json", "series-3.json"] and len(docs) == 3 and
              all(d["goroutine_count"] == len(d["goroutines"]) > 0 for d in docs),
              "exit %d, files %s\n%s" % (rc, files, err))
        rc, out, err = run(["stackdiff", "snapshot", "-p", spid, "-o", os.path.join(tmp, "x-%q.json")] + host)
        check("unknown_percent_sequence_is_refused", rc == 12 and "%q" in err and "%n" in err, "exit %d\n%s" % (rc, err))

        harm = agree.check_unharmed(proc, port)
        check("target_unharmed_and_answers_ping", not harm, "; ".join(harm))
    finally:
        agree.stop_fixture(proc)
        failed = [n for n, ok in results if not ok]
        if failed:
            keep = True
            print("kept %s for inspection" % tmp)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d of %d checks passed" % (len(results) - len(failed), len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
