#!/usr/bin/env python3
"""diff_e2e.py SONDE PLUGIN_DIR FIXTURE: `sonde stackdiff diff A B` on snapshots of a live process.

Starts the phases fixture (tests/fixtures/phases: worker goroutines moved
between main.phaseOne and main.phaseTwo on command) and runs the stackdiff
plugin from the build's plugin directory and index (PLUGIN_DIR/plugins.yaml),
then checks:
- the snapshots see the fixture as it is: A after `start 60` holds 60
  goroutines in main.phaseOne (main.worker -> main.phaseOne, created by
  main.startWorkers, waiting in select); B after `move 20` and `end 15` holds
  25 there and 20 in main.phaseTwo (chan send). Parking is asynchronous, so
  each snapshot is retried for up to 5 s until the counts show;
- `diff --json A B` is one document of format "sonde-stackdiff-diff" version
  1: a and b describe the two files (file, pid, go_version, exe, taken_at,
  goroutine_count as in the snapshots), signature "functions";
- its summary says 0 created, 15 exited, 20 changed, and as unchanged the
  goroutines both snapshots hold with the same state, wait, frames and stack
  size (the 25 workers left in phase one and main);
- exited lists exactly A's phase-one goroutines that B lacks, as A has them,
  sorted by id; changed lists exactly the goroutines in main.phaseOne in A
  and main.phaseTwo in B, sorted by id, each with a (waiting, select) and b
  (chan send) states, removed = A's inner frames with main.phaseOne, added =
  B's with main.phaseTwo, shared = the outer frames both have, equal in
  function, file, line and inlining (none here: main.worker calls phaseOne
  from one line and phaseTwo from the next, so its frame differs too and
  shows in removed and in added, at its two lines);
- signatures lists only stacks whose count changed, sorted by |delta|
  descending: main.phaseOne a=60 b=25 delta=-35 and main.phaseTwo a=0 b=20
  delta=+20, with up to 5 sample ids each taken from the right snapshot;
- --lines gives signature "lines" and stacks with file and line, with the
  same counts; a file against itself shows no difference;
- after `start 10`, diff B C shows 10 created goroutines, C's, created by
  main.startWorkers in main.phaseOne, and nothing else;
- text output (standard output not a terminal): no ANSI escapes, a summary
  "0 created, 15 exited, 20 changed", main.phaseTwo on a "+" line and
  main.phaseOne on a "-" line; --color always colours it, NO_COLOR=1 with
  --color auto does not;
- bad files get exit 12 and one line on standard error naming the file and
  the cause: missing, empty, truncated, not JSON (with the position), another
  format, version 99, a goroutine id that is not a number; one file when not
  attached is refused (exit 12 or 2) saying two files are needed. Nothing
  crashes. Control characters in names (ESC, BEL, newline) reach the text
  as '?', and the JSON as escapes, never raw. `diff --help` exits 0 and
  documents --json;
- in a session (sonde attach --plugin stackdiff), [stackdiff] in sonde.ini
  (on_attach, every, diff, output) writes numbered snapshots and prints each
  diff while the fixture keeps answering commands; the first and last of
  them differ by exactly the workers moved meanwhile; a snapshot taken at
  attach alone leaves the process running (it answers while sonde is still
  attached); `diff FILE` in a session compares FILE with the process now,
  and `diff` alone the previous snapshot with now;
- the fixture is unharmed afterwards: alive, no thread stopped or traced.
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import json
import signal
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import StdinFixture, check, results, is_int, wait_stderr  # noqa: E402
import agree  # noqa: E402  (thread_states: stopped or traced threads)

ONE, TWO = "main.phaseOne", "main.phaseTwo"
WORKER, STARTER = "main.worker", "main.startWorkers"
START, MOVE, END, MORE = 60, 20, 15, 10
SETTLE = 5.0          # seconds a snapshot is retried until the counts show
COMMAND_TIMEOUT = 60  # the fixture answers a command within 30 s or says ERR

HEADER_KEYS = ("pid", "go_version", "exe", "taken_at", "goroutine_count")
FRAME_KEYS = {"function", "file", "line", "pc", "inlined"}







def funcs(frames):
    return [f.get("function") if isinstance(f, dict) else f for f in frames]


def state_of(g, other):
    """What of g the diff compares with the other snapshot's goroutine."""
    frames = [(f["function"], f["file"], f["line"], f["inlined"]) for f in g["frames"]]
    both = "stack_size" in g and "stack_size" in other
    return g["status"], g["wait_reason"], frames, g["stack_size"] if both else None


