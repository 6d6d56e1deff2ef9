"""Unit tests of tb.py (the traceback parser) and of agree.py's comparison.

    python3 -m unittest discover -s tests/e2e -v

testdata/ holds real dumps of the agree fixture: stack-go1.NN.txt are
runtime.Stack(buf, true) output (run with GODEBUG=tracebacklabels=1),
sigquit-go1.NN-system.txt what SIGQUIT prints with GOTRACEBACK=system and
GODEBUG=tracebackancestors=3.
"""

import copy
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agree  # noqa: E402
import tb  # noqa: E402



def _fixture_dir():
    """The folder of the agree fixture's sources as the testdata dumps name
    it: the checkout the dumps were made in, read from a dump rather than
    written here, so that no test depends on where a checkout lives."""
    with open(os.path.join(HERE, "testdata", "stack-go1.27.txt"), encoding="utf-8") as f:
        for line in f:
            path = line.strip().split(" ")[0].rsplit(":", 1)[0]
            if path.endswith("/tests/fixtures/agree/main.go"):
                return path[: -len("main.go")]
    raise AssertionError("testdata/stack-go1.27.txt names no tests/fixtures/agree/main.go")


FIXTURE = _fixture_dir()  # where the testdata dumps were built
LABELS = {"fixture": "agree", "quirk": 'a b, "c" ]\t\u00e9'}


def load(name):
    with open(os.path.join(HERE, "testdata", name), encoding="utf-8") as f:
        return tb.parse(f.read(), strict=True)


def by_func(gs, func):
    found = [g for g in gs if func in g.functions()]
    assert len(found) == 1, f"{len(found)} goroutines in {func}"
    return found[0]


