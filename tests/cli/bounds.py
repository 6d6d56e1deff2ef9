#!/usr/bin/env python3
"""bounds.py SONDE AGREE_FIXTURE GO GOCACHE: target data that lies is refused
with a message, and what is merely big is read (issue 22, bounds on target
data).

On a live agreement fixture (with its symbol table), stopped with SIGSTOP,
runtime.allglen is overwritten through /proc/PID/mem, sonde goroutines runs,
and the value is put back:
- allglen = cap(allgs): the entries past len are nil, not goroutines: refused
  ("cannot be read or are not goroutines");
- allglen = cap(allgs) + 1: disagrees with runtime.allgs: refused;
- allglen = 9,000,000: not a sane number: refused;
each with exit status 8 (corrupt target data), and the target afterwards
runs, untraced, and is read normally.

tests/cli/bigstack (built here with GO): one goroutine with a 98 MB stack
(Go lets a stack grow to 1 GB): sonde reads it, in pieces, and prints its
frames, where it used to refuse the whole dump ("refusing a 98304000-byte
read").
"""
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import agree  # noqa: E402

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))


def symbol(binary, name):
    out = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        w = line.split()
        if len(w) == 3 and w[2] == name:
            return int(w[0], 16)
    raise agree.SetupError("no symbol %s in %s" % (name, binary))


def peek(pid, addr, n):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(n)


def poke(pid, addr, data):
    with open("/proc/%d/mem" % pid, "r+b") as f:
        f.seek(addr)
        f.write(data)


def run(sonde, args):
    p = subprocess.run([sonde] + args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def corrupt_allglen(sonde, fixture, work):
    proc, _dump, _port = agree.start_fixture(fixture, work, 300, "")
    try:
        pid = agree.wait_ready(proc, work, 120)
        allglen = symbol(fixture, "runtime.allglen")
        allgs = symbol(fixture, "runtime.allgs")
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.1)
        try:
            real = peek(pid, allglen, 8)
            ptr, length, cap = struct.unpack("<QQQ", peek(pid, allgs, 24))
            if cap - length <= 80:
                raise agree.SetupError("allgs has len %d cap %d: too little room past len for the test" % (length, cap))
            cases = [
                ("allglen_past_len_into_nil_entries_refused", cap, "cannot be read or are not goroutines"),
                ("allglen_past_cap_refused", cap + 1, "disagree with runtime.allgs"),
                ("allglen_insane_refused", 9000000, "not a sane number"),
            ]
            for name, value, words in cases:
                poke(pid, allglen, struct.pack("<Q", value))
                try:
                    rc, out, err = run(sonde, ["goroutines", "-p", str(pid)])
                finally:
                    poke(pid, allglen, real)
                check(name, rc == 8 and words in err and not out, "rc %d, stderr %r" % (rc, err[-400:]))
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.2)
        problems = agree.thread_states(pid)
        check("target_runs_untraced_after_the_refusals", proc.poll() is None and not problems, str(problems))
        rc, out, err = run(sonde, ["goroutines", "-p", str(pid)])
        check("target_read_normally_once_allglen_is_back", rc == 0 and out.count("goroutine ") >= 300, err)
    finally:
        agree.stop_fixture(proc)


def big_stack(sonde, go, cache, work):
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bigstack")
    binary = os.path.join(work, "bigstack")
    env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="-mod=mod", GOWORK="off", GOCACHE=cache,
               GOPATH=os.path.join(work, "gopath"), GOENV="off", CGO_ENABLED="0",
               XDG_CONFIG_HOME=os.path.join(work, "config"))
    b = subprocess.run([go, "build", "-buildvcs=false", "-o", binary, "."], cwd=src, env=env, capture_output=True,
                       text=True)
    if b.returncode != 0:
        raise agree.SetupError("cannot build tests/cli/bigstack: " + b.stderr)
    proc = subprocess.Popen([binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        w = line.split()
        if len(w) != 3 or w[0] != "READY":
            raise agree.SetupError("bigstack printed %r" % line)
        pid = proc.pid
        rc, out, err = run(sonde, ["goroutines", "-p", str(pid)])
        deep = [b for b in out.split("\n\n") if "main.deep" in b]
        check("goroutine_with_a_98MB_stack_is_read", rc == 0 and len(deep) == 1 and "refusing" not in err,
              "rc %d: %s" % (rc, err[-400:]))
        check("its_frames_are_printed", len(deep) == 1 and deep[0].count("main.deep(") >= 50,
              "%d main.deep frames" % (deep[0].count("main.deep(") if deep else 0))
        check("the_other_goroutines_too", rc == 0 and out.count("[chan receive]") >= 4, out[:400])
        problems = agree.thread_states(pid)
        check("bigstack_target_runs_untraced", proc.poll() is None and not problems, str(problems))
    finally:
        proc.kill()
        proc.wait()


def main():
    sonde, fixture, go, cache = sys.argv[1:5]
    work = tempfile.mkdtemp(prefix="sonde-bounds-")
    try:
        corrupt_allglen(sonde, fixture, work)
        big_stack(sonde, go, cache, work)
    except agree.SetupError as e:
        print("FAIL setup: %s" % e)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bad = [n for n, ok in results if not ok]
    print("%d checks, %d failed" % (len(results), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
