#!/usr/bin/env python3
"""agree.py: check that sonde sees a live Go process as the Go runtime does.

    agree.py --sonde PATH --fixture PATH [--extra N] [--json] [--offsets]
             [--no-json-check] [--godebug SETTINGS]

Starts the fixture (tests/fixtures/agree, built by build_fixtures.sh), which
blocks goroutines in many different ways, writes runtime.Stack(all) to a file
and prints "READY <pid>". The fixture runs with GODEBUG=tracebacklabels=1 by
default, so that Go 1.26+ put pprof labels in the dump. Then agree.py:

 1. runs `sonde goroutines -p PID` and compares its output with the runtime's
    dump, goroutine by goroutine: same ids, status, "locked to thread" and
    pprof labels, same frames (function, file, line, inlined or not) in the same
    order with the same "...N frames elided..." line, same "created by" function,
    file and line, and the same parent id where the dump shows one (Go 1.21+).
    sonde must list no goroutine that the dump lacks;
 2. runs `sonde goroutines --json -p PID` and checks the document's shape
    (docs/json.md) and that it says the same as the dump: ids, status or
    wait_reason, locked_to_thread, frames (all of them, or the dump's with
    frames_elided saying how many are left out), created_by, parent_id;
 3. checks that the fixture is unharmed: alive, no thread stopped or traced,
    still using CPU, and its ping server answers "ping" with "pong".

Exit status: 0 if all of that holds, 1 if not (a readable diff tells what
differs), 2 if the test could not run (bad arguments, no sonde binary, fixture
failed to start). --json prints the result as one JSON document instead of
text. On failure the dump, sonde's outputs and the fixture's stderr are kept
in a temporary directory, whose name is printed.

Standard library only.
"""

import argparse
import dataclasses
import difflib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tb  # noqa: E402

READY_TIMEOUT = 30.0
SONDE_TIMEOUT = 120.0  # generous: 10000 goroutines on a slow CI machine

# Fixture functions the comparison knows about (tests/fixtures/agree).
DUMPER_FUNC = "main.writeDump"   # the dumping goroutine, in the dump
DUMPER_PARK = "main.dumperPark"  # ... and where it waits by the time sonde looks
MAIN_FUNC = "main.main"
SPINNER_FUNC = "main.spinner"    # the goroutine that never blocks
PARKED_FUNC = "main.parkedWorker"  # the -n extra goroutines

# Go 1.19 and 1.20 stop a traceback after 100 physical frames, hidden runtime
# frames included, and usually say nothing about it. A dump goroutine with at
# least this many frames may have been cut short that way, so sonde's JSON
# (which need not apply the text format's limits) may go on where it stops.
GO119_TRUNCATION_SUSPECT = 90

MAX_REPORTED = 20  # problems described in detail; the rest are counted


class SetupError(Exception):
    """The test could not run: exit 2."""


class Failure(Exception):
    """sonde failed or harmed the fixture: exit 1."""


@dataclasses.dataclass
class Mismatch:
    gid: Optional[int]
    what: str
    dump: str = ""
    sonde: str = ""
    diff: List[str] = dataclasses.field(default_factory=list)

    def render(self, who: str = "sonde") -> str:
        head = f"goroutine {self.gid}: {self.what}" if self.gid is not None else self.what
        out = [head]
        if self.diff:
            out += ["    " + line for line in self.diff]
        elif self.dump or self.sonde:
            out.append(f"    dump:  {self.dump}")
            out.append(f"    {who + ':':<6} {self.sonde}")
        return "\n".join(out)


# ---------------------------------------------------------------------------
# Comparison


def frame_lines(g: tb.Goroutine, with_inlined: bool = True) -> List[str]:
    """The frames of g as diffable lines, with the elision marker in place."""
    lines = []
    for i, f in enumerate(g.frames):
        if g.elided is not None and g.elided_at == i:
            lines.append(elision_line(g.elided))
        lines.append(str(f) + (" (inlined)" if with_inlined and f.inlined else ""))
    if g.elided is not None and g.elided_at in (len(g.frames), None):
        # (sonde's JSON says how many frames it left out, not where.)
        lines.append(elision_line(g.elided) + ("" if g.elided_at is not None else " (position not given)"))
    return lines


def elision_line(n: int) -> str:
    return "...additional frames elided..." if n == tb.ADDITIONAL else f"...{n} frames elided..."


