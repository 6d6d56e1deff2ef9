"""Parse Go goroutine tracebacks.

Reads the text that runtime.Stack(buf, true), a SIGQUIT or a fatal panic
prints (and that `sonde goroutines` prints), for Go 1.19 and later:

    goroutine 7 [chan receive, 3 minutes, locked to thread]:
    main.worker({0x1, 0x2}, 0xc000010000)
    	/src/main.go:42 +0x1d
    main.helper(...)
    	/src/main.go:30
    created by main.main in goroutine 1
    	/src/main.go:20 +0x6a

into Goroutine objects. Standard library only; `python3 tb.py FILE` prints a
summary of FILE (or of stdin) as a quick check.

Format notes, by Go version:
  * "created by F in goroutine N" names the parent from Go 1.21; before, only
    "created by F".
  * Long stacks: Go 1.21+ print the 50 innermost and 50 outermost frames around
    a "...N frames elided..." line. Go 1.19/1.20 stop after 100 physical
    frames, and print "...additional frames elided..." only if all 100 were
    shown (hidden runtime frames count too, so usually they stop silently).
  * pprof labels (GODEBUG=tracebacklabels=1): Go 1.26 prints them inside the
    brackets, always quoted, `[chan receive labels:{"k": "v"}]:`; Go 1.27 after
    them, quoted only when needed, `[chan receive] {k: v, "a b": "c"}:`.
  * GOTRACEBACK=system/crash add " gp=0x.. m=N mp=0x.." to the header (Go 1.22+)
    and " fp=0x.. sp=0x.. pc=0x.." to file lines.
  * GODEBUG=tracebackancestors=N appends "[originating from goroutine N]:"
    sections, each with frames and a "created by" line of its own.
"""

import dataclasses
import re
import sys
from typing import Dict, List, Optional, Tuple

__all__ = [
    "Frame", "CreatedBy", "Ancestor", "Goroutine", "ParseError",
    "parse", "parse_header", "split_function", "ADDITIONAL",
]

# Goroutine.elided when Go 1.19/1.20 printed "...additional frames elided...",
# which gives no count.
ADDITIONAL = -1


class ParseError(ValueError):
    def __init__(self, lineno: int, line: str, msg: str):
        super().__init__(f"line {lineno}: {msg}: {line!r}")
        self.lineno, self.line = lineno, line


@dataclasses.dataclass(frozen=True)
class Frame:
    function: str            # without the argument list: "main.(*T).m", "panic"
    file: Optional[str]      # None for cgo frames without symbol information
    line: Optional[int]
    offset: Optional[int] = None  # the "+0x1d" (pc - function entry), if printed
    args: Optional[str] = None    # argument list as printed, without the parentheses
    pc: Optional[int] = None      # cgo frames only

    @property
    def inlined(self) -> bool:
        # The runtime prints inlined calls as "f(...)" with no +0x offset.
        return self.args == "..." and self.offset is None and self.file is not None

    @property
    def key(self) -> Tuple[str, Optional[str], Optional[int]]:
        """What two tracebacks of the same stack must agree on."""
        return (self.function, self.file, self.line)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file is not None else f"pc={self.pc:#x}" if self.pc else "?"
        return f"{self.function} {where}"


@dataclasses.dataclass(frozen=True)
class CreatedBy:
    function: str
    parent_id: Optional[int]  # None before Go 1.21, and in ancestor sections
    file: str
    line: int
    offset: Optional[int] = None

    @property
    def key(self) -> Tuple[str, str, int]:
        return (self.function, self.file, self.line)

    def __str__(self) -> str:
        parent = f" in goroutine {self.parent_id}" if self.parent_id is not None else ""
        return f"{self.function}{parent} {self.file}:{self.line}"


@dataclasses.dataclass
class Ancestor:
    """A "[originating from goroutine N]:" section (GODEBUG=tracebackancestors)."""
    id: int
    frames: List[Frame] = dataclasses.field(default_factory=list)
    elided: Optional[int] = None
    created_by: Optional[CreatedBy] = None


