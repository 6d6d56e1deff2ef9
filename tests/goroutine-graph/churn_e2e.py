#!/usr/bin/env python3
"""churn_e2e.py SONDE CHURN_FIXTURE [RUNS] [--runtime] [--stress-sonde SONDE2]: no false leaks on a busy process (issue 23).

CHURN_FIXTURE (tests/fixtures/churn) keeps thousands of goroutines blocking
and waking on every primitive the leak analysis judges, and leaks nothing.
One `sonde attach --every 10ms 'goroutine-graph leaks --json' --runs N`
session checks it N times in a row (RUNS, default 200), with GOMAXPROCS=1
and with GOMAXPROCS=2. Checks:
- every one of the N checks ran and decided (a JSON document each, complete:
  no "cannot decide" run) and reported no goroutine; the session exits 0
  and its summary says how often and how long the process was stopped;
- `churn -leak` (one real leak, main.leaker): N/8 checks, main.leaker is
  the only goroutine reported in every one, and the session exits 13;
- with --runtime, where Go has the goroutineleak profile (1.27): the
  runtime's own detector (the same for every build mode: tests/CMakeLists.txt
  asks for it with the DWARF build only),
  run 20 times on the same churn, reports nothing, and finds main.leaker
  with -leak (a cross-check that the fixture leaks nothing else);
- the fixture is unharmed afterwards: alive, no thread stopped or traced.
With --stress-sonde, SONDE2 runs the long no-leak sessions (2 x RUNS
checks) and SONDE the -leak ones: scripts/test.sh passes a build without
sanitizers as SONDE2, where AddressSanitizer would double the time of the
suite's longest tests, and keeps the sanitized SONDE on the leak search
(the deadlock-group search runs only when something leaked).
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import check, documents, results  # noqa: E402
import agree  # noqa: E402  (thread_states)

RUNTIME_RUNS = 20


def start(fixture, procs, *args):
    env = dict(os.environ, GOMAXPROCS=str(procs))
    fx = subprocess.Popen([fixture] + list(args), stdout=subprocess.PIPE, text=True, bufsize=1, env=env)
    while True:
        line = fx.stdout.readline()
        if not line:
            raise RuntimeError("churn ended before READY (exit %r)" % fx.poll())
        if line.startswith("READY "):
            return fx, int(line.split()[1])



def watch(sonde, pid, runs):
    r = subprocess.run([sonde, "attach", "-p", str(pid), "--every", "10ms", "goroutine-graph leaks --json",
                        "--runs", str(runs)], capture_output=True, text=True, timeout=300)
    try:
        docs = documents(r.stdout)
    except ValueError as e:
        docs = None
        print("unparsable output: %s" % e)
    return r, docs


def unharmed(fx, pid, what):
    alive = fx.poll() is None
    problems = agree.thread_states(pid) if alive else ["exited (%r)" % fx.poll()]
    check("%s: the fixture is alive, no thread stopped or traced afterwards" % what, not problems, repr(problems))


def undecided_lines(stderr):
    return [line for line in stderr.splitlines() if "cannot decide" in line]


def checked_session(sonde, fixture, procs, runs, leak, body):
    """Starts churn (with -leak), runs one session of `runs` checks, checks
    its exit status and that every check decided, then body(what, docs)."""
    what = "GOMAXPROCS=%d%s" % (procs, " -leak" if leak else "")
    fx, pid = start(fixture, procs, *(["-leak"] if leak else []))
    try:
        r, docs = watch(sonde, pid, runs)
        docs = docs or []
        want = 13 if leak else 0
        check("%s: the session exits %d (%s)" % (what, want, "leaks found" if leak else "no leak in any check"),
              r.returncode == want, "%d: %s" % (r.returncode, r.stderr[-2000:]))
        und = undecided_lines(r.stderr)
        check("%s: all %d checks decided" % (what, runs), len(docs) == runs and not und,
              "%d documents; %d undecided: %s" % (len(docs), len(und), und[:3]))
        body(what, r, docs)
        unharmed(fx, pid, what)
    finally:
        fx.kill()
        fx.wait()


def clean(what, r, docs):
    bad = [(i, [(g["id"], g["frames"][0]["function"] if g["frames"] else "?") for g in d["goroutines"]])
           for i, d in enumerate(docs) if d["leaked"] or d["goroutines"] or not d["complete"]]
    check("%s: no goroutine reported leaked in %d checks in a row" % (what, len(docs)), docs and not bad,
          "%d checks reported: %r" % (len(bad), bad[:5]))
    parked = [d["parked"] for d in docs]
    check("%s: the checks saw the churn (hundreds parked each time)" % what, parked and min(parked) >= 100,
          "parked %r" % parked[:10])
    m = re.search(r"process stopped (\d+) times?, ([0-9.]+) ms in all \(longest ([0-9.]+) ms\)", r.stderr)
    check("%s: the summary says how often and how long the process was stopped" % what,
          m and int(m.group(1)) >= len(docs), r.stderr[-400:])


def one_leak(what, r, docs):
    got = [sorted(g["frames"][0]["function"] if g["frames"] else "?" for g in d["goroutines"]) for d in docs]
    wrong = [(i, g) for i, g in enumerate(got) if g != ["main.leaker"]]
    check("%s: main.leaker, and only it, reported in every check" % what, docs and not wrong,
          "%d checks differ: %r" % (len(wrong), wrong[:5]))


def runtime_detector(fixture, *args):
    """The goroutineleak profile's reports: (available, {function, ...})."""
    r = subprocess.run([fixture, "-runtime", str(RUNTIME_RUNS)] + list(args), capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, GOMAXPROCS="2"))
    lines = r.stdout.splitlines()
    if r.returncode != 0 or not lines or lines[-1] not in ("PROFILE yes", "PROFILE no"):
        raise RuntimeError("churn -runtime: exit %d: %s %s" % (r.returncode, r.stdout[-400:], r.stderr[-400:]))
    found = [line.split() for line in lines if line.startswith("RUNTIME ")]
    return lines[-1] == "PROFILE yes", found


def main():
    args, stress = [], None
    argv = iter(sys.argv[1:])
    for a in argv:
        if a == "--stress-sonde":
            stress = next(argv, None)
            if not stress:
                print(__doc__)
                return 2
        elif a != "--runtime":
            args.append(a)
    if len(args) not in (2, 3):
        print(__doc__)
        return 2
    sonde, fixture = args[0], args[1]
    runs = int(args[2]) if len(args) == 3 else 200
    for procs in (1, 2):
        checked_session(stress or sonde, fixture, procs, runs, False, clean)
        checked_session(sonde, fixture, procs, max(runs // 8, 1), True, one_leak)
    have, found = runtime_detector(fixture) if "--runtime" in sys.argv else (True, None)
    if not have:
        print("skip the runtime's goroutineleak profile: this Go has none")
    elif found is not None:
        check("runtime detector: %d runs on churn report nothing" % RUNTIME_RUNS, not found, repr(found[:5]))
        _, found = runtime_detector(fixture, "-leak")
        runs_found = {f[1] for f in found if f[3] == "main.leaker"}
        check("runtime detector: finds main.leaker in all %d runs with -leak, nothing else" % RUNTIME_RUNS,
              len(runs_found) == RUNTIME_RUNS and all(f[3] == "main.leaker" for f in found), repr(found[:5]))
    bad = [n for n, ok in results if not ok]
    print("%d checks, %d failed" % (len(results), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        print("cannot run: %s" % e)
        sys.exit(2)