def frame_diff(d: tb.Goroutine, s: tb.Goroutine, who: str) -> List[str]:
    return list(difflib.unified_diff(frame_lines(d), frame_lines(s), "dump", who, lineterm="", n=2))


def _fkey(f: tb.Frame, offsets: bool) -> tuple:
    return f.key + (f.inlined,) + ((f.offset,) if offsets else ())


def frames_agree(d: tb.Goroutine, s: tb.Goroutine, offsets: bool, unelided: bool) -> bool:
    """Whether s has d's frames. With unelided (sonde's JSON), s may list in
    full a stack that the dump elided or, for Go < 1.21, silently truncated."""
    dk = [_fkey(f, offsets) for f in d.frames]
    sk = [_fkey(f, offsets) for f in s.frames]
    if not unelided:
        return dk == sk and (d.elided, d.elided_at) == (s.elided, s.elided_at)
    if s.elided is not None:
        # The JSON left out as many frames as the dump, and says how many
        # (frames_elided) but not where: Go's rule puts them after the 50th.
        return dk == sk and d.elided == s.elided
    if d.elided is None and len(dk) < GO119_TRUNCATION_SUSPECT:
        return dk == sk
    k = d.elided_at if d.elided is not None else len(dk)
    inner, outer = dk[:k], dk[k:]
    if d.elided is not None and d.elided != tb.ADDITIONAL and len(sk) != len(dk) + d.elided:
        return False
    return len(sk) >= len(dk) and sk[:len(inner)] == inner and sk[len(sk) - len(outer):] == outer


def find_by_function(gs: List[tb.Goroutine], func: str) -> List[tb.Goroutine]:
    return [g for g in gs if func in g.functions()]


def describe(g: tb.Goroutine) -> str:
    top = g.frames[0] if g.frames else "no frames"
    return f"[{g.status}] {top}"


def compare(dump: List[tb.Goroutine], other: List[tb.Goroutine], who: str = "sonde",
            offsets: bool = False, unelided: bool = False,
            statuses: Optional[Dict[int, Tuple[str, ...]]] = None) -> List[Mismatch]:
    """Everything in which other (sonde's view) disagrees with dump (the
    runtime's). statuses optionally lists, per goroutine id, every status
    string other gave (sonde's JSON has both a status and a wait reason)."""
    mm: List[Mismatch] = []
    by_id: Dict[int, tb.Goroutine] = {}
    for g in other:
        if g.id in by_id:
            mm.append(Mismatch(g.id, f"listed twice by {who}"))
        by_id[g.id] = g
    dumper = find_by_function(dump, DUMPER_FUNC)
    spinner = find_by_function(dump, SPINNER_FUNC)
    if len(dumper) != 1 or len(spinner) != 1:
        raise SetupError(f"the dump should hold one goroutine in {DUMPER_FUNC} and one in "
                         f"{SPINNER_FUNC}; it has {len(dumper)} and {len(spinner)}: is this the agree fixture?")
    dumper_id, spinner_id = dumper[0].id, spinner[0].id

    for d in dump:
        s = by_id.get(d.id)
        if s is None:
            mm.append(Mismatch(d.id, f"missing from {who}", describe(d), "(not listed)"))
            continue

        if d.id == dumper_id:
            # Exception (a): this goroutine wrote the dump, so the dump shows it
            # running in writeDump; it has since parked in dumperPark, called
            # from main. That is all we can require.
            fs = s.functions()
            if not fs or fs[0] != DUMPER_PARK or fs[-1] != MAIN_FUNC:
                mm.append(Mismatch(d.id, f"the dumping goroutine is not parked in {DUMPER_PARK} (called from {MAIN_FUNC})",
                                   f"{DUMPER_PARK} ... {MAIN_FUNC} (expected)", " <- ".join(fs) or "no frames"))
        elif d.id == spinner_id:
            # Exception (b): the spinner never blocks. runtime.Stack stopped it
            # (runnable), sonde may catch it running, and it may be anywhere in
            # its loop: only require that it is still in the spinning function.
            if SPINNER_FUNC not in s.functions():
                mm.append(Mismatch(d.id, f"the CPU spinner's frames lack {SPINNER_FUNC}",
                                   " <- ".join(d.functions()), " <- ".join(s.functions()) or "no frames"))
        else:
            accepted = statuses.get(d.id, (s.status,)) if statuses else (s.status,)
            if d.status not in accepted:
                mm.append(Mismatch(d.id, "status differs", d.status, " / ".join(accepted)))
            if not frames_agree(d, s, offsets, unelided):
                mm.append(Mismatch(d.id, f"frames differ [{d.status}]", diff=frame_diff(d, s, who)))
        # The wait time (", N minutes") is left out: it grows between the dump
        # and sonde's look. "(scan)" is the GC's passing mark.
        # (locked_to_thread is None when sonde's JSON does not say.)
        if s.locked_to_thread is not None and d.locked_to_thread != s.locked_to_thread:
            mm.append(Mismatch(d.id, "'locked to thread' differs", str(d.locked_to_thread), str(s.locked_to_thread)))
        if not unelided and d.labels != s.labels:  # sonde's JSON has no labels
            mm.append(Mismatch(d.id, "labels differ", str(d.labels), str(s.labels)))
        dc, sc = d.created_by, s.created_by
        if (dc is None) != (sc is None) or (dc and dc.key != sc.key):
            mm.append(Mismatch(d.id, "'created by' differs", str(dc), str(sc)))
        elif dc and dc.parent_id is not None and dc.parent_id != sc.parent_id:
            mm.append(Mismatch(d.id, "parent goroutine differs", str(dc.parent_id), str(sc.parent_id)))

    dump_ids = {g.id for g in dump}
    for g in other:
        if g.id not in dump_ids:
            mm.append(Mismatch(g.id, f"listed by {who} but not in the dump", "(not listed)", describe(g)))
    return mm