@dataclasses.dataclass
class Goroutine:
    id: int
    status: str                 # "chan receive", "running", "select (no cases)", ...
    minutes: int = 0            # ", N minutes": how long it has been blocked
    locked_to_thread: bool = False
    scan: bool = False          # " (scan)": the GC was scanning its stack
    bubble: Optional[int] = None  # ", synctest bubble N"
    labels: Optional[Dict[str, str]] = None  # pprof labels, when printed
    gp: Optional[int] = None    # " gp=0x.. m=N mp=0x.." (GOTRACEBACK=system)
    m: Optional[int] = None
    frames: List[Frame] = dataclasses.field(default_factory=list)
    # A "...N frames elided..." line sits before frames[elided_at]; elided is N
    # (ADDITIONAL for the count-less Go 1.19 form), or None if there is none.
    elided: Optional[int] = None
    elided_at: Optional[int] = None
    created_by: Optional[CreatedBy] = None
    stack_unavailable: bool = False  # "goroutine running on other thread; ..."
    ancestors: List[Ancestor] = dataclasses.field(default_factory=list)
    header: str = ""            # the header line as printed
    lineno: int = 0             # where the header is in the input (1-based)
    unparsed: List[str] = dataclasses.field(default_factory=list)  # non-strict mode

    def functions(self) -> List[str]:
        return [f.function for f in self.frames]


_HEADER_RE = re.compile(
    r"goroutine (\d+)(?: gp=(0x[0-9a-f]+) m=(nil|\d+)(?: mp=0x[0-9a-f]+)?)? \[")
_FILE_RE = re.compile(
    r"\t(.*):(\d+)(?: \+0x([0-9a-f]+))?(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x[0-9a-f]+)?")
_CGO_FILE_RE = re.compile(r"\t(?:(.*):(\d+) )?pc=0x([0-9a-f]+)")
_CGO_BARE_RE = re.compile(r"non-Go function at pc=0x([0-9a-f]+)")
_ELIDED_RE = re.compile(r"\.\.\.(\d+) frames elided\.\.\.")
_ADDITIONAL_ELIDED = "...additional frames elided..."
_CREATED_RE = re.compile(r"created by (.+?)(?: in goroutine (\d+))?")
_ANCESTOR_RE = re.compile(r"\[originating from goroutine (\d+)\]:")
_UNAVAILABLE = "\tgoroutine running on other thread; stack unavailable"
_SUFFIX_RE = re.compile(
    r"(?:, (?P<minutes>\d+) minutes)?(?P<locked>, locked to thread)?"
    r"(?:, synctest bubble (?P<bubble>\d+))?$")
_BARE_LABEL_RE = re.compile(r"[A-Za-z0-9./_]*")


def split_function(text: str) -> Tuple[str, str]:
    """Split a frame's function line "main.f({0x1, 0x2}, 0x3)" into
    ("main.f", "{0x1, 0x2}, 0x3"). The argument list is the last balanced
    parenthesised group; the name itself may hold parentheses, as in
    "main.(*T).m(...)", and brackets, as in "main.F[...](...)"."""
    if not text.endswith(")"):
        raise ValueError("no argument list")
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                if i == 0:
                    raise ValueError("no function name")
                return text[:i], text[i + 1:-1]
    raise ValueError("unbalanced parentheses")


