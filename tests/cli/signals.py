#!/usr/bin/env python3
"""signals.py SONDE FIXTURE: SIGINT, SIGTERM and SIGHUP sent to sonde at any
moment, including while the target is stopped, never leave the target
stopped, traced or dead; sonde ends with 0 (it had finished first) or by the
signal (128+N in a shell).

Timing cannot be chosen from outside, so each signal is sent at moments
spread over sonde's run, twelve runs per signal, against a fixture with
20,000 goroutines (a stop long enough to be hit). At least one run per signal
must have ended sonde, or the test proves nothing. Afterwards the fixture
must still answer an HTTP request.

Written in Python, not shell: subprocess.Popen returns only once sonde has
exec'd, so the signal always reaches sonde itself. A shell's `sonde & kill`
can hit the forked shell before exec, where SIGINT is ignored and a trapped
signal runs the script's own EXIT trap in the child.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import agree  # noqa: E402  (fixture start, readiness and health checks)

EXTRA = 20000
RUNS = 12
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main() -> int:
    sonde, fixture = sys.argv[1], sys.argv[2]
    # A signal ignored here would be ignored in sonde too (exec keeps SIG_IGN),
    # and the test would prove nothing.
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    workdir = tempfile.mkdtemp(prefix="sonde-signals-")
    proc = None
    fails = []
    try:
        proc, _dump, port_file = agree.start_fixture(fixture, workdir, EXTRA, "")
        pid = agree.wait_ready(proc, workdir, 120)
        with open(port_file) as f:
            port = int(f.read().strip())
        for sig in SIGNALS:
            ended = 0
            for i in range(1, RUNS + 1):
                delay = (i * 5 % 10) / 100 + (i % 10) / 1000  # 0..55 ms, spread over the run
                s = subprocess.Popen([sonde, "goroutines", "-p", str(pid)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(delay)
                s.send_signal(sig)
                _, err = s.communicate(timeout=120)
                rc = s.returncode
                if rc in (-sig, 128 + sig):
                    ended += 1
                elif rc != 0:
                    fails.append(f"{sig.name} run {i}: sonde exit {rc}: {err.decode(errors='replace').strip()}")
                problems = agree.thread_states(pid)
                if proc.poll() is not None:
                    problems.append(f"the fixture died: {agree.exit_reason(proc.returncode)}")
                for p in problems:
                    fails.append(f"{sig.name} run {i} (signal after {delay * 1000:.0f} ms): {p}")
                if proc.poll() is not None:
                    break
            if ended == 0:
                fails.append(f"{sig.name}: no run ended sonde by the signal; every run finished first, "
                             "so the test proved nothing")
            print(f"{sig.name}: {RUNS} runs, {ended} ended by the signal")
            if proc.poll() is not None:
                break
        fails += agree.check_unharmed(proc, port)
    except agree.SetupError as e:
        print(f"signals: setup failed: {e}")
        return 2
    finally:
        agree.stop_fixture(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    for f in fails:
        print("FAIL", f)
    print(f"signals: {len(SIGNALS) * RUNS} runs, {len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
