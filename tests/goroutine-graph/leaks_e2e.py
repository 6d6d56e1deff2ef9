#!/usr/bin/env python3
"""leaks_e2e.py SONDE LEAKS_FIXTURE QUIET_FIXTURE: `sonde goroutine-graph leaks` and `dot`.

LEAKS_FIXTURE (tests/fixtures/leaks) starts one goroutine per leaking shape
(send and receive on a nil channel and on a channel nobody else holds, a
select, select{}, sync.Mutex, RWMutex write and read side, WaitGroup, Cond,
and a cycle of two goroutines each holding the channel the other waits on)
and the same shapes kept alive (a pool on a global channel, channels, locks,
a WaitGroup and a Cond held by goroutines asleep or in network I/O, a
time.After, a channel only an object with a finalizer holds), and a leak
made in main whose frame may keep the channel in a dead slot (found through
the stack maps), and prints "LEAK|LIVE <goid> <shape> <function>" for each.
Checks, with --json and in text:
- exactly the LEAK goroutines are reported: every leak found, with the
  function it blocks in (its location, file:line) and its wait reason; no
  LIVE goroutine and no other goroutine is reported;
- the two goroutines of the cycle form the one deadlock cycle;
- what each leaked goroutine waits on (channel, semaphore, Cond);
- the text is Go's traceback with " (leaked)" after the wait reason;
- exit status 13 when goroutines leaked, 0 when none (QUIET_FIXTURE: a
  process with no parked goroutine, tests/fixtures/heap);
- `selectmain` mode: goroutine 1 in select{} holds a channel a child waits
  on: the child is leaked, goroutine 1 is not reported (as the runtime);
- `unstarted` mode: a waiter whose channel only the closure of a goroutine
  created but not yet run holds (its g's sched.ctxt), checked at a
  breakpoint where that goroutine cannot have run: not leaked (a guard:
  sonde reaches it through the g objects, as the runtime's GC does);
- `timerholder` mode: a waiter whose channel only a time.AfterFunc closure
  holds, checked at every hit of runtime.systemstack until the timer fired
  (one hit is goFunc's `go f()` on g0, the closure only in frames above an
  SP-writing function): never leaked;
- `signalholder` mode: a waiter whose channel only a register holds, of a
  thread stopped in Go's signal handler (the register saved in the kernel's
  signal frame) is not leaked;
- `runtime` mode: after the runtime's own leak detector ran (Go 1.27's
  goroutineleak profile: its finds are left in status _Gleaked), sonde
  reports exactly the goroutines the runtime reported;
- `dot`: DOT that Graphviz's dot renders to SVG (-o F.svg renders it
  directly), each leaked goroutine in a LEAKED node and no other, the cycle
  as a cluster; --json groups the three pool workers (same stack, same
  channel) into one group of 3 at one channel with 3 waiters, and counts
  every goroutine once; the filters --goroutine, --chan, --package and
  --leaked keep what they say; an unknown goroutine is an error;
- the fixture is unharmed afterwards: alive, no thread stopped or traced.
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import Watchdog, check, documents, results  # noqa: E402
import agree  # noqa: E402  (thread_states)

# the wait reasons each shape may show (older Go says "semacquire" for sync
# primitives parked on a plain semaphore)
REASONS = {
    "nil-send": {"chan send (nil chan)"},
    "nil-recv": {"chan receive (nil chan)"},
    "send": {"chan send"},
    "recv": {"chan receive"},
    "select": {"select"},
    "select-nocases": {"select (no cases)"},
    "mutex": {"sync.Mutex.Lock", "semacquire"},
    "rwmutex-lock": {"sync.RWMutex.Lock", "semacquire"},
    "rwmutex-rlock": {"sync.RWMutex.RLock", "semacquire"},
    "waitgroup": {"sync.WaitGroup.Wait", "semacquire"},
    "cond": {"sync.Cond.Wait"},
    "cycle": {"chan receive"},
    "main-held": {"chan receive"},
    "dead-slot": {"chan receive"},
}
# what the leaked goroutine of each shape waits on: (kind, number of waits)
WAITS = {"nil-send": (None, 0), "nil-recv": (None, 0), "select-nocases": (None, 0), "send": ("chan", 1),
         "recv": ("chan", 1), "select": ("chan", 2), "mutex": ("sema", 1), "rwmutex-lock": ("sema", 1),
         "rwmutex-rlock": ("sema", 1), "waitgroup": ("sema", 1), "cond": ("cond", 1), "cycle": ("chan", 1),
         "main-held": ("chan", 1), "dead-slot": ("chan", 1)}


# what `dot --json` says each leaking shape waits for
WAITS_FOR = {"nil-send": {"nil channel"}, "nil-recv": {"nil channel"}, "select-nocases": {"nil channel"},
             "send": {"channel"}, "recv": {"channel"}, "cycle": {"channel"}, "dead-slot": {"channel"},
             "main-held": {"channel"}, "select": {"select"}, "mutex": {"mutex", "semaphore"},
             "rwmutex-lock": {"rwmutex", "semaphore"}, "rwmutex-rlock": {"rwmutex", "semaphore"},
             "waitgroup": {"waitgroup", "semaphore"}, "cond": {"cond"}}


def start(fixture, mode, runtime=None):
    """Starts the fixture in mode: (process, pid, {goid: (LEAK|LIVE, shape,
    function)}). runtime, a dict, gets the RUNTIME/PROFILE lines of mode
    runtime: {"profile": bool, "leaked": {goid, ...}}."""
    fx = subprocess.Popen([fixture, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    expect = {}
    with Watchdog(60, "fixture %s: waiting for READY" % mode, fixture=fx):
        while True:
            line = fx.stdout.readline().strip()
            if not line:
                raise RuntimeError("fixture ended before READY (exit %r)" % fx.poll())
            f = line.split()
            if f[0] == "READY":
                return fx, int(f[1]), expect
            if f[0] in ("LEAK", "LIVE"):
                expect[int(f[1])] = (f[0], f[2], f[3])
            elif f[0] == "RUNTIME" and runtime is not None:
                runtime.setdefault("leaked", set()).add(int(f[1]))
            elif f[0] == "PROFILE" and runtime is not None:
                runtime["profile"] = f[1] == "yes"


def run(sonde, *args, cmd="leaks"):
    return subprocess.run([sonde, "goroutine-graph", cmd] + list(args), capture_output=True, text=True,
                          timeout=120)


def graph(sonde, pid, *args):
    """The --json graph with args, or None (with a failed check)."""
    r = run(sonde, "-p", str(pid), "--json", *args, cmd="dot")
    if not check("dot --json %s: exit 0" % " ".join(args), r.returncode == 0, "%d: %s" % (r.returncode, r.stderr)):
        return None
    return json.loads(r.stdout)


def ids_of(doc):
    return {i for g in doc["groups"] for i in g["ids"]}


def check_dot(sonde, pid, expect, leaks, tmp):
    dotf, svgf = os.path.join(tmp, "g.dot"), os.path.join(tmp, "g.svg")
    r = run(sonde, "-p", str(pid), "-o", dotf, cmd="dot")
    check("dot -o F.dot: exit 0", r.returncode == 0, "%d: %s" % (r.returncode, r.stderr))
    text = open(dotf).read() if os.path.exists(dotf) else ""
    rendered = subprocess.run(["dot", "-Tsvg", "-o", os.path.join(tmp, "r.svg"), dotf], capture_output=True, text=True)
    check("dot -Tsvg renders the DOT", rendered.returncode == 0 and "<svg" in open(os.path.join(tmp, "r.svg")).read(),
          rendered.stderr)
    marked = set()
    for m in re.finditer(r'label="LEAKED\\n[^"]*?ids ([0-9, ]+)', text):
        marked |= {int(x) for x in m.group(1).split(", ")}
    check("dot: exactly the leaked goroutines are in LEAKED nodes", marked == set(leaks),
          "%r vs %r" % (sorted(marked), sorted(leaks)))
    cyc = sorted(g for g, e in leaks.items() if e[1] == "cycle")
    pool = sorted(g for g, e in expect.items() if e[1] == "pool")
    cluster = text.split("subgraph cluster_cycle1", 1)[-1].split("\n  }\n", 1)[0] if "cluster_cycle1" in text else ""
    check("dot: the deadlock cycle is a cluster holding both goroutines",
          all(re.search(r"ids %d\b" % g, cluster) for g in cyc) and "deadlock cycle 1" in cluster, cluster[:400])
    r = run(sonde, "-p", str(pid), "-o", svgf, cmd="dot")
    check("dot -o F.svg: renders SVG through Graphviz", r.returncode == 0 and os.path.exists(svgf) and
          "<svg" in open(svgf).read(), "%d: %s" % (r.returncode, r.stderr))
    check("dot -o F.svg: no DOT file left beside it", not os.path.exists(svgf + ".dot"))

    doc = graph(sonde, pid)
    if doc:
        every = [i for g in doc["groups"] for i in g["ids"]]
        check("dot --json: every goroutine in exactly one group", len(every) == len(set(every)) and
              set(expect) <= set(every), "%d ids, %d distinct" % (len(every), len(set(every))))
        grp = [g for g in doc["groups"] if sorted(g["ids"]) == pool]
        check("dot --json: the pool's workers are one group of %d" % len(pool), len(grp) == 1, repr(
            [(g["count"], g["ids"]) for g in doc["groups"] if set(g["ids"]) & set(pool)]))
        if grp:
            pid_ = grp[0]["waits"][0]["primitive"] if grp[0]["waits"] else None
            prim = [p for p in doc["primitives"] if p["id"] == pid_]
            check("dot --json: ...waiting on one channel with %d waiters" % len(pool),
                  len(prim) == 1 and prim[0]["kind"] == "chan" and prim[0]["waiters"] == len(pool), repr(prim))
            if prim:
                only = graph(sonde, pid, "--chan", hex(prim[0]["addr"]))
                check("dot --chan ADDR: only the goroutines at that channel",
                      only is not None and ids_of(only) == set(pool), repr(only and sorted(ids_of(only))))
        of = {i: g["waits_for"] for g in doc["groups"] for i in g["ids"]}
        wrong = sorted((gid, e[1], of.get(gid)) for gid, e in leaks.items() if of.get(gid) not in WAITS_FOR[e[1]])
        check("dot --json: what each leaked goroutine waits for (channel, mutex, ...)", not wrong, repr(wrong))
        lk = {i for g in doc["groups"] if g["leaked"] for i in g["ids"]}
        check("dot --json: the leaked groups hold exactly the leaks", lk == set(leaks),
              "%r vs %r" % (sorted(lk), sorted(leaks)))
    focus = graph(sonde, pid, "--goroutine", str(cyc[0]))
    check("dot --goroutine ID: the goroutine and the one it meets in the cycle",
          focus is not None and set(cyc) <= ids_of(focus) and not (ids_of(focus) & set(pool)),
          repr(focus and sorted(ids_of(focus))))
    only_leaked = graph(sonde, pid, "--leaked")
    check("dot --leaked: only leaked goroutines", only_leaked is not None and ids_of(only_leaked) == set(leaks),
          repr(only_leaked and sorted(ids_of(only_leaked))))
    mainpkg = graph(sonde, pid, "--package", "main")
    check("dot --package main: the fixture's goroutines, none of the runtime's",
          mainpkg is not None and set(expect) <= ids_of(mainpkg) and not any(g["system"] for g in mainpkg["groups"]))
    bad = run(sonde, "-p", str(pid), "--goroutine", "999999999", cmd="dot")
    check("dot --goroutine with no such goroutine: an error naming it",
          bad.returncode not in (0, 13) and "999999999" in bad.stderr, "%d: %s" % (bad.returncode, bad.stderr))


def unharmed(fx, pid, tag):
    problems = agree.thread_states(pid)
    check("%s: the fixture is still running" % tag, fx.poll() is None)
    check("%s: no thread left stopped or traced" % tag, not problems, repr(problems))


def check_all(sonde, fixture, tmp):
    fx, pid, expect = start(fixture, "all")
    try:
        leaks = {g: e for g, e in expect.items() if e[0] == "LEAK"}
        check("the fixture names every shape", {e[1] for e in leaks.values()} >= set(REASONS) - {"main-held"},
              repr(sorted({e[1] for e in leaks.values()})))
        r = run(sonde, "-p", str(pid), "--json")
        check("leaks --json: exit status 13 (leaks found)", r.returncode == 13, "%d: %s" % (r.returncode, r.stderr))
        doc = json.loads(r.stdout)
        check("the analysis is complete", doc.get("complete") is True, repr(doc.get("complete")))
        check("it says how long the process was stopped, the analysis inside that",
              0 < doc.get("analysis_ms", 0) <= doc.get("stopped_ms", 0) < 60000,
              "analysis %r ms, stopped %r ms" % (doc.get("analysis_ms"), doc.get("stopped_ms")))
        got = {g["id"]: g for g in doc["goroutines"]}
        check("every leaked goroutine is found", set(leaks) <= set(got),
              "missing %s" % sorted((g, leaks[g][1]) for g in set(leaks) - set(got)))
        false = sorted((g, expect.get(g, ("?", "not the fixture's"))[1]) for g in set(got) - set(leaks))
        check("no goroutine that can be woken is reported", not false, "reported: %r" % false)
        check("the summary counts them", doc.get("leaked") == len(leaks), "%r vs %d" % (doc.get("leaked"), len(leaks)))
        for gid, (_, shape, func) in sorted(leaks.items()):
            g = got.get(gid)
            if not g:
                continue
            names = [f["function"] for f in g["frames"]]
            at = [f for f in g["frames"] if f["function"] == func]
            check("%s: goroutine %d blocks in %s" % (shape, gid, func), bool(at), repr(names))
            check("%s: its location is main.go:LINE" % shape,
                  bool(at) and at[0]["file"].endswith("/main.go") and at[0]["line"] > 0, repr(at[:1]))
            check("%s: wait reason %r" % (shape, g["wait_reason"]), g["wait_reason"] in REASONS[shape],
                  "expected one of %r" % sorted(REASONS[shape]))
            kind, n = WAITS[shape]
            ws = g["waiting_on"]
            check("%s: waits on %d %s" % (shape, n, kind or "nothing"),
                  len(ws) == n and all(w["kind"] == kind for w in ws), repr(ws))
            check("%s: created by the function that set it up" % shape,
                  g["created_by"] is not None and g["created_by"]["function"].startswith("main."),
                  repr(g["created_by"]))
        cyc = {g for g, e in leaks.items() if e[1] == "cycle"}
        cycles = doc.get("cycles", [])
        check("one deadlock cycle: the two goroutines of the cycle",
              len(cycles) == 1 and set(cycles[0]["goroutines"]) == cyc, "%r vs %r" % (cycles, sorted(cyc)))
        for gid in cyc:
            g = got.get(gid, {})
            others = [w["addr"] for o in cyc - {gid} for w in got.get(o, {}).get("waiting_on", [])]
            check("cycle: goroutine %d reaches the channel the other waits on" % gid,
                  bool(others) and set(others) <= set(g.get("reaches", [])), "%r vs %r" % (g.get("reaches"), others))

        out = os.path.join(tmp, "leaks.json")
        r2 = run(sonde, "-p", str(pid), "--json", "-o", out)
        check("-o FILE: exit 13, nothing on stdout", r2.returncode == 13 and r2.stdout == "", r2.stderr)
        with open(out) as f:
            doc2 = json.load(f)
        check("-o FILE: the same leaks", {g["id"] for g in doc2["goroutines"]} == set(got))

        t = run(sonde, "-p", str(pid))
        check("text: exit status 13", t.returncode == 13, "%d: %s" % (t.returncode, t.stderr))
        heads = {int(m.group(1)): m.group(2) for m in re.finditer(r"^goroutine (\d+) \[(.*) \(leaked\)\]:$", t.stdout,
                                                                  re.M)}
        check("text: a Go traceback header with ' (leaked)' for each leak", set(heads) == set(leaks),
              "%r vs %r" % (sorted(heads), sorted(leaks)))
        for gid, (_, shape, func) in sorted(leaks.items()):
            block = t.stdout.split("goroutine %d [" % gid, 1)[-1].split("\n\n", 1)[0]
            check("text: goroutine %d shows %s(...) and its main.go line" % (gid, func),
                  re.search(r"^%s\(\.\.\.\)\n\t\S+/main\.go:\d+" % re.escape(func), block, re.M) is not None, block)
        a, b = sorted(cyc)
        check("text: names the deadlock cycle",
              re.search(r"^deadlock cycle 1: goroutines %d, %d can only be woken by each other$" % (a, b), t.stdout,
                        re.M) is not None, t.stdout[-600:])
        check("text: a summary on stderr", "%d leaked goroutines" % len(leaks) in t.stderr, t.stderr)
        check_dot(sonde, pid, expect, leaks, tmp)
        check_config(sonde, pid, leaks, tmp)
        unharmed(fx, pid, "all")
    finally:
        fx.kill()
        fx.wait()


def check_config(sonde, pid, leaks, tmp):
    """[goroutine-graph] ignore: known leaks are not reported, --no-ignore
    shows them; a bad value is refused naming the file's section and key."""
    ini = os.path.join(tmp, "sonde.ini")
    with open(ini, "w") as f:
        f.write("[goroutine-graph]\nignore = main.nil*, main.emptySelector\n")
    nil = {g for g, e in leaks.items() if e[2] in ("main.nilSender", "main.nilReceiver", "main.emptySelector")}
    r = run(sonde, "-p", str(pid), "--json", "--config", ini)
    doc = json.loads(r.stdout) if r.returncode == 13 else {"goroutines": [], "ignored": None}
    check("[goroutine-graph] ignore: the matching leaks are not reported",
          {g["id"] for g in doc["goroutines"]} == set(leaks) - nil and doc["ignored"] == len(nil),
          "%d: %r" % (r.returncode, sorted(g["id"] for g in doc["goroutines"])))
    r = run(sonde, "-p", str(pid), "--json", "--config", ini, "--no-ignore")
    check("--no-ignore: all of them again", r.returncode == 13 and
          {g["id"] for g in json.loads(r.stdout)["goroutines"]} == set(leaks), r.stderr)
    with open(ini, "w") as f:
        f.write("[goroutine-graph]\nsamples = lots\n")
    r = run(sonde, "-p", str(pid), "--config", ini, cmd="dot")
    check("[goroutine-graph] samples = lots: refused, naming it", r.returncode == 12 and
          "[goroutine-graph] samples" in r.stderr, "%d: %s" % (r.returncode, r.stderr))