class RealDumps(unittest.TestCase):
    VERSIONS = ("1.19", "1.21", "1.26", "1.27")

    def test_counts_and_ids(self):
        for v in self.VERSIONS:
            with self.subTest(go=v):
                gs = load(f"stack-go{v}.txt")
                self.assertEqual(len(gs), 30)
                self.assertEqual(len({g.id for g in gs}), 30)
                self.assertEqual(gs[0].id, 1)
                self.assertEqual(gs[0].status, "running")
                self.assertEqual(gs[0].functions(), ["main.allStacks", "main.writeDump", "main.main"])
                self.assertIsNone(gs[0].created_by)
                for g in gs:
                    self.assertEqual(g.unparsed, [])
                    self.assertTrue(g.frames)

    def test_statuses(self):
        sync_waits = {
            "1.19": ["semacquire"] * 4,
            "1.21": ["sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock", "semacquire"],
            "1.26": ["sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock", "sync.WaitGroup.Wait"],
        }
        sync_waits["1.27"] = sync_waits["1.26"]
        for v in self.VERSIONS:
            with self.subTest(go=v):
                gs = load(f"stack-go{v}.txt")
                st = lambda f: by_func(gs, f).status  # noqa: E731
                self.assertEqual(st("main.chanReceiver"), "chan receive")
                self.assertEqual(st("main.chanSender"), "chan send")
                self.assertEqual(st("main.nilChanReceiver"), "chan receive (nil chan)")
                self.assertEqual(st("main.nilChanSender"), "chan send (nil chan)")
                self.assertEqual(st("main.selectMany"), "select")
                self.assertEqual(st("main.selectNoCases"), "select (no cases)")
                self.assertEqual([st("main.mutexWaiter"), st("main.rwWriter"), st("main.rwReader"),
                                  st("main.waitGroupWaiter")], sync_waits[v])
                self.assertEqual(st("main.condWaiter"), "sync.Cond.Wait")
                self.assertEqual(st("main.sleeper"), "sleep")
                self.assertEqual(st("main.tcpReader"), "IO wait")
                self.assertEqual(st("main.servePing"), "IO wait")
                self.assertEqual(st("main.pipeReader"), "syscall")
                self.assertEqual(st("main.spinner"), "runnable")
                locked = by_func(gs, "main.lockedParker")
                self.assertEqual((locked.status, locked.locked_to_thread), ("chan receive", True))
                self.assertEqual(sum(g.locked_to_thread for g in gs), 1)

    def test_frames(self):
        for v in self.VERSIONS:
            with self.subTest(go=v):
                gs = load(f"stack-go{v}.txt")
                g = by_func(gs, "main.inlineHost")
                self.assertEqual(g.functions(), ["main.blockInlined", "main.inlineInner", "main.inlineOuter", "main.inlineHost"])
                self.assertEqual([f.inlined for f in g.frames], [False, True, True, False])
                self.assertEqual(g.frames[1].file, FIXTURE + "blockers.go")
                self.assertIsNone(g.frames[1].offset)
                self.assertIsNotNone(g.frames[0].offset)
                self.assertEqual(by_func(gs, "main.genericPark[...]").frames[0].function, "main.genericPark[...]")
                self.assertEqual(by_func(gs, "main.parker.parkValue").frames[0].args, "{0x0?}")
                by_func(gs, "main.(*parker).parkPointer")
                by_func(gs, "main.startClosure.func1")
                lab = by_func(gs, "main.labeledPark")
                self.assertEqual(lab.functions(), ["main.labeledPark", "main.labeled.func1", "runtime/pprof.Do", "main.labeled"])
                pipe = by_func(gs, "main.pipeReader")
                self.assertEqual(pipe.functions()[0], "syscall.Syscall")
                self.assertIn(("syscall.Read", True), [(f.function, f.inlined) for f in pipe.frames])

    def test_elision(self):
        for v in self.VERSIONS:
            with self.subTest(go=v):
                g = by_func(load(f"stack-go{v}.txt"), "main.recurse")
                fs = g.functions()
                if v == "1.19":
                    # Cut after 100 physical frames, 3 of them hidden runtime
                    # frames, without a word.
                    self.assertIsNone(g.elided)
                    self.assertEqual(fs, ["main.recurse"] * 97)
                else:
                    self.assertEqual((g.elided, g.elided_at), (1902, 50))
                    self.assertEqual(fs, ["main.recurse"] * 99 + ["main.deepRecursion"])
                    self.assertEqual(g.frames[0].line + 2, g.frames[1].line)

    def test_created_by(self):
        for v in self.VERSIONS:
            with self.subTest(go=v):
                gs = load(f"stack-go{v}.txt")
                child, spawner = by_func(gs, "main.spawnedChild"), by_func(gs, "main.spawner")
                self.assertEqual(child.created_by.function, "main.spawner")
                self.assertEqual(child.created_by.file, FIXTURE + "blockers.go")
                self.assertEqual(by_func(gs, "main.labeledChild").created_by.function, "main.labeled.func1")
                self.assertEqual(by_func(gs, "main.servePing").created_by.function, "main.startPingServer")
                if v == "1.19":
                    self.assertTrue(all(g.created_by.parent_id is None for g in gs[1:]))
                else:
                    self.assertEqual(child.created_by.parent_id, spawner.id)
                    self.assertEqual(by_func(gs, "main.chanReceiver").created_by.parent_id, 1)

    def test_labels(self):
        for v in self.VERSIONS:
            with self.subTest(go=v):
                gs = load(f"stack-go{v}.txt")
                labeled = [g for g in gs if g.labels]
                if v in ("1.19", "1.21"):
                    self.assertEqual(labeled, [])
                    continue
                self.assertEqual({g.id for g in labeled},
                                 {by_func(gs, "main.labeledPark").id, by_func(gs, "main.labeledChild").id})
                for g in labeled:
                    self.assertEqual(g.labels, LABELS)
                    self.assertEqual(g.status, "chan receive")
                where = "inside" if v == "1.26" else "after"
                self.assertEqual(labeled[0].header.endswith('"}]:'), where == "inside")

    def test_sigquit(self):
        for v, elided in (("1.19", tb.ADDITIONAL), ("1.27", 1907)):
            with self.subTest(go=v):
                gs = load(f"sigquit-go{v}-system.txt")
                main = next(g for g in gs if g.id == 1)
                self.assertEqual(main.status, "chan receive")
                self.assertEqual(main.functions()[:4], ["runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.dumperPark"])
                rec = by_func(gs, "main.recurse")
                self.assertEqual(rec.elided, elided)
                self.assertTrue(any(g.ancestors for g in gs))
                for g in gs:
                    self.assertEqual(g.unparsed, [])
                    for a in g.ancestors:
                        self.assertTrue(a.frames)
                if v == "1.27":
                    self.assertTrue(all(g.gp is not None for g in gs))
                    self.assertEqual(by_func(gs, "main.labeledChild").labels, LABELS)
                else:
                    self.assertTrue(all(g.gp is None for g in gs))  # Go 1.19 has no gp=


