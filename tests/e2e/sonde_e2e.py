"""sonde_e2e.py: the scaffolding every end-to-end test shares, in one place.

- check(name, ok, detail) prints one line per check ("ok   NAME" or
  "FAIL NAME: detail") and keeps the tally in results (failed() names the
  failures);
- is_int(v): a JSON integer (not a bool);
- wait_stderr(p, text): waits on what sonde says, never on a fixed delay;
- StdinFixture: a Go fixture driven line by line through its standard input
  (tests/fixtures/phases, tests/fixtures/grow): it says "READY <pid>" when it
  starts and answers each command with one line;
- Watchdog: bounds a step that waits on other processes; when it fires it
  prints what each of them was doing and kills them, so that a hang fails
  with its cause in seconds instead of running into ctest's timeout.
Starting, readiness and health checks of the agreement fixture
(start_fixture, wait_ready, stop_fixture, thread_states, check_unharmed)
live in agree.py, which the other tests import for them.
"""
import json
import os
import select
import subprocess
import threading
import time

results = []


def check(name, ok, detail=""):
    ok = bool(ok)
    results.append((name, ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)
    return ok


def failed():
    """The names of the checks that failed so far."""
    return [n for n, ok in results if not ok]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def wait_stderr(p, text, timeout=60):
    """Reads p's standard error until it holds text (or timeout seconds
    pass); what this call read. Waiting on what sonde says, never on a fixed
    delay: starting takes longer on a loaded machine. Reads the pipe itself
    (os.read), not through p.stderr's buffer: a line already in that buffer
    is invisible to select(), which then waited out the whole timeout
    whenever two lines came in one read (60 s of CI time, session 7)."""
    fd = p.stderr.fileno()
    got = getattr(p, "_e2e_stderr", b"")  # what earlier calls read (and returned), searched from _e2e_from
    start, returned = getattr(p, "_e2e_from", 0), len(got)
    want = text.encode()
    deadline = time.monotonic() + timeout
    while want not in got[start:]:
        r, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(fd, 65536) if r else b""
        if not chunk:
            break
        got += chunk
    i = got.find(want, start)
    p._e2e_stderr, p._e2e_from = got, (i + len(want) if i >= 0 else len(got))
    return got[returned:].decode(errors="replace")


class StdinFixture:
    def __init__(self, path, tmp, command_timeout=60):
        self.command_timeout = command_timeout
        self.stderr = open(os.path.join(tmp, "fixture.stderr"), "w")
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, bufsize=1)
        self.pending = b""
        line = self.read_line(30)
        if not line.startswith("READY "):
            raise RuntimeError("fixture said %r instead of READY <pid>" % line)
        self.pid = int(line.split()[1])

    def read_line(self, timeout):
        """The fixture's next line, read from the pipe itself (see
        wait_stderr: select() does not see what a file object buffered)."""
        fd, deadline = self.proc.stdout.fileno(), time.monotonic() + timeout
        while b"\n" not in self.pending:
            r, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            if not r:
                return "(nothing within %.0f s)" % timeout
            chunk = os.read(fd, 65536)
            if not chunk:
                return self.pending.decode(errors="replace").strip() or "(end of output: exit %r)" % self.proc.poll()
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode(errors="replace").strip()

    def command(self, cmd):
        """Sends cmd; the fixture's one-line answer."""
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.read_line(self.command_timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def _proc_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def describe_process(pid):
    """One line per thread of pid: its state and the kernel function it
    sleeps in; for a thread of sonde, its kernel stack too (root only)."""
    out = []
    try:
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return ["  process %d: gone" % pid]
    for tid in tids[:64]:
        base = "/proc/%d/task/%d/" % (pid, tid)
        stat = _proc_text(base + "stat")
        state = stat[stat.rfind(")") + 2:].split(" ", 1)[0] if ")" in stat else "?"
        out.append("  thread %d: state %s, wchan %s, %s" % (tid, state, _proc_text(base + "wchan"),
                                                          _proc_text(base + "comm")))
    return out


class Watchdog:
    """with Watchdog(seconds, what, name=process, ...) as w: bounds a step
    that waits on other processes (w.watch(name, process) adds one later).
    If the step is not over in time, it prints each process's threads (state,
    wait channel) and kills the processes: whatever waited on them returns,
    and w.fired says why."""

    def __init__(self, seconds, what, **procs):
        self.seconds, self.what, self.procs, self.fired = seconds, what, dict(procs), False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def watch(self, name, proc):
        self.procs[name] = proc

    def _fire(self):
        self.fired = True
        lines = ["WATCHDOG %s: not done after %.0f s; what each process was doing:" % (self.what, self.seconds)]
        for name, p in self.procs.items():
            if p.poll() is None:
                lines.append(" %s (pid %d):" % (name, p.pid))
                lines += describe_process(p.pid)
            else:
                lines.append(" %s (pid %d): exited %r" % (name, p.pid, p.returncode))
        print("\n".join(lines), flush=True)
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        return False


def documents(text):
    """The JSON documents one after another in text (a session prints one
    per plugin command run)."""
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = dec.raw_decode(text, i)
        out.append(doc)
