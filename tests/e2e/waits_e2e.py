#!/usr/bin/env python3
"""waits_e2e.py SONDE FIXTURE: what each goroutine waits on (--waits).

Starts the waits fixture (tests/fixtures/waits), whose goroutines block on
channels it names by address, and checks `sonde goroutines -p PID --json
--waits`:
- main.sender waits to send on ch1: chan int, capacity 0, length 0, open;
- main.receiver waits to receive from ch2: chan string, capacity 3, empty;
- main.selector waits in a select with two cases: a receive from ch3
  (chan struct {}) and a send to ch4 (chan *main.node, capacity 1, full);
- main.nilReceiver waits on a nil channel: no channel to name;
- main.locker (sync.Mutex.Lock), main.reader (sync.RWMutex.RLock) and
  main.waiter (sync.WaitGroup.Wait; older Go says "semacquire" for some or
  all of them) each wait on one semaphore, found in
  runtime.semtable, whose address lies inside the primitive the fixture
  names (mu, rw, wg);
- goroutines that wait on no channel (main, reading its input) list none;
- --waits without --json is refused (exit 2);
- the fixture is unharmed afterwards: alive, no thread stopped or traced.
Prints one line per check; exit status 0 when all pass, 1 if not, 2 if the
test could not run.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sonde_e2e import check, results  # noqa: E402
import agree  # noqa: E402  (thread_states)

WAITERS = ("main.sender", "main.receiver", "main.selector", "main.nilReceiver", "main.locker", "main.reader",
           "main.waiter")


def by_function(doc):
    """The goroutines by the main.* function they run (their outermost frame
    of package main)."""
    out = {}
    for g in doc.get("goroutines", []):
        names = [f["function"] for f in g.get("frames", [])]
        for n in WAITERS:
            if n in names:
                out[n] = g
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[0])
        return 2
    sonde, fixture = (os.path.abspath(a) for a in sys.argv[1:])
    if not os.path.exists(fixture):
        print("no Go fixture at %s (tests/e2e/build_fixtures.sh builds it)" % fixture)
        return 2
    fx = subprocess.Popen([fixture], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        lines = [fx.stdout.readline().strip(), fx.stdout.readline().strip()]
        if not lines[1].startswith("READY "):
            print("setup: the fixture said %r" % lines)
            return 2
        info = json.loads(lines[0])
        pid = str(info["pid"])
        chans = {k: int(v, 16) for k, v in info["chans"].items()}
        prims = {k: (int(v["addr"], 16), v["size"]) for k, v in info["prims"].items()}
        # they block right after start: read until all of them wait
        doc, gs, p = {}, {}, None
        for _ in range(50):
            p = subprocess.run([sonde, "goroutines", "-p", pid, "--json", "--waits"], capture_output=True, text=True,
                               timeout=120)
            try:
                doc = json.loads(p.stdout) if p.returncode == 0 else {}
            except ValueError:
                doc = {}
            gs = by_function(doc)
            if len(gs) == len(WAITERS) and all(g.get("status") == "waiting" for g in gs.values()):
                break
            time.sleep(0.1)
        check("waits_json_exits_0_with_every_waiter", p.returncode == 0 and len(gs) == len(WAITERS),
              "exit %d, found %r\n%s" % (p.returncode, sorted(gs), p.stderr[-800:]))

        def waits(name):
            return gs.get(name, {}).get("waiting_on")

        def chan(addr, d, sel, elem, cap, length):
            return {"kind": "chan", "addr": addr, "dir": d, "select": sel, "elem_type": elem, "cap": cap,
                    "len": length, "closed": False}
        check("sender_waits_to_send_on_ch1", waits("main.sender") == [chan(chans["ch1"], "send", False, "int", 0, 0)],
              repr(waits("main.sender")))
        check("receiver_waits_to_receive_from_ch2",
              waits("main.receiver") == [chan(chans["ch2"], "receive", False, "string", 3, 0)],
              repr(waits("main.receiver")))
        sel = waits("main.selector") or []
        want = [chan(chans["ch3"], "receive", True, "struct {}", 0, 0), chan(chans["ch4"], "send", True, "*main.node", 1, 1)]
        check("selector_waits_on_both_cases",
              sorted(sel, key=lambda c: c.get("addr", 0)) == sorted(want, key=lambda c: c["addr"]), repr(sel))
        check("nil_channel_names_no_channel",
              waits("main.nilReceiver") == [] and "nil chan" in gs.get("main.nilReceiver", {}).get("wait_reason", ""),
              repr(gs.get("main.nilReceiver", {}).get("wait_reason")) + " " + repr(waits("main.nilReceiver")))
        for fn, prim, reason in (("main.locker", "mu", "sync.Mutex.Lock"), ("main.reader", "rw", "sync.RWMutex.RLock"),
                                 ("main.waiter", "wg", "sync.WaitGroup.Wait")):
            w = waits(fn) or []
            lo, size = prims[prim]
            check("%s_waits_on_a_semaphore_inside_%s" % (fn[5:], prim),
                  gs.get(fn, {}).get("wait_reason") in (reason, "semacquire") and  # older Go: the generic reason
                  len(w) == 1 and w[0].get("kind") == "sema" and
                  lo <= w[0].get("addr", 0) < lo + size,
                  "reason %r, waits %r, %s at 0x%x size %d" % (gs.get(fn, {}).get("wait_reason"), w, prim, lo, size))
        others = [g for g in doc.get("goroutines", []) if g not in gs.values()]
        check("goroutines_on_no_channel_list_none", others and all(g.get("waiting_on") == [] for g in others),
              repr([(g.get("id"), g.get("waiting_on")) for g in others][:5]))

        p = subprocess.run([sonde, "goroutines", "-p", pid, "--waits"], capture_output=True, text=True, timeout=120)
        check("waits_without_json_is_refused", p.returncode == 2 and "--json" in p.stderr, p.stderr[-300:])

        probs = [] if fx.poll() is None else ["the fixture exited: %r" % fx.poll()]
        if not probs:
            probs = agree.thread_states(int(pid))
        check("fixture_alive_not_stopped_not_traced", not probs, "; ".join(probs))
    finally:
        if fx.poll() is None:
            fx.kill()
        fx.wait()
    failed = [n for n, ok in results if not ok]
    print("%d of %d checks passed" % (len(results) - len(failed), len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
