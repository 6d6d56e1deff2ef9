#!/usr/bin/env python3
"""session_e2e.py SONDE FIXTURE SOURCE [TEST_PLUGIN_DIR]: breakpoints on file.go:LINE, --nth,
--goid and `sonde exec`, against the hot fixture (tests/fixtures/hot, SOURCE
is its main.go), for one toolchain and build.

Checks, on one running fixture: a FILE:LINE breakpoint on the body of main.twice
(inlined into main.viaA and main.viaB, the line marked "sonde-test: twice
body") is set in every inlined copy and hits in both; a line with no code
and an unknown file are usage errors; --nth reports every Nth matching hit;
a --goid that never matches reports nothing while the hits go on. After every
session the breakpoint bytes are gone from the target's code (each equals the
executable file's byte) and no thread is stopped or traced; in the end the
fixture has computed every result correctly (it exits 0 with wrong=0 on
SIGTERM).

Then `sonde exec`, each on a fixture of its own: a breakpoint on main.main
hits before the program's first output; SIGTERM to sonde reaches the
program, and sonde hands back its exit status; SIGINT ends the session and
the program runs on, untraced; a program that is not Go, or does not exist,
is refused.

With TEST_PLUGIN_DIR (the built test plugins): the tracer plugin sets and
clears its own breakpoint and reads the hitting goroutine's stack through
this toolchain's layouts, also from an --on-hit command; --every runs a
command with the goroutine snapshot on an interval.

Then what a process does while sonde holds it: threads born and ending all
the time with SIGPROF, SIGCHLD and SIGPIPE arriving (-churn -signals), an
execve of another program, a SIGKILL: each session ends cleanly and the
process computes every result correctly or runs on.

Every wait is bounded; every process started here is killed on the way out.
"""
import os
import queue
import shutil
import tempfile
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attach_e2e import file_byte, mem_byte, thread_problems  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import check, results  # noqa: E402

MARKER = "sonde-test: twice body"
RUN_TIMEOUT = 120  # one sonde run, at most
WAIT = 30  # one expected line or exit, at most


class Lines:
    """Collects a text stream line by line in a thread, so that a test can
    wait for a line with a timeout."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait_for(self, regex, timeout=WAIT):
        """The index and match of the first line matching regex, or (None, None)
        at EOF or after timeout seconds."""
        deadline = time.monotonic() + timeout
        rx = re.compile(regex)
        with self.cond:
            i = 0
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    return None, None
                self.cond.wait(left)

    def done(self, timeout=WAIT):
        self.thread.join(timeout)

    def text(self):
        with self.cond:
            return "".join(self.lines)


class Proc:
    """A process whose stdout and stderr are read as they come."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.out = Lines(self.p.stdout)
        self.err = Lines(self.p.stderr)

    def finish(self, timeout=WAIT):
        """Waits for the exit; the exit status, or None after timeout."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.out.done()
        self.err.done()
        return self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                pass


def run(args, timeout=RUN_TIMEOUT):
    """Runs args to the end: (exit status, stdout, stderr); status None when it
    did not end within timeout seconds (it is then killed)."""
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def s(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        return None, s(e.stdout), s(e.stderr) + "\n(killed after %d s)" % timeout


def is_fixture(pid, exe):
    try:
        return os.path.realpath("/proc/%d/exe" % pid) == exe
    except OSError:
        return False


def kill_program(pid, exe):
    """Kills pid if it is still a running copy of the fixture (a program sonde
    exec started, which outlives a killed sonde)."""
    if pid and is_fixture(pid, exe):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def source_lines(source):
    """The marked line of twice's body, and the nearest comment line above it."""
    with open(source) as f:
        lines = f.read().splitlines()
    body = next((i + 1 for i, l in enumerate(lines) if MARKER in l), None)
    if body is None:
        raise SystemExit("session_e2e: no line marked '%s' in %s" % (MARKER, source))
    comment = next(n for n in range(body - 1, 0, -1) if lines[n - 1].strip().startswith("//"))
    return body, comment