# ---------------------------------------------------------------------------
# sonde's JSON


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_pc(v) -> bool:
    # An integer, or a hex string such as "0x4a1b2c".
    if _is_int(v):
        return v >= 0
    if isinstance(v, str) and v.startswith("0x"):
        try:
            int(v, 16)
            return True
        except ValueError:
            return False
    return False


def json_goroutines(doc) -> Tuple[List[tb.Goroutine], Dict[int, Tuple[str, ...]], List[Mismatch]]:
    """Check the shape of sonde's JSON document and turn its goroutines into
    tb.Goroutine values for compare()."""
    problems: List[Mismatch] = []

    def bad(gid, msg):
        problems.append(Mismatch(gid, f"JSON: {msg}"))

    if not isinstance(doc, dict) or not isinstance(doc.get("goroutines"), list):
        bad(None, 'the document is not an object with a "goroutines" array')
        return [], {}, problems
    gs, statuses = [], {}
    for n, o in enumerate(doc["goroutines"]):
        if not isinstance(o, dict) or not _is_int(o.get("id")):
            bad(None, f"goroutines[{n}] is not an object with an integer id")
            continue
        gid = o["id"]
        missing = [k for k in ("id", "status", "wait_reason", "parent_id", "created_by", "frames") if k not in o]
        if missing:
            bad(gid, f"missing {', '.join(missing)}")
            continue
        if not isinstance(o["status"], str) or not isinstance(o["wait_reason"], (str, type(None))):
            bad(gid, "status must be a string, wait_reason a string or null")
            continue
        if not (o["parent_id"] is None or _is_int(o["parent_id"])):
            bad(gid, "parent_id must be an integer or null")
            continue
        cb = o["created_by"]
        created = None
        if cb is not None:
            if not (isinstance(cb, dict) and isinstance(cb.get("function"), str)
                    and isinstance(cb.get("file"), str) and _is_int(cb.get("line"))):
                bad(gid, "created_by must be null or {function: string, file: string, line: integer}")
                continue
            created = tb.CreatedBy(cb["function"], o["parent_id"], cb["file"], cb["line"])
        frames, ok = [], isinstance(o["frames"], list)
        for i, f in enumerate(o["frames"] if ok else []):
            if not (isinstance(f, dict) and isinstance(f.get("function"), str) and isinstance(f.get("file"), str)
                    and _is_int(f.get("line")) and _is_pc(f.get("pc")) and isinstance(f.get("inlined"), bool)):
                bad(gid, f"frames[{i}] must be {{function: string, file: string, line: integer, "
                         f"pc: integer or hex string, inlined: boolean}}, not {json.dumps(f)[:200]}")
                ok = False
                break
            # args "..." and no offset is how tb marks an inlined frame.
            frames.append(tb.Frame(f["function"], f["file"], f["line"],
                                   offset=None if f["inlined"] else 0, args="..." if f["inlined"] else None))
        if not ok:
            if not isinstance(o["frames"], list):
                bad(gid, "frames must be an array")
            continue
        # Optional fields (docs/json.md): checked when present.
        elided = o.get("frames_elided", 0)
        locked = o.get("locked_to_thread")
        if not (_is_int(elided) and elided >= 0) or not isinstance(locked, (bool, type(None))):
            bad(gid, "frames_elided must be a count, locked_to_thread a boolean")
            continue
        # The text format prints the wait reason of a waiting goroutine and the
        # status otherwise; accept the dump's string in either field.
        statuses[gid] = tuple(s for s in (o["status"], o["wait_reason"]) if s)
        gs.append(tb.Goroutine(id=gid, status=o["wait_reason"] or o["status"], frames=frames, created_by=created,
                               elided=elided or None, locked_to_thread=locked))
    return gs, statuses, problems