class Synthetic(unittest.TestCase):
    def test_split_function(self):
        cases = {
            "main.main()": ("main.main", ""),
            "main.(*T).m(...)": ("main.(*T).m", "..."),
            "main.f({0x1, 0x2}, 0xc000010000)": ("main.f", "{0x1, 0x2}, 0xc000010000"),
            "panic({0x4a5b60?, 0xc00001e0a0?})": ("panic", "{0x4a5b60?, 0xc00001e0a0?}"),
            "main.F[...](0x0?)": ("main.F[...]", "0x0?"),
            "main.(*T[...]).m.func1.2({{}, 0x1})": ("main.(*T[...]).m.func1.2", "{{}, 0x1}"),
        }
        for line, want in cases.items():
            self.assertEqual(tb.split_function(line), want, line)
        for bad in ("main.f", "(0x1)", "main.f(0x1"):
            with self.assertRaises(ValueError):
                tb.split_function(bad)

    def test_headers(self):
        h = tb.parse_header("goroutine 7 [chan receive, 3 minutes, locked to thread]:")
        self.assertEqual((h.id, h.status, h.minutes, h.locked_to_thread), (7, "chan receive", 3, True))
        h = tb.parse_header("goroutine 8 [select (no cases), 120 minutes]:")
        self.assertEqual((h.status, h.minutes, h.locked_to_thread), ("select (no cases)", 120, False))
        h = tb.parse_header("goroutine 9 [chan receive (scan)]:")
        self.assertEqual((h.status, h.scan), ("chan receive", True))
        h = tb.parse_header("goroutine 10 [chan receive (durable), synctest bubble 3]:")
        self.assertEqual((h.status, h.bubble), ("chan receive (durable)", 3))
        h = tb.parse_header("goroutine 11 [sync.Mutex.Lock (leaked), 2 minutes]:")
        self.assertEqual((h.status, h.minutes), ("sync.Mutex.Lock (leaked)", 2))
        h = tb.parse_header("goroutine 1 gp=0xc000002380 m=0 mp=0x5a2f40 [running]:")
        self.assertEqual((h.gp, h.m, h.status), (0xc000002380, 0, "running"))
        h = tb.parse_header("goroutine 5 gp=0xc0000071e0 m=nil [GC worker (idle)]:")
        self.assertEqual((h.m, h.status), (None, "GC worker (idle)"))
        self.assertIsNone(tb.parse_header("goroutine profile: total 4"))
        with self.assertRaises(ValueError):
            tb.parse_header("goroutine 3 [chan receive")

    def test_labels(self):
        # Go 1.26: inside the brackets, after the other suffixes, always quoted.
        h = tb.parse_header('goroutine 4 [chan receive, locked to thread labels:{"a": "x]y", "b c": ""}]:')
        self.assertEqual((h.status, h.locked_to_thread, h.labels), ("chan receive", True, {"a": "x]y", "b c": ""}))
        # Go 1.27: after the brackets, quoted only when needed (so "" is empty).
        h = tb.parse_header('goroutine 4 [select] {a: x.y/z_1, "k\\"": "\\n\\x01\\u00e9\\U0001f600", e: }:')
        self.assertEqual((h.status, h.labels), ("select", {"a": "x.y/z_1", 'k"': "\n\x01\u00e9\U0001f600", "e": ""}))
        h = tb.parse_header("goroutine 4 [select] {}:")
        self.assertEqual(h.labels, {})
        for bad in ('goroutine 4 [select] {a x}:', 'goroutine 4 [select] {"a: b}:', "goroutine 4 [select] {a: b}"):
            with self.assertRaises(ValueError, msg=bad):
                tb.parse_header(bad)

    def test_blocks(self):
        text = "\n".join([
            "panic: boom",
            "",
            "goroutine 1 [running]:",
            "panic({0x4a5b60?, 0xc00001e0a0?})",
            "\t/usr/lib/go/src/runtime/panic.go:770 +0x132",
            "main.main()",
            "\t/src/main.go:9 +0x25 fp=0xc000050f50 sp=0xc000050f20 pc=0x45c2a5",
            "",
            "goroutine 6 [running]:",
            "\tgoroutine running on other thread; stack unavailable",
            "created by main.main in goroutine 1",
            "\t/src/main.go:7 +0x1d",
            "",
            "goroutine 7 [syscall]:",
            "non-Go function at pc=0x7f0011223344",
            "main.cgoHelper",
            "\t/src/helper.c:12 pc=0x401000",
            "main._Cfunc_block(0x1)",
            "\t_cgo_gotypes.go:61 +0x4b",
            "...additional frames elided...",
            "created by main.start",
            "\t/src/main.go:20",
        ])
        gs = tb.parse(text, strict=True)
        self.assertEqual(tb.parse(text + "\nexit status 2\n")[2].unparsed, [])
        with self.assertRaises(tb.ParseError):
            tb.parse(text + "\nexit status 2\n", strict=True)
        self.assertEqual([g.id for g in gs], [1, 6, 7])
        self.assertEqual(gs[0].functions(), ["panic", "main.main"])
        self.assertEqual(gs[0].frames[1].key, ("main.main", "/src/main.go", 9))
        self.assertEqual(gs[0].frames[1].offset, 0x25)
        self.assertTrue(gs[1].stack_unavailable)
        self.assertEqual(gs[1].frames, [])
        self.assertEqual(gs[1].created_by, tb.CreatedBy("main.main", 1, "/src/main.go", 7, 0x1d))
        g = gs[2]
        self.assertEqual([(f.function, f.file, f.line, f.pc) for f in g.frames], [
            ("non-Go function", None, None, 0x7f0011223344),
            ("main.cgoHelper", "/src/helper.c", 12, 0x401000),
            ("main._Cfunc_block", "_cgo_gotypes.go", 61, None)])
        self.assertEqual((g.elided, g.elided_at), (tb.ADDITIONAL, 3))
        self.assertEqual(g.created_by, tb.CreatedBy("main.start", None, "/src/main.go", 20, None))

    def test_strictness(self):
        text = "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x25\nsomething else\n"
        with self.assertRaises(tb.ParseError) as e:
            tb.parse(text, strict=True)
        self.assertEqual(e.exception.lineno, 4)
        self.assertEqual(tb.parse(text)[0].unparsed, ["something else"])
        with self.assertRaises(tb.ParseError):  # created by without its file line
            tb.parse("goroutine 2 [select]:\ncreated by main.main\n", strict=True)


