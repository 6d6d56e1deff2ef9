#!/usr/bin/env python3
"""kill_matrix.py SONDE FIXTURE [REPS]: the target is never harmed by what
happens to sonde (issue 22). With a breakpoint on main.hot hit thousands of
times a second (tests/fixtures/hot), sonde is ended again and again:
`| head -2` (SIGPIPE, then EPIPE), SIGUSR1, SIGTERM, SIGHUP, SIGINT, SIGSEGV
(the emergency release), each REPS times, plus SIGUSR2, SIGALRM and a
realtime signal once each. After every run: the target is alive, its whole
.text equals the executable file's (no int3 left), no thread is stopped or
traced, and sonde ended as documented (README "What happens to the target").
In the end the fixture has computed every result correctly (exit 0, wrong=0):
a thread rewound when it should not have been, or not when it should, shows.
"""
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    if not ok:
        print("FAIL " + name + ": " + detail)
    return ok


def text_section(exe):
    """(vaddr, bytes) of the ELF file's .text."""
    with open(exe, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def sh(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    stroff = sh(shstrndx)[4]
    for i in range(shnum):
        name, _t, _fl, addr, off, size = sh(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".text":
            return addr, data[off:off + size]
    raise SystemExit("no .text in " + exe)


def target_problems(fx, pid, text):
    if fx.poll() is not None:
        return ["the target died (status %d): %s" % (fx.returncode, fx.stderr.read()[:1500])]
    probs = []
    # the tracer's exit detaches asynchronously: give the kernel a moment
    for _ in range(50):
        probs = []
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    st = dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)
            except OSError:
                continue
            if st.get("State", "?")[:1] in "tT" or st.get("TracerPid", "0").strip() != "0":
                probs.append("thread %s: %s, tracer %s" % (tid, st.get("State"), st.get("TracerPid")))
        if not probs:
            break
        time.sleep(0.02)
    addr, want = text
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        got = f.read(len(want))
    if got != want:
        diff = [addr + i for i in range(len(want)) if got[i] != want[i]]
        probs.append("%d text bytes differ from the file, first at 0x%x (0x%02x)" % (len(diff), diff[0], got[diff[0] - addr]))
    return probs


def wait_for(path, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if what in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


def run_signal(sonde, pid, sig, tmp):
    """sonde attach with hits flowing, then sig: (status, stderr, hits)."""
    out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
    with open(out, "w") as o, open(err, "w") as e:
        p = subprocess.Popen([sonde, "attach", "-p", str(pid), "-b", "main.hot"], stdout=o, stderr=e)
    if not wait_for(err, "breakpoint 1 at") or not wait_for(out, "hit 3:"):
        p.kill()
        p.wait()
        return None, open(err).read(), 0
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "hung"
    with open(out) as f:
        hits = sum(1 for l in f if l.startswith("hit "))
    return rc, open(err).read(), hits


def run_head(sonde, pid):
    p = subprocess.run(["bash", "-c", '"$0" attach -p "$1" -b main.hot | head -2; exit "${PIPESTATUS[0]}"', sonde,
                        str(pid)], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr, p.stdout.count("hit ")


def main():
    sonde, fixture = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    fx = subprocess.Popen([fixture], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tmp = tempfile.mkdtemp(prefix="sonde-kill-")
    t0 = time.monotonic()
    try:
        line = fx.stdout.readline()
        if not line.startswith("READY"):
            check("fixture_ready", False, line + fx.stderr.read())
            return 1
        pid = fx.pid
        text = text_section(os.path.realpath("/proc/%d/exe" % pid))
        # (case, run, expected status, stderr must say)
        cases = [("head_2", None, (14,), "the output was closed"),
                 ("sigusr1", signal.SIGUSR1, (-signal.SIGUSR1,), "ended by a signal"),
                 ("sigterm", signal.SIGTERM, (-signal.SIGTERM,), "ended by a signal"),
                 ("sighup", signal.SIGHUP, (-signal.SIGHUP,), "ended by a signal"),
                 ("sigint", signal.SIGINT, (0,), "interrupted"),
                 ("sigsegv", signal.SIGSEGV, (-signal.SIGSEGV,), "")]
        once = [("sigusr2", signal.SIGUSR2, (-signal.SIGUSR2,), "ended by a signal"),
                ("sigalrm_sent", signal.SIGALRM, (-signal.SIGALRM,), "ended by a signal"),
                ("sigrtmin_plus_3", signal.SIGRTMIN + 3, (-(signal.SIGRTMIN + 3),), "ended by a signal")]
        plan = [(c, s, w, y, reps) for c, s, w, y in cases] + [(c, s, w, y, 1) for c, s, w, y in once]
        for name, sig, want, says, n in plan:
            ok = 0
            for i in range(n):
                rc, err, hits = run_head(sonde, pid) if sig is None else run_signal(sonde, pid, sig, tmp)
                probs = target_problems(fx, pid, text)
                good = check("%s_run%d_target_unharmed" % (name, i), not probs, "; ".join(probs))
                good &= check("%s_run%d_sonde_ends_as_documented" % (name, i),
                              rc in want and says in err and hits >= 2,
                              "status %r (want %r), %d hits, stderr: %s" % (rc, want, hits, err[-600:]))
                ok += good
                if fx.poll() is not None:
                    return 1
            print("%-16s %d/%d runs: target alive, text intact, no thread stopped; sonde ended as documented"
                  % (name, ok, n))
        fx.send_signal(signal.SIGTERM)
        out, err = fx.communicate(timeout=30)
        check("fixture_computed_every_result_correctly", fx.returncode == 0 and "wrong=0" in out,
              "exit %d: %s %s" % (fx.returncode, out, err[:1500]))
    finally:
        if fx.poll() is None:
            fx.kill()
            fx.wait()
    failed = [n for n, ok in results if not ok]
    print("%d checks, %d failed, %.1f s" % (len(results), len(failed), time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
