#!/usr/bin/env python3
"""attach_e2e.py SONDE FIXTURE: `sonde attach` with breakpoints on a live Go
process (tests/fixtures/hot: workers call main.hot in a tight loop and check
every result), for one toolchain and build.

Checks: hits are reported with the hitting goroutine; --count, --duration,
--goid, SIGINT, SIGTERM and SIGHUP each end the session; after every session the
breakpoint byte is gone from the target's code (it equals the executable
file's byte), no thread is stopped or traced, and in the end the fixture has
computed every result correctly (it exits 0 with wrong=0 on SIGTERM).
"""
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import check, results  # noqa: E402


def wait_attached(p, timeout=60):
    """Reads p's standard error until sonde says it attached (or timeout
    seconds pass); the lines read."""
    lines = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        r, _, _ = select.select([p.stderr], [], [], max(left, 0))
        line = p.stderr.readline() if r else ""
        if not line:
            return "".join(lines)
        lines.append(line)
        if "attached to" in line:
            return "".join(lines)



def file_byte(exe, vaddr):
    """The byte of the ELF file that is mapped at link-time address vaddr."""
    with open(exe, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr, _pa, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= vaddr < p_vaddr + p_filesz:
            return data[p_offset + vaddr - p_vaddr]
    return None


def mem_byte(pid, addr):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(1)[0]


def thread_problems(pid):
    bad = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                st = dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)
        except OSError:
            continue
        if st.get("State", "?")[:1] in "tT" or st.get("TracerPid", "0").strip() != "0":
            bad.append("thread %s: %s, tracer %s" % (tid, st.get("State"), st.get("TracerPid")))
    return bad


def main():
    sonde, fixture = sys.argv[1], sys.argv[2]
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)
    fx = subprocess.Popen([fixture], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = fx.stdout.readline()
        if not line.startswith("READY"):
            check("fixture_ready", False, line + fx.stderr.read())
            return 1
        pid = fx.pid
        exe = os.path.realpath("/proc/%d/exe" % pid)
        addr = None

        def after(name):
            nonlocal addr
            if fx.poll() is not None:
                check(name + "_leaves_target_clean", False,
                      "the fixture died (exit %d): %s" % (fx.returncode, fx.stderr.read()[:1500]))
                raise SystemExit(1)
            probs = thread_problems(pid)
            if addr is not None:
                # non-PIE Go: the runtime address is the link-time address
                if mem_byte(pid, addr) != file_byte(exe, addr):
                    probs.append("the code byte at 0x%x is not the file's (0x%02x)" % (addr, mem_byte(pid, addr)))
            check(name + "_leaves_target_clean", not probs, "; ".join(probs))

        p = subprocess.run([sonde, "attach", "-p", str(pid), "-b", "main.hot", "-n", "20"],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"breakpoint \d+ at main\.hot \(0x([0-9a-f]+)\)", p.stderr)
        addr = int(m.group(1), 16) if m else None
        hits = re.findall(r"^hit (\d+): main\.hot goroutine (\d+) thread (\d+)$", p.stdout, re.M)
        check("count_20_hits", p.returncode == 0 and len(hits) == 20 and "count reached" in p.stderr,
              "rc %d, %d hits: %s" % (p.returncode, len(hits), p.stderr))
        check("hits_name_a_goroutine", hits and all(int(g) > 0 for _, g, _ in hits), p.stdout[:300])
        after("count")

        if hits:
            goid = hits[-1][1]
            p = subprocess.run([sonde, "attach", "-p", str(pid), "-b", "main.hot", "--goid", goid, "-n", "5"],
                               capture_output=True, text=True, timeout=120)
            gs = re.findall(r"goroutine (\d+)", p.stdout)
            check("goid_condition_reports_only_that_goroutine", p.returncode == 0 and len(gs) == 5 and
                  set(gs) == {goid}, p.stdout + p.stderr)
            after("goid")

        p = subprocess.run([sonde, "attach", "-p", str(pid), "-b", "main.hot", "-b", "main.cold", "-d", "1", "-q"],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"duration reached after [\d.]+ s: (\d+) hits", p.stderr)
        check("duration_ends_the_session", p.returncode == 0 and m and int(m.group(1)) > 0, p.stderr)
        after("duration")

        for sig, want in ((signal.SIGINT, (0,)), (signal.SIGTERM, (-signal.SIGTERM, 128 + signal.SIGTERM)),
                          (signal.SIGHUP, (-signal.SIGHUP, 128 + signal.SIGHUP))):
            s = subprocess.Popen([sonde, "attach", "-p", str(pid), "-b", "main.hot", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            # once sonde says it is attached (a fixed delay raced its start
            # on a loaded machine, and the signal's default action won)
            head = wait_attached(s)
            time.sleep(0.3)  # hits are flowing
            s.send_signal(sig)
            _, err = s.communicate(timeout=60)
            err = head + err
            check("%s_ends_the_session_cleanly" % sig.name, s.returncode in want and "detached" in err,
                  "rc %d: %s" % (s.returncode, err))
            after(sig.name)

        p = subprocess.run([sonde, "attach", "-p", str(pid), "-b", "main.nosuch"], capture_output=True, text=True)
        check("unknown_function_is_a_usage_error", p.returncode == 2 and "no function 'main.nosuch'" in p.stderr,
              p.stderr)

        time.sleep(0.3)
        fx.send_signal(signal.SIGTERM)
        out, err = fx.communicate(timeout=30)
        m = re.search(r"calls=(\d+) wrong=(\d+)", out)
        check("target_computed_every_result_correctly", fx.returncode == 0 and m and m.group(2) == "0",
              "rc %s: %s %s" % (fx.returncode, out, err[-500:]))
    finally:
        if fx.poll() is None:
            fx.kill()
            fx.wait()
    failed = sum(1 for _, ok in results if not ok)
    print("attach: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