class Compare(unittest.TestCase):
    """agree.compare() on a dump against an edited copy of itself."""

    def setUp(self):
        self.dump = load("stack-go1.27.txt")
        self.view = copy.deepcopy(self.dump)
        # What sonde should see of the dumping goroutine: parked.
        self.view[0].status = "chan receive"
        self.view[0].frames = [tb.Frame("main.dumperPark", FIXTURE + "main.go", 105, 0x1c, ""),
                               tb.Frame("main.main", FIXTURE + "main.go", 88, 0x2ba, "")]

    def g(self, gs, func):
        return by_func(gs, func)

    def test_agrees(self):
        self.assertEqual(agree.compare(self.dump, self.view), [])

    def test_exceptions(self):
        spin = self.g(self.view, "main.spinner")
        spin.status = "running"
        spin.frames = spin.frames[1:]  # caught in spinner rather than spinStep
        self.assertEqual(agree.compare(self.dump, self.view), [])
        spin.frames = []
        self.assertEqual([m.what for m in agree.compare(self.dump, self.view)],
                         ["the CPU spinner's frames lack main.spinner"])
        self.view = copy.deepcopy(self.dump)  # the dumper as in the dump: not parked
        self.assertEqual(len(agree.compare(self.dump, self.view)), 1)

    def test_differences(self):
        def mismatches(edit):
            view = copy.deepcopy(self.view)
            edit(view)
            return [(m.gid, m.what) for m in agree.compare(self.dump, view)]

        inl = self.g(self.view, "main.inlineHost").id
        child = self.g(self.view, "main.spawnedChild").id
        rec = self.g(self.view, "main.recurse").id

        def set_frame(func, i, **kw):
            def edit(view):
                g = by_func(view, func)
                g.frames[i] = tb.Frame(**{**g.frames[i].__dict__, **kw})
            return edit

        self.assertEqual(mismatches(set_frame("main.inlineHost", 0, line=1)), [(inl, "frames differ [chan receive]")])
        self.assertEqual(mismatches(set_frame("main.inlineHost", 1, offset=4)), [(inl, "frames differ [chan receive]")])
        self.assertEqual(mismatches(set_frame("main.inlineHost", 0, offset=4)), [])  # offsets are not compared...
        view = copy.deepcopy(self.view)
        set_frame("main.inlineHost", 0, offset=4)(view)
        self.assertEqual(len(agree.compare(self.dump, view, offsets=True)), 1)  # ... unless asked
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.recurse"), "elided", 3)),
                         [(rec, "frames differ [chan receive]")])
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.spawnedChild"), "status", "select")),
                         [(child, "status differs")])
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.spawnedChild"), "labels", {})),
                         [(child, "labels differ")])
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.spawnedChild"), "locked_to_thread", True)),
                         [(child, "'locked to thread' differs")])
        cb = self.g(self.view, "main.spawnedChild").created_by
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.spawnedChild"), "created_by", cb.__class__(
            cb.function, 1, cb.file, cb.line))), [(child, "parent goroutine differs")])
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.spawnedChild"), "created_by", None)),
                         [(child, "'created by' differs")])
        self.assertEqual(mismatches(lambda v: v.remove(by_func(v, "main.spawnedChild"))),
                         [(child, "missing from sonde")])
        self.assertEqual(mismatches(lambda v: v.append(tb.Goroutine(id=99999, status="select"))),
                         [(99999, "listed by sonde but not in the dump")])
        # The minutes a goroutine has waited may differ.
        self.assertEqual(mismatches(lambda v: setattr(by_func(v, "main.spawnedChild"), "minutes", 2)), [])

    def test_frame_diff_is_readable(self):
        view = copy.deepcopy(self.view)
        g = by_func(view, "main.inlineHost")
        g.frames[0] = tb.Frame(**{**g.frames[0].__dict__, "line": 1})
        (m,) = agree.compare(self.dump, view)
        text = m.render()
        self.assertIn(f"goroutine {g.id}: frames differ", text)
        self.assertIn(f"-main.blockInlined {FIXTURE}blockers.go:", text)
        self.assertIn(f"+main.blockInlined {FIXTURE}blockers.go:1", text)

    def test_unelided_json_frames(self):
        # sonde's JSON may list all 2001 frames the text format elides.
        d = by_func(self.dump, "main.recurse")
        full = copy.deepcopy(d)
        full.frames = d.frames[:50] + [d.frames[50]] * 1902 + d.frames[50:]
        full.elided = full.elided_at = None
        self.assertTrue(agree.frames_agree(d, full, offsets=False, unelided=True))
        self.assertFalse(agree.frames_agree(d, full, offsets=False, unelided=False))
        full.frames = full.frames[1:]
        self.assertFalse(agree.frames_agree(d, full, offsets=False, unelided=True))
        # ... or elide them too, saying how many (frames_elided).
        same = copy.deepcopy(d)
        same.elided_at = None
        self.assertTrue(agree.frames_agree(d, same, offsets=False, unelided=True))
        same.elided = 1901
        self.assertFalse(agree.frames_agree(d, same, offsets=False, unelided=True))
        # Go 1.19 cut the stack silently: the JSON may go on.
        d19 = by_func(load("stack-go1.19.txt"), "main.recurse")
        full.frames = d19.frames + [d19.frames[-1]] * 1904
        self.assertTrue(agree.frames_agree(d19, full, offsets=False, unelided=True))
        # A short stack must match exactly.
        d = by_func(self.dump, "main.inlineHost")
        longer = copy.deepcopy(d)
        longer.frames.append(longer.frames[-1])
        self.assertFalse(agree.frames_agree(d, longer, offsets=False, unelided=True))

    def test_json_shape(self):
        good = {"goroutines": [{
            "id": 1, "status": "waiting", "wait_reason": "chan receive", "parent_id": None, "created_by": None,
            "frames": [{"function": "main.dumperPark", "file": FIXTURE + "main.go", "line": 105, "pc": "0x62f73c", "inlined": False},
                       {"function": "main.main", "file": FIXTURE + "main.go", "line": 88, "pc": 6485820, "inlined": False}]}]}
        gs, statuses, problems = agree.json_goroutines(good)
        self.assertEqual(problems, [])
        self.assertEqual(statuses, {1: ("waiting", "chan receive")})
        self.assertEqual(gs[0].functions(), ["main.dumperPark", "main.main"])
        good["goroutines"][0].update(frames_elided=0, locked_to_thread=False)
        self.assertEqual(agree.json_goroutines(good)[0][0].locked_to_thread, False)
        for edit in (lambda o: o.pop("wait_reason"), lambda o: o.update(id="1"),
                     lambda o: o.update(frames_elided=-1), lambda o: o.update(locked_to_thread=1),
                     lambda o: o["frames"][0].update(pc="nope"), lambda o: o["frames"][1].pop("inlined"),
                     lambda o: o.update(created_by={"function": "main.main"}), lambda o: o.update(frames={})):
            bad = copy.deepcopy(good)
            edit(bad["goroutines"][0])
            self.assertEqual(len(agree.json_goroutines(bad)[2]), 1, bad)
        self.assertEqual(len(agree.json_goroutines([])[2]), 1)


if __name__ == "__main__":
    unittest.main()