def addrs_in(stderr):
    """Every breakpoint address sonde printed: 'breakpoint N at SPEC (0xADDR)'
    or the place lines '  0xADDR in FUNC' after 'breakpoint N at SPEC: K places'."""
    one = re.findall(r"^sonde: breakpoint \d+ at \S+ \(0x([0-9a-f]+)\)$", stderr, re.M)
    places = re.findall(r"^sonde:\s+0x([0-9a-f]+) in \S+", stderr, re.M)
    return [int(a, 16) for a in one + places]


def situations(sonde, fixture, started):
    """What a process does while sonde holds it: threads born and ending all
    the time, signals of every kind, an execve, a SIGKILL."""
    fx = Proc([fixture, "-churn", "-signals"])
    started.append(fx)
    _, m = fx.out.wait_for(r"^READY (\d+)$")
    if not m:
        check("busy_fixture_ready", False, fx.err.text())
        return
    pid = fx.p.pid
    rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "main.hot", "-b", "main.churnOne", "--nth", "50",
                        "-d", "1", "-q"])
    m = re.search(r"duration reached after [\d.]+ s: (\d+) hits? \((\d+) reported\).*, (\d+) signals? passed on", err)
    check("threads_born_and_ending_and_signals_while_attached",
          rc == 0 and m and int(m.group(2)) > 0 and int(m.group(3)) > 0, "rc %s: %s" % (rc, err))
    rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "main.churnOne", "-n", "5"])
    threads = set(re.findall(r"^hit \d+: main\.churnOne goroutine \d+ thread (\d+)$", out, re.M))
    check("hits_on_threads_born_during_the_session", rc == 0 and len(threads) >= 3, out + err)
    probs = thread_problems(pid) if fx.p.poll() is None else ["the fixture died: " + fx.err.text()[-800:]]
    check("busy_target_runs_on_untraced", not probs, "; ".join(probs))
    fx.p.send_signal(signal.SIGTERM)
    rc = fx.finish()
    m = re.search(r"calls=\d+ wrong=(\d+) churned=(\d+)", fx.out.text())
    check("busy_target_computed_every_result_correctly",
          rc == 0 and m and m.group(1) == "0" and int(m.group(2)) > 0,
          "rc %s: %s%s" % (rc, fx.out.text(), fx.err.text()[-1500:]))

    # The process replaces itself (execve) while attached: the session ends,
    # the new program (sleep 1) runs on, untouched, and exits 0.
    fx = Proc([fixture, "-exec-after", "2s"])
    started.append(fx)
    _, m = fx.out.wait_for(r"^READY (\d+)$")
    if m:
        rc, out, err = run([sonde, "attach", "-p", str(fx.p.pid), "-b", "main.hot", "--goid", "999999999", "-d", "30",
                            "-q"])
        probs = thread_problems(fx.p.pid) if fx.p.poll() is None else []
        check("exec_in_the_target_ends_the_session_cleanly",
              rc == 0 and "the process called exec" in err and not probs, "rc %s: %s %s" % (rc, err, probs))
        rc = fx.finish(timeout=15)
        check("program_after_exec_runs_to_its_end", rc == 0, "rc %s: %s" % (rc, fx.err.text()[-800:]))
    else:
        check("exec_fixture_ready", False, fx.err.text())

    # SIGKILL to the target while attached: sonde says so and ends cleanly.
    fx = Proc([fixture])
    started.append(fx)
    _, m = fx.out.wait_for(r"^READY (\d+)$")
    if m:
        # killed once sonde says it is attached, however long starting took
        # on a loaded machine (a fixed delay raced sonde's start)
        s = Proc([sonde, "attach", "-p", str(fx.p.pid), "-b", "main.hot", "--goid", "999999999", "-d", "30", "-q"])
        started.append(s)
        attached, _ = s.err.wait_for(r"attached to \d+")
        if attached is not None:
            time.sleep(0.2)
            fx.p.kill()
        rc = s.finish(RUN_TIMEOUT)
        err = s.err.text()
        check("target_killed_while_attached_ends_the_session",
              attached is not None and rc == 0 and "the process was killed by signal 9" in err,
              "rc %s: %s" % (rc, err))
    else:
        check("kill_fixture_ready", False, fx.err.text())