def check_select_main(sonde, fixture):
    fx, pid, expect = start(fixture, "selectmain")
    try:
        leaks = {g for g, e in expect.items() if e[0] == "LEAK"}
        r = run(sonde, "-p", str(pid), "--json")
        check("selectmain: exit status 13", r.returncode == 13, "%d: %s" % (r.returncode, r.stderr))
        got = {g["id"] for g in json.loads(r.stdout)["goroutines"]} if r.returncode == 13 else set()
        check("selectmain: the child waiting on main's channel is leaked, only it", got == leaks,
              "%r vs %r" % (sorted(got), sorted(leaks)))
        check("selectmain: goroutine 1 in select{} is not reported", 1 not in got)
        unharmed(fx, pid, "selectmain")
    finally:
        fx.kill()
        fx.wait()


def start_session(sonde, pid, location, hits=1):
    """`sonde attach` with a breakpoint at location that runs `leaks --json`
    at each hit and ends after hits of them."""
    return subprocess.Popen([sonde, "attach", "-p", str(pid), "--break", location, "--on-hit",
                             "goroutine-graph leaks --json", "-n", str(hits)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def armed(s):
    """Session s's standard error up to its "Ctrl-C to stop" line (its
    breakpoints are in from then on), or to its end."""
    err = ""
    while "Ctrl-C" not in err:
        got = s.stderr.readline()
        if not got:
            break
        err += got
    return err


def trigger(s, fx, line):
    """Once session s has its breakpoint in, sends line to the fixture,
    which makes it hit; s's output and standard error when it ends."""
    err = armed(s)
    fx.stdin.write(line + "\n")
    fx.stdin.flush()
    out, rest = s.communicate(timeout=60)
    return out, err + rest


def kill_all(*procs):
    for p in procs:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()


def check_signal_holder(sonde, fixture):
    """signalholder mode: the only reference to a channel a goroutine waits
    on is a register of a thread (masked in memory; no async preemption, so
    nothing spills it). A SIGUSR1 to that thread runs Go's handler on the
    signal stack, over the registers the kernel saved in the signal frame;
    a breakpoint in runtime.sigsend stops the thread there. Those saved
    registers are roots like any thread's: the waiter is not leaked."""
    env = dict(os.environ, GODEBUG="asyncpreemptoff=1")
    fx = subprocess.Popen([fixture, "signalholder"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          bufsize=1, env=env)
    tid, live, s = None, set(), None
    try:
        with Watchdog(120, "signalholder", fixture=fx) as w:
            while True:
                f = fx.stdout.readline().split()
                if not f:
                    raise RuntimeError("signalholder ended before READY (exit %r)" % fx.poll())
                if f[0] == "HOLDER":
                    tid = int(f[1])
                elif f[0] == "LIVE":
                    live.add(int(f[1]))
                elif f[0] == "READY":
                    pid = int(f[1])
                    break
            s = start_session(sonde, pid, "runtime.sigsend")
            w.watch("sonde", s)
            out, err = trigger(s, fx, "signal")
            check("signalholder: the session exits 0 (nothing leaked)", s.returncode == 0,
                  "%d: %s" % (s.returncode, err))
            hit = re.search(r"^hit 1: runtime\.sigsend goroutine \d+ thread (\d+)$", out, re.M)
            check("signalholder: the hit is in the holder's signal handler, on its thread",
                  hit is not None and int(hit.group(1)) == tid, "%r (holder thread %r)" % (out[:200], tid))
            docs = documents(out[out.find("{"):]) if "{" in out else []
            got = {g["id"] for d in docs for g in d.get("goroutines", [])}
            check("signalholder: the waiter held only by a register the signal saved is not leaked",
                  len(docs) == 1 and docs[0]["leaked"] == 0 and not (got & live), "%r: %s" % (sorted(got), err))
            unharmed(fx, pid, "signalholder")
    finally:
        kill_all(s, fx)



def check_unstarted(sonde, fixture):
    """unstarted mode (GOMAXPROCS=1): main creates a goroutine whose closure
    holds the only reference to a channel another goroutine waits on, and
    stops at a breakpoint before the new goroutine can run (main's
    registers zeroed first). The runtime keeps that closure in the new g's
    sched.ctxt, which its GC scans with the stack; sonde reaches it through
    runtime.allgs and the g objects: the waiter is not leaked."""
    fx, pid, expect = start(fixture, "unstarted")
    s = None
    try:
        live = {g for g, e in expect.items() if e[0] == "LIVE"}
        with Watchdog(120, "unstarted", fixture=fx) as w:
            s = start_session(sonde, pid, "main.unstartedHere")
            w.watch("sonde", s)
            out, err = trigger(s, fx, "go")
            check("unstarted: the session exits 0 (nothing leaked)", s.returncode == 0,
                  "%d: %s" % (s.returncode, err))
            check("unstarted: the hit is in main.unstartedHere",
                  re.search(r"^hit 1: main\.unstartedHere goroutine 1 ", out, re.M) is not None, out[:200])
            docs = documents(out[out.find("{"):]) if "{" in out else []
            got = {g["id"] for d in docs for g in d.get("goroutines", [])}
            check("unstarted: the waiter held only by a goroutine not yet run is not leaked",
                  len(live) == 1 and len(docs) == 1 and docs[0]["leaked"] == 0 and not (got & live),
                  "%r of %r: %s" % (sorted(got), sorted(live), err))
            unharmed(fx, pid, "unstarted")
    finally:
        kill_all(s, fx)


def check_timer_holder(sonde, fixture):
    """timerholder mode (GOMAXPROCS=1): a waiter whose channel only a
    time.AfterFunc closure holds. A leak check at every hit of a breakpoint
    in runtime.systemstack until the timer has fired and woken the waiter:
    one hit is goFunc's `go f()` inside runOneTimer, on g0, where the closure
    is only in the frames above systemstack (a function that writes SP,
    where Go's traceback stops). No check reports the waiter."""
    fx, pid, expect = start(fixture, "timerholder")
    s = None
    try:
        live = {g for g, e in expect.items() if e[0] == "LIVE"}
        with Watchdog(120, "timerholder", fixture=fx) as w:
            s = start_session(sonde, pid, "runtime.systemstack", hits=400)
            w.watch("sonde", s)
            err = armed(s)
            fx.stdin.write("go\n")
            fx.stdin.flush()
            woke = fx.stdout.readline().strip()
            if s.poll() is None:
                s.send_signal(signal.SIGINT)
            out, rest = s.communicate(timeout=60)
            err += rest
            check("timerholder: the timer's closure woke the waiter while sonde was attached", woke == "WOKE",
                  "fixture said %r" % woke)
            hits = re.findall(r"^hit \d+: runtime\.systemstack ", out, re.M)
            docs = documents("".join(line for line in out.splitlines(True) if not line.startswith("hit ")))
            bad = [(i, [g["id"] for g in d.get("goroutines", [])]) for i, d in enumerate(docs) if d.get("leaked")]
            check("timerholder: a leak check at each hit in runtime.systemstack", len(docs) >= 2 and len(docs) == len(hits),
                  "%d documents, %d hits: %s" % (len(docs), len(hits), err[-600:]))
            check("timerholder: no check reports the waiter only the timer's closure holds",
                  len(live) == 1 and not bad and s.returncode == 0, "exit %r, %r of %r" % (s.returncode, bad[:5], sorted(live)))
            unharmed(fx, pid, "timerholder")
    finally:
        kill_all(s, fx)


def check_runtime(sonde, fixture):
    """Mode runtime: the fixture ran the runtime's own leak detector (Go
    1.27's goroutineleak profile), which left its leaked goroutines in
    status _Gleaked: sonde finds the same ones."""
    rt = {}
    fx, pid, expect = start(fixture, "runtime", rt)
    try:
        leaks = {g for g, e in expect.items() if e[0] == "LEAK"}
        r = run(sonde, "-p", str(pid), "--json")
        got = {g["id"] for g in json.loads(r.stdout)["goroutines"]} if r.returncode == 13 else set()
        check("runtime mode: exactly the fixture's leaks", got == leaks,
              "%d: %r vs %r %s" % (r.returncode, sorted(got), sorted(leaks), r.stderr))
        if rt.get("profile"):
            check("runtime mode: the runtime's goroutineleak profile finds the same goroutines",
                  rt.get("leaked", set()) == got, "%r vs %r" % (sorted(rt.get("leaked", set())), sorted(got)))
            g = run(sonde, "-p", str(pid), cmd="dot")
            check("runtime mode: goroutines the runtime marked _Gleaked are drawn leaked", g.returncode == 0 and
                  "LEAKED" in g.stdout, g.stderr)
        else:
            print("skip runtime mode: this Go has no goroutineleak profile")
        unharmed(fx, pid, "runtime")
    finally:
        fx.kill()
        fx.wait()


def check_quiet(sonde, fixture):
    fx = subprocess.Popen([fixture], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        pid = None
        for _ in range(50):
            line = fx.stdout.readline().strip()
            if line.startswith("READY "):
                pid = int(line.split()[1])
                break
        r = run(sonde, "-p", str(pid), "--json")
        check("no leaks: exit status 0", r.returncode == 0, "%d: %s" % (r.returncode, r.stderr))
        check("no leaks: an empty list", r.returncode == 0 and json.loads(r.stdout)["goroutines"] == [], r.stdout)
    finally:
        fx.kill()
        fx.wait()


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[0])
        return 2
    sonde, fixture, quiet = (os.path.abspath(a) for a in sys.argv[1:])
    for f in (fixture, quiet):
        if not os.path.exists(f):
            print("no Go fixture at %s (tests/e2e/build_fixtures.sh builds it)" % f)
            return 2
    with tempfile.TemporaryDirectory() as tmp:
        check_all(sonde, fixture, tmp)
    check_select_main(sonde, fixture)
    check_signal_holder(sonde, fixture)
    check_unstarted(sonde, fixture)
    check_timer_holder(sonde, fixture)
    check_runtime(sonde, fixture)
    check_quiet(sonde, quiet)
    failed = [n for n, ok in results if not ok]
    print("%d checks, %d failed" % (len(results), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
