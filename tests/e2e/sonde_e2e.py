"""sonde_e2e.py: the scaffolding every end-to-end test shares, in one place.

- check(name, ok, detail) prints one line per check ("ok   NAME" or
  "FAIL NAME: detail") and keeps the tally in results (failed() names the
  failures);
- is_int(v): a JSON integer (not a bool);
- wait_stderr(p, text): waits on what sonde says, never on a fixed delay;
- StdinFixture: a Go fixture driven line by line through its standard input
  (tests/fixtures/phases, tests/fixtures/grow): it says "READY <pid>" when it
  starts and answers each command with one line.
Starting, readiness and health checks of the agreement fixture
(start_fixture, wait_ready, stop_fixture, thread_states, check_unharmed)
live in agree.py, which the other tests import for them.
"""
import json
import os
import select
import subprocess
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
    """Reads p's standard error until a line holds text (or timeout seconds
    pass); the lines read. Waiting on what sonde says, never on a fixed
    delay: starting takes longer on a loaded machine."""
    lines = []
    deadline = time.monotonic() + timeout
    while True:
        r, _, _ = select.select([p.stderr], [], [], max(deadline - time.monotonic(), 0))
        line = p.stderr.readline() if r else ""
        if not line:
            return "".join(lines)
        lines.append(line)
        if text in line:
            return "".join(lines)


class StdinFixture:
    def __init__(self, path, tmp, command_timeout=60):
        self.command_timeout = command_timeout
        self.stderr = open(os.path.join(tmp, "fixture.stderr"), "w")
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, bufsize=1)
        line = self.read_line(30)
        if not line.startswith("READY "):
            raise RuntimeError("fixture said %r instead of READY <pid>" % line)
        self.pid = int(line.split()[1])

    def read_line(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return "(nothing within %.0f s)" % timeout
        return self.proc.stdout.readline().strip() or "(end of output: exit %r)" % self.proc.poll()

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