def _unquote(s: str, i: int) -> Tuple[str, int]:
    """Decode the runtime's quoted string starting at s[i] == '"' (runtime
    printquoted: \\n \\r \\t \\\\ \\" \\xHH \\uHHHH \\UHHHHHHHH); return it and
    the index after the closing quote."""
    assert s[i] == '"'
    out = bytearray()
    i += 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return out.decode("utf-8", "surrogateescape"), i + 1
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        e = s[i + 1:i + 2]
        if e in ("n", "r", "t", "\\", '"'):
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"'}[e]
            i += 2
        elif e in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = s[i + 2:i + 2 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError(f"bad escape \\{e}{digits}")
            v = int(digits, 16)
            out += bytes([v]) if e == "x" else chr(v).encode("utf-8", "surrogatepass")
            i += 2 + width
        else:
            raise ValueError(f"bad escape \\{e}")
    raise ValueError("unterminated quoted string")


def _label_token(s: str, i: int) -> Tuple[str, int]:
    if s.startswith('"', i):
        return _unquote(s, i)
    m = _BARE_LABEL_RE.match(s, i)
    return m.group(), m.end()


def _parse_labels(s: str, i: int) -> Tuple[Dict[str, str], int]:
    """Parse "{k: v, k2: v2}" starting at s[i] == '{'; return the labels and
    the index after the '}'."""
    if not s.startswith("{", i):
        raise ValueError("labels do not start with '{'")
    i += 1
    labels: Dict[str, str] = {}
    if s.startswith("}", i):
        return labels, i + 1
    while True:
        key, i = _label_token(s, i)
        if not s.startswith(": ", i):
            raise ValueError(f"expected ': ' after label key {key!r}")
        value, i = _label_token(s, i + 2)
        labels[key] = value
        if s.startswith(", ", i):
            i += 2
        elif s.startswith("}", i):
            return labels, i + 1
        else:
            raise ValueError(f"expected ', ' or '}}' after label {key!r}")


def parse_header(line: str) -> Optional[Goroutine]:
    """Parse a "goroutine N [...]:" line; None if line is not one. Raises
    ValueError if it starts like a header but is malformed."""
    m = _HEADER_RE.match(line)
    if not m:
        return None
    g = Goroutine(id=int(m.group(1)), status="", header=line)
    if m.group(2):
        g.gp = int(m.group(2), 16)
        g.m = None if m.group(3) == "nil" else int(m.group(3))
    rest = line[m.end():]
    labels = None
    # Go 1.26 prints labels inside the brackets. Quoted label values may hold
    # ']' or ', ', so look for them before looking for the closing bracket.
    inside = rest.find(" labels:{")
    close = rest.find("]")
    if inside != -1 and (close == -1 or inside < close):
        body = rest[:inside]
        labels, end = _parse_labels(rest, inside + len(" labels:"))
        tail = rest[end:]
        if tail != "]:":
            raise ValueError(f"unexpected {tail!r} after labels")
    else:
        if close == -1:
            raise ValueError("no ']' in goroutine header")
        body, tail = rest[:close], rest[close + 1:]
        if tail.startswith(" {"):  # Go 1.27 prints labels after the brackets
            labels, end = _parse_labels(tail, 1)
            tail = tail[end:]
        if tail != ":":
            raise ValueError(f"unexpected {tail!r} after the status")
    s = _SUFFIX_RE.search(body)
    status = body[:s.start()]
    if s.group("minutes"):
        g.minutes = int(s.group("minutes"))
    g.locked_to_thread = bool(s.group("locked"))
    if s.group("bubble"):
        g.bubble = int(s.group("bubble"))
    # " (scan)" is the GC's transient mark; " (leaked)" and " (durable)" are
    # part of the state and stay in the status.
    if " (scan)" in status:
        g.scan = True
        status = status.replace(" (scan)", "", 1)
    g.status = status
    g.labels = labels
    return g


def parse(text: str, strict: bool = False) -> List[Goroutine]:
    """Parse every goroutine in text, in order.

    Lines outside goroutine blocks (panic messages, "SIGQUIT: quit", register
    dumps, ...) are skipped. A block runs from its header to the next blank
    line or header. Inside a block, a line that fits nowhere raises ParseError
    if strict; otherwise it ends the block if it follows "created by" (as go
    run's "exit status 2" does) and is kept in Goroutine.unparsed if not.
    """
    lines = text.split("\n")
    gs: List[Goroutine] = []
    g: Optional[Goroutine] = None
    # Where frames and "created by" go: g, or its latest Ancestor.
    target = None
    i = 0

    def fail(msg: str) -> None:
        raise ParseError(i + 1, lines[i], msg)

    def bad(msg: str) -> None:
        if strict:
            fail(msg)
        g.unparsed.append(lines[i])

    while i < len(lines):
        line = lines[i]
        if line.startswith("goroutine "):
            try:
                h = parse_header(line)
            except ValueError as e:
                fail(f"bad goroutine header ({e})")
            if h is not None:
                h.lineno = i + 1
                g = target = h
                gs.append(g)
                i += 1
                continue
        if g is None:
            i += 1  # text outside any goroutine
            continue
        if line == "":
            g = target = None
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""

        m = _ELIDED_RE.fullmatch(line)
        if m or line == _ADDITIONAL_ELIDED:
            if target.elided is not None:
                fail("second elision line")
            target.elided = int(m.group(1)) if m else ADDITIONAL
            if target is g:
                g.elided_at = len(g.frames)
            i += 1
            continue
        m = _CREATED_RE.fullmatch(line)
        if m:
            f = _FILE_RE.fullmatch(nxt)
            if not f:
                i += 1
                fail("'created by' line without a file line")
            if target.created_by is not None:
                fail("second 'created by' line")
            target.created_by = CreatedBy(
                function=m.group(1),
                parent_id=int(m.group(2)) if m.group(2) else None,
                file=f.group(1), line=int(f.group(2)),
                offset=int(f.group(3), 16) if f.group(3) else None)
            i += 2
            continue
        m = _ANCESTOR_RE.fullmatch(line)
        if m:
            target = Ancestor(id=int(m.group(1)))
            g.ancestors.append(target)
            i += 1
            continue
        if line == _UNAVAILABLE:
            g.stack_unavailable = True
            i += 1
            continue
        m = _CGO_BARE_RE.fullmatch(line)
        if m:
            target.frames.append(Frame("non-Go function", None, None, pc=int(m.group(1), 16)))
            i += 1
            continue
        if line.startswith("\t"):
            bad("file line without a function line")
            i += 1
            continue

        # A function line, followed by its file line.
        f = _FILE_RE.fullmatch(nxt)
        if f:
            try:
                name, args = split_function(line)
            except ValueError as e:
                bad(f"bad function line ({e})")
                i += 1
                continue
            target.frames.append(Frame(
                function=name, file=f.group(1), line=int(f.group(2)),
                offset=int(f.group(3), 16) if f.group(3) else None, args=args))
            i += 2
            continue
        c = _CGO_FILE_RE.fullmatch(nxt)
        if c:  # a symbolized cgo frame: name as the symbolizer gave it
            target.frames.append(Frame(
                function=line, file=c.group(1),
                line=int(c.group(2)) if c.group(2) else None,
                pc=int(c.group(3), 16)))
            i += 2
            continue
        if not strict and g.created_by is not None and not g.ancestors:
            # "created by" ends a goroutine's traceback: this line is likely
            # text after the dump (like go run's "exit status 2").
            g = target = None
            i += 1
            continue
        bad("unexpected line")
        i += 1
    return gs


def _summary(gs: List[Goroutine]) -> str:
    out = []
    for g in gs:
        extra = []
        if g.elided is not None:
            extra.append("elided " + ("?" if g.elided == ADDITIONAL else str(g.elided)))
        if g.labels:
            extra.append(f"labels {g.labels}")
        if g.locked_to_thread:
            extra.append("locked")
        top = g.frames[0].function if g.frames else "-"
        cb = f" <- {g.created_by}" if g.created_by else ""
        out.append(f"{g.id:>6} [{g.status}] {len(g.frames)} frames, top {top}{cb}"
                   + (f" ({', '.join(extra)})" if extra else ""))
    return "\n".join(out)


if __name__ == "__main__":
    src = open(sys.argv[1], encoding="utf-8", errors="surrogateescape") if len(sys.argv) > 1 else sys.stdin
    gs = parse(src.read(), strict=True)
    print(_summary(gs))
    print(f"{len(gs)} goroutines")