# ---------------------------------------------------------------------------
# The fixture process


def _die_with_parent():
    """In the fixture's process, before exec: get SIGKILL if the harness dies,
    even by SIGKILL, so that no fixture outlives a test run."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start_fixture(fixture: str, workdir: str, extra: int, godebug: str) -> Tuple[subprocess.Popen, str, str]:
    dump = os.path.join(workdir, "dump.txt")
    port_file = os.path.join(workdir, "port")
    env = dict(os.environ)
    if godebug:
        env["GODEBUG"] = ",".join(x for x in (env.get("GODEBUG"), godebug) if x)
    stderr = open(os.path.join(workdir, "fixture.stderr"), "wb")
    try:
        proc = subprocess.Popen(
            [fixture, "-dump", dump, "-port-file", port_file, "-n", str(extra)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env,
            preexec_fn=_die_with_parent)
    except OSError as e:
        raise SetupError(f"cannot start the fixture {fixture}: {e}")
    finally:
        stderr.close()
    return proc, dump, port_file


def wait_ready(proc: subprocess.Popen, workdir: str, timeout: float) -> int:
    """Read the fixture's stdout until "READY <pid>"; return the pid."""
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SetupError(f"the fixture did not print READY within {timeout:.0f}s{fixture_stderr(workdir)}")
            if not sel.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                rc = proc.wait()
                raise SetupError(f"the fixture exited ({exit_reason(rc)}) before READY{fixture_stderr(workdir)}")
            buf += chunk
    line = buf.split(b"\n", 1)[0].decode(errors="replace")
    parts = line.split()
    if len(parts) != 2 or parts[0] != "READY" or not parts[1].isdigit():
        raise SetupError(f"the fixture printed {line!r}, not 'READY <pid>'")
    if int(parts[1]) != proc.pid:
        raise SetupError(f"the fixture says it is pid {parts[1]}, but we started pid {proc.pid}")
    return proc.pid


def fixture_stderr(workdir: str) -> str:
    try:
        with open(os.path.join(workdir, "fixture.stderr"), "rb") as f:
            text = f.read()[-2000:].decode(errors="replace").strip()
    except OSError:
        return ""
    return f"; its stderr ends with:\n{text}" if text else ""


def exit_reason(rc: int) -> str:
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


def stop_fixture(proc: Optional[subprocess.Popen]) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.kill()  # SIGKILL works on a ptrace-stopped process too
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    if proc.stdout:
        proc.stdout.close()


# ---------------------------------------------------------------------------
# Is the fixture unharmed?