def unlike(listed, snap, name):
    """How the first of listed that differs from its goroutine in snap differs."""
    for g in listed:
        want = snap.get(g.get("id") if isinstance(g, dict) else None)
        if g == want:
            continue
        if not isinstance(g, dict) or want is None:
            return "%r is not a goroutine of %s" % (g, name)
        keys = sorted(k for k in set(g) | set(want) if g.get(k, "(absent)") != want.get(k, "(absent)"))
        return "%d goroutines differ; goroutine %d: %s" % (
            sum(1 for x in listed if x != snap.get(x.get("id") if isinstance(x, dict) else None)), g["id"],
            ", ".join("%s %r in the diff, %r in %s" % (k, g.get(k, "(absent)"), want.get(k, "(absent)"), name)
                      for k in keys))
    return ""


def has_func(g, fn):
    return any(f["function"] == fn for f in g["frames"])



class Fixture(StdinFixture):
    """The phases fixture, driven through its standard input."""

    def __init__(self, path, tmp):
        super().__init__(path, tmp, COMMAND_TIMEOUT)


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[0])
        return 2
    # absolute: sonde runs in the temporary directory
    sonde, plugin_dir, fixture = (os.path.abspath(a) for a in sys.argv[1:])
    if not os.path.exists(fixture):
        print("no Go fixture at %s (tests/e2e/build_fixtures.sh builds it)" % fixture)
        return 2
    tmp = tempfile.mkdtemp(prefix="sonde-stackdiff-diff-")
    ini = os.path.join(tmp, "empty.ini")
    with open(ini, "w") as f:
        f.write("# no settings: defaults only\n")
    # The build's index and plugin directory, and a sonde.ini of our own, so
    # nothing else on the machine changes what the test sees.
    host = ["--config", ini, "--index", os.path.join(plugin_dir, "plugins.yaml"), "--plugin-dir", plugin_dir]
    env = {k: v for k, v in os.environ.items() if k not in ("SONDE_CONFIG", "NO_COLOR")}

    def run(args, extra_env=None):
        e = dict(env, **(extra_env or {}))
        # cwd tmp: the diff's files are named as on the command line, a.json
        p = subprocess.run([sonde] + args, capture_output=True, text=True, env=e, cwd=tmp, timeout=120,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def load(name):
        with open(os.path.join(tmp, name), encoding="utf-8") as f:
            return json.load(f)

    fx = None
    try:
        try:
            fx = Fixture(fixture, tmp)
        except (OSError, ValueError, RuntimeError) as e:
            print("setup: %s" % e)
            return 2
        spid = str(fx.pid)

        def snapshot(name, want_one, want_two):
            """Snapshots into name until want_one goroutines wait in select in
            main.phaseOne and want_two in chan send in main.phaseTwo, and no
            other worker is seen; the last document and what was wrong."""
            deadline = time.monotonic() + SETTLE
            while True:
                rc, out, err = run(["stackdiff", "snapshot", "-p", spid, "-o", name] + host)
                if rc != 0:
                    return None, "snapshot exit %d: %s" % (rc, err.strip())
                doc = load(name)
                gs = doc["goroutines"]
                one = [g for g in gs if has_func(g, ONE)]
                two = [g for g in gs if has_func(g, TWO)]
                workers = [g for g in gs if has_func(g, WORKER)]
                wrong = []
                if len(one) != want_one or len(two) != want_two or len(workers) != want_one + want_two:
                    wrong.append("%d in %s, %d in %s, %d workers; want %d, %d, %d" %
                                 (len(one), ONE, len(two), TWO, len(workers), want_one, want_two,
                                  want_one + want_two))
                for g in workers:
                    want = ([ONE, WORKER], "select") if has_func(g, ONE) else ([TWO, WORKER], "chan send")
                    c = g["created_by"] or {}
                    if (funcs(g["frames"]), g["status"], g["wait_reason"], c.get("function")) != \
                            (want[0], "waiting", want[1], STARTER):
                        wrong.append("goroutine %d: %s %r %s created by %s" % (
                            g["id"], g["status"], g["wait_reason"], funcs(g["frames"]), c.get("function")))
                        break
                if not wrong or time.monotonic() > deadline:
                    return doc, "; ".join(wrong)
                time.sleep(0.2)

        # 1. A: 60 workers in phase one
        ans = fx.command("start %d" % START)
        if not check("fixture_starts_workers", ans == "OK start %d" % START, ans):
            return 1
        a, wrong = snapshot("a.json", START, 0)
        if not check("snapshot_a_has_%d_goroutines_in_phaseOne" % START, a is not None and not wrong, wrong):
            return 1

        # 2. B: 20 moved to phase two, 15 ended
        for cmd in ("move %d" % MOVE, "end %d" % END):
            ans = fx.command(cmd)
            if not check("fixture_" + cmd.split()[0] + "s_workers", ans == "OK " + cmd, ans):
                return 1
        b, wrong = snapshot("b.json", START - MOVE - END, MOVE)
        if not check("snapshot_b_has_%d_in_phaseOne_and_%d_in_phaseTwo" % (START - MOVE - END, MOVE),
                     b is not None and not wrong, wrong):
            return 1

        # What the diff must find, from the snapshots themselves.
        ga = {g["id"]: g for g in a["goroutines"]}
        gb = {g["id"]: g for g in b["goroutines"]}
        want_exited = sorted(i for i, g in ga.items() if has_func(g, ONE) and i not in gb)
        want_changed = sorted(i for i, g in ga.items() if has_func(g, ONE) and i in gb and has_func(gb[i], TWO))
        same = sorted(i for i in set(ga) & set(gb) if i not in want_changed)
        # what the diff compares: state, wait, frames, and the stack size
        # where the snapshots carry it
        alike = [i for i in same if state_of(ga[i], gb[i]) == state_of(gb[i], ga[i])]
        check("snapshots_differ_only_by_the_commands",
              len(want_exited) == END and len(want_changed) == MOVE and set(gb) <= set(ga) and alike == same,
              "%d exited, %d changed, created %s, other goroutines that differ %s" %
              (len(want_exited), len(want_changed), sorted(set(gb) - set(ga)), sorted(set(same) - set(alike))))
        want_unchanged = len(same)

        rc, out, err = run(["stackdiff", "diff", "--help"] + host)
        if not check("diff_help_exits_0_and_documents_json", rc == 0 and "--json" in out,
                     "exit %d\n%s%s" % (rc, out, err)):
            print("(the diff command is not there: its checks are not run)")
            return 1

        # 3. diff --json A B
        rc, out, err = run(["stackdiff", "diff", "--json", "a.json", "b.json"] + host)
        d = None
        try:
            d = json.loads(out) if rc == 0 else None
        except ValueError as e:
            err += "\ninvalid JSON: %s" % e
        check("diff_json_exits_0_with_one_json_document", isinstance(d, dict), "exit %d\n%s" % (rc, err[-2000:]))
        if isinstance(d, dict):
            check_diff_ab(d, a, b, ga, gb, want_exited, want_changed, want_unchanged)

            rc, out, err = run(["stackdiff", "diff", "--json", "--lines", "a.json", "b.json"] + host)
            try:
                dl = json.loads(out) if rc == 0 else {}
            except ValueError as e:
                dl, err = {}, err + "\ninvalid JSON: %s" % e
            sig_ok = isinstance(dl.get("signatures"), list) and dl["signatures"] and all(
                isinstance(s, dict) and isinstance(s.get("stack"), list) and s["stack"] and
                all(isinstance(f, dict) and isinstance(f.get("file"), str) and is_int(f.get("line")) and
                    isinstance(f.get("function"), str) for f in s["stack"]) for s in dl["signatures"])
            check("lines_signatures_have_file_and_line",
                  dl.get("signature") == "lines" and dl.get("summary") == d.get("summary") and sig_ok,
                  "exit %d, signature %r, summary %r (functions: %r)\n%s" %
                  (rc, dl.get("signature"), dl.get("summary"), d.get("summary"), err[-1000:]))

            rc, out, err = run(["stackdiff", "diff", "--json", "a.json", "a.json"] + host)
            try:
                ds = json.loads(out) if rc == 0 else {}
            except ValueError:
                ds = {}
            check("file_against_itself_shows_no_difference",
                  ds.get("summary") == {"created": 0, "exited": 0, "changed": 0, "unchanged": len(ga)} and
                  ds.get("signatures") == [] and ds.get("created") == [] and ds.get("exited") == [] and
                  ds.get("changed") == [],
                  "exit %d, summary %r, signatures %r\n%s" % (rc, ds.get("summary"), ds.get("signatures"), err))

        # 4. C: 10 more workers; diff B C
        ans = fx.command("start %d" % MORE)
        check("fixture_starts_more_workers", ans == "OK start %d" % MORE, ans)
        c, wrong = snapshot("c.json", START - MOVE - END + MORE, MOVE)
        check("snapshot_c_has_%d_more_in_phaseOne" % MORE, c is not None and not wrong, wrong)
        if c is not None:
            gc = {g["id"]: g for g in c["goroutines"]}
            want_created = sorted(set(gc) - set(gb))
            rc, out, err = run(["stackdiff", "diff", "--json", "b.json", "c.json"] + host)
            try:
                dc = json.loads(out) if rc == 0 else {}
            except ValueError as e:
                dc, err = {}, err + "\ninvalid JSON: %s" % e
            s = dc.get("summary") or {}
            check("diff_bc_summary_10_created_nothing_else",
                  s == {"created": MORE, "exited": 0, "changed": 0, "unchanged": len(gb)},
                  "exit %d, summary %r, want created %d unchanged %d\n%s" % (rc, s, MORE, len(gb), err[-1000:]))
            created = dc.get("created") or []
            ids = [g.get("id") for g in created]
            check("created_are_the_new_goroutines_sorted_by_id", ids == want_created and len(want_created) == MORE,
                  "created %s, want %s" % (ids, want_created))
            check("created_are_as_in_c", all(g == gc.get(g.get("id")) for g in created),
                  unlike(created, gc, "c.json"))
            bad = [g.get("id") for g in created
                   if (g.get("created_by") or {}).get("function") != STARTER or not has_func(g, ONE)]
            check("created_by_startWorkers_in_phaseOne", created and not bad, "goroutines %s" % bad)
            sig = dc.get("signatures") or []
            check("diff_bc_one_signature_phaseOne_plus_10",
                  len(sig) == 1 and funcs(sig[0].get("stack", [])) == [ONE, WORKER] and
                  (sig[0].get("a"), sig[0].get("b"), sig[0].get("delta")) == (25, 35, 10),
                  "signatures %r" % sig)

        # 5. Text
        rc, out, err = run(["stackdiff", "diff", "a.json", "b.json"] + host)
        lines = out.splitlines()
        check("text_exits_0", rc == 0 and out, "exit %d\n%s" % (rc, err))
        check("text_to_a_pipe_has_no_ansi_escapes", "\x1b" not in out, repr(out[:300]))
        check("text_summary_line", "0 created, 15 exited, 20 changed" in out, out[:1000])
        check("text_phaseTwo_on_a_plus_line", any(l.lstrip().startswith("+") and TWO in l for l in lines), out[:2000])
        check("text_phaseOne_on_a_minus_line", any(l.lstrip().startswith("-") and ONE in l for l in lines),
              out[:2000])
        rc, out2, err = run(["stackdiff", "diff", "--color", "always", "a.json", "b.json"] + host)
        check("color_always_colours", rc == 0 and "\x1b[" in out2, "exit %d\n%r\n%s" % (rc, out2[:300], err))
        rc, out3, err = run(["stackdiff", "diff", "--color", "auto", "a.json", "b.json"] + host, {"NO_COLOR": "1"})
        check("no_color_env_with_color_auto_has_no_escapes", rc == 0 and out3 and "\x1b" not in out3,
              "exit %d\n%r\n%s" % (rc, out3[:300], err))

        # 6. Bad files
        with open(os.path.join(tmp, "a.json"), "rb") as f:
            raw = f.read()

        def write(name, data):
            with open(os.path.join(tmp, name), "wb" if isinstance(data, bytes) else "w") as f:
                f.write(data)
            return name

        def variant(name, change):
            doc = json.loads(raw)
            change(doc)
            return write(name, json.dumps(doc))

        cases = [
            ("missing", "missing.json", "No such file"),
            ("empty", write("empty.json", b""), "empty"),
            ("truncated", write("truncated.json", raw[:len(raw) // 2]), "truncated"),
            ("not_json", write("notjson.json", "not json\n"), "line"),
            ("garbage_inside", write("garbage.json", '{"format": "sonde-stackdiff-snapshot", "version": 1,\n @}\n'),
             "line"),
            ("format_not_a_string", write("format12.json", '{"format": 12,'), None),
            ("other_format", write("other.json", '{"format": "other", "version": 1}\n'), "not a stackdiff snapshot"),
            ("version_99", variant("v99.json", lambda d: d.update(version=99)), "version 99"),
            ("id_not_a_number", variant("idx.json", lambda d: d["goroutines"][0].update(id="x")), "id"),
        ]
        for name, bad, cause in cases:
            for args, side in ((["a.json", bad], "b"), ([bad, "a.json"], "a")):
                rc, out, err = run(["stackdiff", "diff", "--json"] + args + host)
                msg = err.strip().splitlines()
                ok = (rc == 12 and out == "" and len(msg) == 1 and bad in msg[0] and
                      (cause is None or cause in msg[0]) and "Traceback" not in err)
                check("bad_file_%s_as_%s_exits_12_naming_file%s" % (name, side, "" if cause is None else
                                                                     "_and_" + cause.replace(" ", "_")),
                      ok, "exit %d, stdout %r, stderr %r" % (rc, out[:200], err[-500:]))
        # Names come from files anyone can write (and from the target's
        # memory): a control character in one must not reach the terminal.
        def evil(d):
            for g in d["goroutines"]:
                if has_func(g, ONE):
                    g["frames"][0]["function"] = "main.evil\x1b[2J\x1b]0;owned\x07\nfake line"
                    g["status"] = "wait\x1bing"
                    break
        bad = variant("evil.json", evil)
        rc, out, err = run(["stackdiff", "diff", "--color", "never", "a.json", bad] + host)
        check("text_shows_control_characters_in_names_as_question_marks",
              rc == 0 and "\x1b" not in out and "\x07" not in out and "main.evil?[2J?]0;owned??fake line" in out
              and "wait?ing" in out, "exit %d, %r" % (rc, out[:600]))
        rc, out, err = run(["stackdiff", "diff", "--json", "a.json", bad] + host)
        try:
            names = [f["function"] for c in json.loads(out)["changed"] for f in c["added"]]
        except (ValueError, KeyError, TypeError):
            names = []
        check("json_keeps_control_characters_escaped",
              rc == 0 and "\x1b" not in out and "main.evil\x1b[2J\x1b]0;owned\x07\nfake line" in names,
              "exit %d, %r" % (rc, names[:3]))

        rc, out, err = run(["stackdiff", "diff", "a.json"] + host)
        check("one_file_not_attached_is_refused_saying_two_files_are_needed",
              rc in (12, 2) and "two" in err.lower() and out == "", "exit %d, stderr %r" % (rc, err))

        # 6b. In a session. [stackdiff] in sonde.ini takes snapshots by
        # itself (on_attach, every, diff), and the process runs meanwhile:
        # it answers a command in the middle of the session.
        sess_ini = os.path.join(tmp, "session.ini")
        with open(sess_ini, "w") as f:
            f.write("[stackdiff]\non_attach = yes\nevery = 400ms\ndiff = yes\noutput = auto-%n.json\n")
        shost = ["--config", sess_ini] + host[2:]
        # No fixed duration: the session runs until the test has seen what it
        # needs and ends it with SIGINT (Ctrl-C), so a slow machine (ASan,
        # load) cannot end it before the fixture answers.
        sess = subprocess.Popen([sonde, "attach", "-p", spid, "--plugin", "stackdiff", "-d", "300s"] + shost, cwd=tmp,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        head = wait_stderr(sess, "wrote auto-2.json")  # the attach snapshot and one interval are taken
        answer = fx.command("move 5")
        during = sess.poll() is None  # answered while sonde was still attached
        head += wait_stderr(sess, "wrote auto-4.json")  # two more intervals, after the move
        sess.send_signal(signal.SIGINT)
        sout, serr = sess.communicate(timeout=120)
        serr = head + serr
        check("session_process_runs_while_the_plugin_snapshots", answer == "OK move 5" and during,
              "fixture said %r, %s the session ended" % (answer, "before" if during else "after"))
        autos = sorted((f for f in os.listdir(tmp) if re.match(r"^auto-\d+\.json$", f)),
                       key=lambda f: int(f[5:-5]))
        check("session_ini_on_attach_and_every_write_numbered_snapshots",
              sess.returncode == 0 and len(autos) >= 4 and autos[0] == "auto-1.json",
              "exit %r, files %r\n%s" % (sess.returncode, autos, serr[-1500:]))
        check("session_ini_diff_prints_each_change",
              "stackdiff: auto-1.json -> auto-2.json" in sout and "main.phaseTwo" in sout, sout[-1500:])
        if len(autos) >= 2:
            rc, out, err = run(["stackdiff", "diff", "--json", autos[0], autos[-1]] + host)
            d = json.loads(out) if rc == 0 else {}
            moved = [c for c in d.get("changed", []) if ONE in funcs(c.get("removed", []))
                     and TWO in funcs(c.get("added", []))]
            check("session_first_and_last_snapshot_differ_by_the_5_moved",
                  d.get("summary") == {"created": 0, "exited": 0, "changed": 5, "unchanged": d["summary"]["unchanged"]}
                  and len(moved) == 5, "exit %d %s %s" % (rc, d.get("summary"), err))

        # A snapshot in on_state_change(ATTACHING -> RUNNING) stops every
        # thread; with no interval and no --on-attach command to resume
        # them, the host must let the process run again by itself.
        with open(sess_ini, "w") as f:
            f.write("[stackdiff]\non_attach = yes\noutput = first.json\n")
        sess = subprocess.Popen([sonde, "attach", "-p", spid, "--plugin", "stackdiff", "-d", "300s"] + shost, cwd=tmp,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        head = wait_stderr(sess, "wrote first.json")  # the snapshot at attach is taken: the process must run now
        answer = fx.command("move 1")
        during = sess.poll() is None  # answered while sonde was still attached
        sess.send_signal(signal.SIGINT)
        sout, serr = sess.communicate(timeout=120)
        check("session_attach_snapshot_leaves_the_process_running",
              answer == "OK move 1" and during and sess.returncode == 0
              and os.path.exists(os.path.join(tmp, "first.json")),
              "fixture said %r, %s the session ended; exit %r\n%s" %
              (answer, "before" if during else "after", sess.returncode, (head + serr)[-800:]))

        # `diff` with one file in a session compares it with the process now
        rc, out, err = run(["attach", "-p", spid, "--on-attach", "stackdiff diff --json c.json", "-d", "200ms"] + host)
        try:
            d = json.loads(out)
        except ValueError:
            d = {}
        moved = [c["id"] for c in d.get("changed", []) if ONE in funcs(c.get("removed", []))]
        check("session_diff_of_a_file_with_now",
              rc == 0 and d.get("a", {}).get("file") == "c.json" and d.get("b", {}).get("file") is None
              and d.get("summary", {}).get("changed") == 6 and len(moved) == 6,
              "exit %d, %s\n%s" % (rc, d.get("summary"), err[-800:]))
        # and with none, the previous snapshot of the session with now
        rc, out, err = run(["attach", "-p", spid, "--every", "300ms", "stackdiff diff", "-d", "1s"] + host)
        check("session_diff_without_files_compares_with_the_previous_snapshot",
              rc == 0 and "first snapshot" in err and "stackdiff: live -> live" in out and "no change" in out,
              "exit %d\n%s\n%s" % (rc, out[-800:], err[-800:]))

        # 7. The fixture
        probs = [] if fx.proc.poll() is None else ["the fixture exited: %r" % fx.proc.poll()]
        deadline = time.monotonic() + 2
        while not probs:
            probs = agree.thread_states(fx.pid)
            if not probs or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check("fixture_alive_not_stopped_not_traced", not probs, "; ".join(probs))
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


def check_diff_ab(d, a, b, ga, gb, want_exited, want_changed, want_unchanged):
    """The checks of `diff --json a.json b.json` (step 3)."""
    check("diff_format_and_version", (d.get("format"), d.get("version")) == ("sonde-stackdiff-diff", 1),
          "format %r version %r" % (d.get("format"), d.get("version")))
    for side, snap, name in (("a", a, "a.json"), ("b", b, "b.json")):
        h = d.get(side) or {}
        want = dict({k: snap[k] for k in HEADER_KEYS}, file=name)
        check("diff_%s_describes_%s" % (side, name), h == want, "%r, want %r" % (h, want))
    check("diff_signature_is_functions", d.get("signature") == "functions", repr(d.get("signature")))
    want = {"created": 0, "exited": END, "changed": MOVE, "unchanged": want_unchanged}
    check("diff_summary_0_created_15_exited_20_changed", d.get("summary") == want,
          "%r, want %r" % (d.get("summary"), want))
    check("diff_created_is_empty", d.get("created") == [], repr(d.get("created"))[:300])

    exited = d.get("exited") or []
    ids = [g.get("id") for g in exited if isinstance(g, dict)]
    check("exited_are_the_ended_workers_sorted_by_id", ids == want_exited, "%s, want %s" % (ids, want_exited))
    check("exited_are_as_in_a", all(g == ga.get(g.get("id")) for g in exited), unlike(exited, ga, "a.json"))

    changed = d.get("changed") or []
    ids = [c.get("id") for c in changed if isinstance(c, dict)]
    check("changed_are_the_moved_workers_sorted_by_id", ids == want_changed, "%s, want %s" % (ids, want_changed))
    bad_state, bad_frames, bad_shared = [], [], []
    for c in changed:
        gid = c.get("id")
        if gid not in ga or gid not in gb:
            bad_state.append("%r: not in both snapshots" % gid)
            continue
        sa, sb = c.get("a") or {}, c.get("b") or {}
        states = ((sa.get("status"), sa.get("wait_reason")), (sb.get("status"), sb.get("wait_reason")))
        if states != (("waiting", "select"), ("waiting", "chan send")):
            bad_state.append("%d: states %r" % (gid, states))
        # the snapshots carry stack_size: the changed states carry it too
        for side, st, g in (("a", sa, ga[gid]), ("b", sb, gb[gid])):
            if "stack_size" in g and st.get("stack_size") != g["stack_size"]:
                bad_state.append("%d: %s.stack_size %r, the snapshot says %r" %
                                 (gid, side, st.get("stack_size"), g["stack_size"]))
        rem, add, sh = c.get("removed"), c.get("added"), c.get("shared")
        if not all(isinstance(x, list) and all(isinstance(f, dict) and set(f) == FRAME_KEYS for f in x)
                   for x in (rem, add, sh)):
            bad_frames.append("%d: removed/added/shared not lists of frames: %r %r %r" % (gid, rem, add, sh))
            continue
        fa, fb = ga[gid]["frames"], gb[gid]["frames"]
        # removed + shared is A's stack and added + shared B's; shared is the
        # longest common outer run (frames equal but for the pc)
        def key(fs):
            return [(f["function"], f["file"], f["line"], f["inlined"]) for f in fs]
        common = 0
        while (common < min(len(fa), len(fb)) and
               key([fa[len(fa) - 1 - common]]) == key([fb[len(fb) - 1 - common]])):
            common += 1
        if (ONE not in funcs(rem) or TWO not in funcs(add) or rem + sh != fa or key(add + sh) != key(fb) or
                len(sh) != common):
            bad_frames.append("%d: removed %s + shared %s vs A %s; added %s vs B %s" %
                              (gid, funcs(rem), funcs(sh), funcs(fa), funcs(add), funcs(fb)))
        # main.worker's call site moved (phaseOne's line, phaseTwo's line):
        # it is removed at one line and added at the other, not shared
        wr = [f["line"] for f in rem if f["function"] == WORKER]
        wa = [f["line"] for f in add if f["function"] == WORKER]
        if sh or len(wr) != 1 or len(wa) != 1 or wr == wa:
            bad_shared.append("%d: removed %s added %s shared %s" % (gid, key(rem), key(add), key(sh)))
    check("changed_states_select_to_chan_send_with_stack_size", changed and not bad_state,
          "; ".join(bad_state[:3]))
    check("changed_removed_phaseOne_added_phaseTwo_rest_shared", changed and not bad_frames,
          "; ".join(bad_frames[:3]))
    check("changed_worker_frame_shows_its_moved_call_line", changed and not bad_shared, "; ".join(bad_shared[:3]))

    sigs = d.get("signatures") or []
    by = {}
    for s in sigs:
        if isinstance(s, dict) and isinstance(s.get("stack"), list):
            by[tuple(funcs(s["stack"]))] = s
    one, two = by.get((ONE, WORKER), {}), by.get((TWO, WORKER), {})
    check("signature_phaseOne_60_to_25", (one.get("a"), one.get("b"), one.get("delta")) == (START, 25, -35),
          repr(one))
    check("signature_phaseTwo_0_to_20", (two.get("a"), two.get("b"), two.get("delta")) == (0, MOVE, MOVE),
          repr(two))
    check("signatures_only_the_two_that_changed",
          len(sigs) == 2 and all(s.get("delta") == s.get("b", 0) - s.get("a", 0) != 0 for s in sigs),
          repr(sigs)[:1000])
    deltas = [abs(s.get("delta", 0)) for s in sigs]
    check("signatures_sorted_by_abs_delta_descending", deltas == sorted(deltas, reverse=True), repr(deltas))
    bad = []
    for s in sigs:
        stack = funcs(s.get("stack", []))
        for side, gs in (("a", ga), ("b", gb)):
            ids = s.get("sample_ids_" + side)
            n = s.get(side)
            if not isinstance(ids, list) or not is_int(n) or len(ids) != min(5, n) or len(set(ids)) != len(ids):
                bad.append("%s sample_ids_%s %r for count %r" % (stack, side, ids, n))
                continue
            for i in ids:
                if i not in gs or funcs(gs[i]["frames"]) != stack:
                    bad.append("%s sample_ids_%s: %r has %s in %s.json" %
                               (stack, side, i, funcs(gs[i]["frames"]) if i in gs else "no goroutine", side))
    check("sample_ids_up_to_5_from_the_right_snapshot", sigs and not bad, "; ".join(bad[:4]))


if __name__ == "__main__":
    sys.exit(main())