def with_tracer(sonde, plugins, pid, exe):
    """The test plugin `tracer` (ABI 1.1) sets its own breakpoint on
    main.cold, sees each hit's goroutine and stack (read through this
    toolchain's layouts), and clears it after two hits."""
    base = tempfile.mkdtemp(prefix="sonde-session-", dir="/tmp")
    try:
        os.chmod(base, 0o755)
        pdir = os.path.join(base, "plugins")
        os.mkdir(pdir, 0o755)
        for name in ("tracer", "recorder"):
            shutil.copy(os.path.join(plugins, name + ".so"), pdir)
            os.chmod(os.path.join(pdir, name + ".so"), 0o644)
        log = os.path.join(base, "tracer.log")
        ini = os.path.join(base, "sonde.ini")
        with open(ini, "w") as f:
            f.write("[host]\nplugin_dir = plugins\nindex = plugins.yaml\n\n"
                    "[tracer]\nlog = %s\nbreak = main.cold\nclear_after = 2\n" % log)
        cfg = ["--config", ini]
        rc, out, err = run([sonde, "index", "update"] + cfg + [os.path.join(pdir, "tracer.so"),
                                                              os.path.join(pdir, "recorder.so")])
        if rc != 0:
            check("tracer_indexed", False, err)
            return
        rc, out, err = run([sonde, "attach", "-p", str(pid), "--plugin", "tracer", "-d", "0.8", "-q"] + cfg)
        with open(log) as f:
            lines = f.read().splitlines()
        hits = [l for l in lines if l.startswith("hit ")]
        check("plugin_breakpoint_hit_sees_its_goroutine_and_stack",
              rc == 0 and len(hits) == 2 and
              all("own=1" in h and "top=main.cold" in h and re.search(r"caller=main\.main\.func\d+$", h) and
                  h.split(" goroutine=")[1].split()[0] == h.split("hit_goroutine=")[1].split()[0] for h in hits),
              "rc %s: %s\n%s" % (rc, err, "\n".join(lines)))
        cleared = [l for l in lines if l.startswith("cleared")]
        ok = len(cleared) == 1 and lines[-1] == cleared[0]
        if ok:
            pc = int(cleared[0].split("pc=")[1], 16)
            ok = mem_byte(pid, pc) == file_byte(exe, pc)
        check("plugin_clears_its_breakpoint_and_the_byte_is_back", ok, "\n".join(lines))
        rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "main.cold", "-n", "1", "--on-hit", "tracer top"] +
                           cfg)
        check("on_hit_command_gets_the_hitting_goroutines_stack",
              rc == 0 and "  main.cold " in out and re.search(r"^  main\.main\.func\d+ ", out, re.M), out + err)
        rc, out, err = run([sonde, "attach", "-p", str(pid), "--every", "200ms", "recorder record", "--runs", "3"] + cfg)
        runs = re.findall(r"^(\d+) goroutines$", out, re.M)
        check("every_runs_a_command_with_the_goroutine_snapshot",
              rc == 0 and len(runs) == 3 and out.count("goroutine 1 [") == 3, out + err)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main():
    if len(sys.argv) not in (4, 5):
        print("usage: session_e2e.py SONDE FIXTURE SOURCE [TEST_PLUGIN_DIR]", file=sys.stderr)
        return 2
    sonde, fixture, source = sys.argv[1], sys.argv[2], sys.argv[3]
    plugins = sys.argv[4] if len(sys.argv) == 5 else None
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)
    body, comment = source_lines(source)
    exe = os.path.realpath(fixture)
    started = []  # every Proc, killed in the finally
    programs = []  # pids of programs sonde exec started
    fx = Proc([fixture])
    started.append(fx)
    try:
        _, m = fx.out.wait_for(r"^READY (\d+)$")
        if not m:
            check("fixture_ready", False, fx.out.text() + fx.err.text())
            return 1
        pid = fx.p.pid

        def after(name, stderr):
            """The target runs on, untouched: no thread stopped or traced, and
            every breakpoint address holds the executable file's byte."""
            if fx.p.poll() is not None:
                check(name + "_leaves_target_clean", False,
                      "the fixture died (exit %d): %s" % (fx.p.returncode, fx.err.text()[-1500:]))
                raise SystemExit(1)
            probs = thread_problems(pid)
            addrs = addrs_in(stderr)
            if not addrs:
                probs.append("no breakpoint address in sonde's output")
            for a in addrs:
                # non-PIE Go: the runtime address is the link-time address
                if mem_byte(pid, a) != file_byte(exe, a):
                    probs.append("the code byte at 0x%x is 0x%02x, not the file's 0x%02x" %
                                 (a, mem_byte(pid, a), file_byte(exe, a)))
            check(name + "_leaves_target_clean", not probs, "; ".join(probs))

        def untouched(name):
            probs = thread_problems(pid) if fx.p.poll() is None else ["the fixture died"]
            check(name + "_leaves_target_running", not probs, "; ".join(probs))

        # FILE:LINE on the body of an inlined function: one place per copy.
        spec = "main.go:%d" % body
        rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", spec, "-n", "6"])
        m = re.search(r"^sonde: breakpoint 1 at %s: (\d+) places$" % re.escape(spec), err, re.M)
        places = re.findall(r"^sonde:\s+0x[0-9a-f]+ in (main\.via[AB]) \(inlined\)$", err, re.M)
        hits = re.findall(r"^hit (\d+): %s in (main\.via[AB]) \(inlined\) goroutine (\d+) thread (\d+)$" %
                          re.escape(spec), out, re.M)
        check("file_line_breakpoint_hits_every_inlined_copy",
              rc == 0 and m and int(m.group(1)) >= 2 and {"main.viaA", "main.viaB"} <= set(places) and
              len(hits) == 6 and {f for _, f, _, _ in hits} == {"main.viaA", "main.viaB"} and
              all(int(g) > 0 for _, _, g, _ in hits),
              "rc %s, %d hits:\n%s%s" % (rc, len(hits), out, err))
        after("file_line", err)

        rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "main.go:%d" % comment, "-n", "1"])
        check("file_line_with_no_code_is_a_usage_error",
              rc == 2 and "no code at" in err and "nearest" in err and not out, "rc %s: %s%s" % (rc, out, err))
        untouched("no_code")

        rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "nosuch.go:3", "-n", "1"])
        check("unknown_file_is_a_usage_error", rc == 2 and "nosuch.go" in err and not out,
              "rc %s: %s%s" % (rc, out, err))
        untouched("unknown_file")

        # --nth 3 -n 2: hits 1 and 4 are reported, and the count stops at the
        # 2nd report: exactly 4 hits.
        rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "main.cold", "--nth", "3", "-n", "2", "-q"])
        m = re.search(r"count reached after [\d.]+ s: (\d+) hits? \((\d+) reported\)", err)
        check("nth_reports_every_nth_hit", rc == 0 and m and (m.group(1), m.group(2)) == ("4", "2") and not out,
              "rc %s: %s%s" % (rc, out, err))
        after("nth", err)

        # A goroutine that never calls main.hot: every hit is passed on, none
        # reported, and (sonde emulates main.hot's first instruction on every
        # toolchain: MOVQ AX, CX or MOVL $1, CX) without stopping any other
        # thread. Counts, not timing.
        rc, out, err = run([sonde, "attach", "-p", str(pid), "-b", "main.hot", "--goid", "999999999", "-d", "0.5",
                            "-q"])
        m = re.search(r"duration reached after [\d.]+ s: (\d+) hits? \((\d+) reported\)"
                      r"(?:, (\d+) without stopping other threads)?", err)
        hits, alone = (int(m.group(1)), int(m.group(3) or 0)) if m else (0, 0)
        check("goid_miss_reports_nothing_and_passes_every_hit_on",
              rc == 0 and m and m.group(2) == "0" and hits > 200 and not out,
              "rc %s: %s%s" % (rc, out, err))
        check("goid_miss_stops_no_other_thread", hits > 0 and alone == hits, err)
        after("goid_miss", err)

        if plugins:
            with_tracer(sonde, plugins, pid, exe)
            untouched("tracer")
        situations(sonde, fixture, started)

        # sonde exec: main.main hits before the program prints anything;
        # SIGTERM to sonde reaches the program; its status is sonde's.
        ex = Proc([sonde, "exec", "-b", "main.main", "-n", "1", "--", fixture])
        started.append(ex)
        hit_at, hit = ex.out.wait_for(r"^hit 1: main\.main goroutine (\d+) thread \d+$")
        ready_at, ready = ex.out.wait_for(r"^READY (\d+)$")
        if ready:
            programs.append(int(ready.group(1)))
        _, waiting = ex.err.wait_for(r"^sonde: waiting for .* \(pid \d+\) to exit$")
        check("exec_breaks_before_main",
              hit and ready and hit_at < ready_at and hit.group(1) == "1" and waiting,
              "stdout:\n%s\nstderr:\n%s" % (ex.out.text(), ex.err.text()))
        ex.p.send_signal(signal.SIGTERM)
        rc = ex.finish()
        out = ex.out.text()
        check("exec_passes_sigterm_on_and_returns_the_program_status",
              rc == 0 and re.search(r"^calls=\d+ wrong=0 churned=\d+$", out, re.M) and
              not (ready and is_fixture(int(ready.group(1)), exe)),
              "rc %s:\n%s%s" % (rc, out, ex.err.text()))

        rc, out, err = run([sonde, "exec", "-b", "main.main", "--", fixture, "-exit", "7"])
        check("exec_returns_the_program_exit_status",
              rc == 7 and "the process exited (status 7)" in err and "EXITING" in out,
              "rc %s: %s%s" % (rc, out, err))

        rc, out, err = run([sonde, "exec", "-b", "main.main", "--", "/bin/true"])
        rc2, out2, err2 = run([sonde, "exec", "-b", "main.main", "--", "/nonexistent"])
        check("exec_refuses_a_non_go_program",
              rc == 5 and "not a Go program" in err and rc2 == 2 and "/nonexistent" in err2,
              "/bin/true: rc %s: %s%s; /nonexistent: rc %s: %s%s" % (rc, out, err, rc2, out2, err2))

        # SIGINT ends an exec session: the breakpoints go, the program runs
        # on untraced, and sonde waits for it.
        ex = Proc([sonde, "exec", "-b", "main.hot", "-q", "--", fixture])
        started.append(ex)
        # READY comes after 10,000 calls of main.hot, each a reported hit
        _, ready = ex.out.wait_for(r"^READY (\d+)$", timeout=120)
        prog = int(ready.group(1)) if ready else None
        if prog:
            programs.append(prog)
        time.sleep(0.5)  # hits are flowing
        ex.p.send_signal(signal.SIGINT)
        _, waiting = ex.err.wait_for(r"^sonde: waiting for .* \(pid \d+\) to exit$")
        probs = []
        if not (prog and waiting):
            probs.append("no READY or no 'waiting for'")
        elif not is_fixture(prog, exe):
            probs.append("the program is gone")
        else:
            time.sleep(0.2)
            probs += thread_problems(prog)
            for a in addrs_in(ex.err.text()):
                if mem_byte(prog, a) != file_byte(exe, a):
                    probs.append("the code byte at 0x%x is not the file's" % a)
            if ex.p.poll() is not None:
                probs.append("sonde exited (%s) before the program" % ex.p.returncode)
        check("exec_sigint_detaches_and_the_program_runs_on",
              not probs and re.search(r"^sonde: interrupted after .*; detached$", ex.err.text(), re.M),
              "; ".join(probs) + "\nstdout:\n%s\nstderr:\n%s" % (ex.out.text(), ex.err.text()))
        ex.p.send_signal(signal.SIGTERM)
        rc = ex.finish()
        check("exec_sigint_then_sigterm_ends_the_program_cleanly",
              rc == 0 and re.search(r"^calls=\d+ wrong=0 churned=\d+$", ex.out.text(), re.M),
              "rc %s:\n%s%s" % (rc, ex.out.text(), ex.err.text()))

        time.sleep(0.3)
        fx.p.send_signal(signal.SIGTERM)
        rc = fx.finish()
        out = fx.out.text()
        m = re.search(r"calls=(\d+) wrong=(\d+)", out)
        check("target_computed_every_result_correctly", rc == 0 and m and m.group(2) == "0",
              "rc %s: %s %s" % (rc, out, fx.err.text()[-500:]))
    finally:
        for p in started:
            p.kill()
        for prog in programs:
            kill_program(prog, exe)
    failed = sum(1 for _, ok in results if not ok)
    print("session: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