def thread_states(pid: int) -> List[str]:
    """Problems with pid's threads: stopped ('T'), in a tracing stop ('t') or
    traced (TracerPid != 0)."""
    problems = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError as e:
        return [f"cannot list threads: {e}"]
    bad = []
    for tid in sorted(tids, key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                fields = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        except OSError:
            continue  # thread exited meanwhile
        state, tracer = fields.get("State", "?").strip(), fields.get("TracerPid", "0").strip()
        if state[:1] in ("t", "T") or tracer != "0":
            bad.append(f"thread {tid} State {state}, TracerPid {tracer}")
    if bad:
        more = f", and {len(bad) - 3} more" if len(bad) > 3 else ""
        problems.append(f"{len(bad)} of {len(tids)} threads stopped or traced: {'; '.join(bad[:3])}{more}")
    return problems


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def ping(port: int) -> str:
    """The fixture's ping server (tests/fixtures/agree startPingServer): ""
    when it answers "ping" with "pong", else what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"ping\n")
            got = b""
            while not got.endswith(b"\n"):
                chunk = conn.recv(64)
                if not chunk:
                    break
                got += chunk
        return "" if got == b"pong\n" else f"answered {got[:100]!r} to ping"
    except OSError as e:
        return f"{type(e).__name__}: {e}"


def check_unharmed(proc: subprocess.Popen, port: Optional[int]) -> List[str]:
    """Whether the fixture survived sonde: alive, its threads neither stopped
    nor traced (sonde detached from all of them), running again (the spinner
    burns CPU) and, if port is given, answering pings."""
    if proc.poll() is not None:
        return [f"the fixture died: {exit_reason(proc.returncode)}"]
    # Threads leave their stops as sonde detaches; give the kernel a moment.
    deadline = time.monotonic() + 2
    while True:
        problems = thread_states(proc.pid)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    try:
        t0 = cpu_ticks(proc.pid)
        deadline = time.monotonic() + 3
        while cpu_ticks(proc.pid) == t0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if cpu_ticks(proc.pid) == t0:
            problems.append("the fixture used no CPU time for 3s: is its spinner still stopped?")
    except (OSError, IndexError, ValueError) as e:
        problems.append(f"cannot read /proc/{proc.pid}/stat: {e}")
    if port is not None:
        err = ping(port)
        if err:
            problems.append(f"ping on port {port} failed: {err}")
    if proc.poll() is not None:
        problems.append(f"the fixture died: {exit_reason(proc.returncode)}")
    return problems


# ---------------------------------------------------------------------------
# Running sonde


def run_sonde(sonde: str, args: List[str], workdir: str, name: str) -> str:
    cmd = [sonde, "goroutines"] + args
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=SONDE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure(f"`{' '.join(cmd)}` did not finish within {SONDE_TIMEOUT:.0f}s")
    except OSError as e:
        raise SetupError(f"cannot run {sonde}: {e}")
    with open(os.path.join(workdir, name), "wb") as f:
        f.write(r.stdout)
    if r.stderr:
        with open(os.path.join(workdir, name + ".stderr"), "wb") as f:
            f.write(r.stderr)
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip()[-2000:]
        raise Failure(f"`{' '.join(cmd)}` failed ({exit_reason(r.returncode)})" + (f":\n{err}" if err else ""))
    return r.stdout.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------


def run(args, workdir: str, result: dict) -> List[Mismatch]:
    proc = None
    try:
        proc, dump_path, port_file = start_fixture(args.fixture, workdir, args.extra, args.godebug)
        pid = wait_ready(proc, workdir, READY_TIMEOUT)
        result["pid"] = pid
        try:
            with open(dump_path, encoding="utf-8", errors="surrogateescape") as f:
                dump = tb.parse(f.read(), strict=True)
            with open(port_file) as f:
                port = int(f.read())
        except (OSError, ValueError) as e:  # tb.ParseError is a ValueError
            raise SetupError(f"the fixture's dump or port file is unusable: {e}")
        parked = len(find_by_function(dump, PARKED_FUNC))
        if parked != args.extra:
            raise SetupError(f"the dump has {parked} goroutines in {PARKED_FUNC}, expected {args.extra}")
        result["goroutines"] = len(dump)

        # 1. Text mode against the dump.
        t0 = time.monotonic()
        text = run_sonde(args.sonde, ["-p", str(pid)], workdir, "sonde.txt")
        result["sonde_seconds"] = round(time.monotonic() - t0, 3)
        try:
            seen = tb.parse(text, strict=True)
        except tb.ParseError as e:
            raise Failure(f"sonde's output does not parse as a Go traceback: {e}")
        mismatches = compare(dump, seen, "sonde", offsets=args.offsets)
        harm = check_unharmed(proc, None)
        mismatches += [Mismatch(None, f"after `sonde goroutines`: {p}") for p in harm]

        # 2. JSON mode against the dump.
        if not args.no_json_check:
            out = run_sonde(args.sonde, ["--json", "-p", str(pid)], workdir, "sonde.json")
            try:
                doc = json.loads(out)
            except ValueError as e:
                mismatches.append(Mismatch(None, f"JSON: `sonde goroutines --json` printed invalid JSON: {e}"))
            else:
                gs, statuses, problems = json_goroutines(doc)
                mismatches += problems
                if not problems:
                    for m in compare(dump, gs, "json", offsets=False, unelided=True, statuses=statuses):
                        m.what = "JSON: " + m.what
                        mismatches.append(m)
            mismatches += [Mismatch(None, f"after `sonde goroutines --json`: {p}")
                           for p in check_unharmed(proc, None)]

        # 3. Still serving?
        mismatches += [Mismatch(None, f"at the end: {p}") for p in check_unharmed(proc, port)]
        return mismatches
    finally:
        stop_fixture(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sonde", required=True, help="the sonde binary")
    ap.add_argument("--fixture", required=True, help="an agree-go1.NN binary from build_fixtures.sh")
    ap.add_argument("--extra", type=int, default=0, metavar="N", help="extra parked goroutines (fixture -n)")
    ap.add_argument("--json", action="store_true", help="print the result as a JSON document")
    ap.add_argument("--offsets", action="store_true", help="also compare the +0x pc offsets of frames")
    ap.add_argument("--no-json-check", action="store_true", help="skip the `sonde goroutines --json` check")
    ap.add_argument("--godebug", default="tracebacklabels=1", metavar="SETTINGS",
                    help="GODEBUG settings added for the fixture (default %(default)s: Go 1.26+ print "
                         "pprof labels in tracebacks; older Go ignores it). '' for none")
    args = ap.parse_args()

    # Turn SIGTERM/SIGHUP into SystemExit so the finally clauses kill the fixture.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))

    result = {"ok": False, "sonde": args.sonde, "fixture": args.fixture, "extra": args.extra}
    for what, path in (("sonde", args.sonde), ("fixture", args.fixture)):
        problem = ("not found" if not os.path.isfile(path) else
                   "not executable" if not os.access(path, os.X_OK) else None)
        if problem:
            hint = " (build sonde first)" if what == "sonde" else " (run tests/e2e/build_fixtures.sh)"
            result["error"] = f"{what} binary {problem}: {path}{hint}"
            print(json.dumps(result, indent=2) if args.json else f"agree: ERROR: {result['error']}",
                  file=sys.stdout if args.json else sys.stderr)
            return 2

    start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="sonde-agree-")
    keep = True
    status = 2
    try:
        mismatches = run(args, workdir, result)
        result["seconds"] = round(time.monotonic() - start, 2)
        result["mismatches"] = [dataclasses.asdict(m) for m in mismatches]
        if not mismatches:
            result["ok"] = True
            status, keep = 0, False
            msg = (f"agree: OK: sonde agrees with the runtime on all {result['goroutines']} goroutines of "
                   f"{os.path.basename(args.fixture)} (dumper and spinner checked loosely)"
                   f"{'' if args.no_json_check else ', --json too'}; fixture unharmed "
                   f"[sonde {result['sonde_seconds']:.2f}s, total {result['seconds']:.1f}s]")
        else:
            status = 1
            gids = {m.gid for m in mismatches if m.gid is not None}
            lines = [f"agree: FAIL: {os.path.basename(args.fixture)} (pid {result['pid']}): "
                     f"{len(mismatches)} problems, {len(gids)} of {result['goroutines']} goroutines concerned"]
            for m in mismatches[:MAX_REPORTED]:
                lines.append(m.render("json" if m.what.startswith("JSON") else "sonde"))
            if len(mismatches) > MAX_REPORTED:
                lines.append(f"... and {len(mismatches) - MAX_REPORTED} more problems")
            msg = "\n".join(lines)
    except (SetupError, Failure) as e:
        status = 2 if isinstance(e, SetupError) else 1
        result["error"] = str(e)
        msg = f"agree: {'ERROR' if status == 2 else 'FAIL'}: {e}"
    except BaseException:  # a bug here, ^C, SIGTERM: the fixture is gone already
        print(f"agree: interrupted; files kept in {workdir}", file=sys.stderr)
        raise
    finally:
        if keep:
            result["kept"] = workdir
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if keep:
        msg += f"\nagree: dump, sonde output and fixture stderr kept in {workdir}"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(msg, file=sys.stdout if status == 0 else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
