#!/usr/bin/env python3
"""make_corpus.py: regenerates the fuzzers' seed corpus (tests/fuzz/corpus/).

Every seed is cut from bytes already in the repository, so the corpus is
reproducible with nothing but Python:
  fuzz_pclntab       the .gopclntab sections of tests/unit/data/go1.{19,21,27},
                     shrunk to ~100 of their functions (the special ones, those
                     globals_code.c decodes, main.*, an even sample), with their
                     pc-value tables and funcdata (inline trees, stack maps),
                     behind the harness's 40-byte header (fuzz_pclntab.c)
  fuzz_elf           small x86-64 ELF files around those tables and the
                     .go.buildinfo sections: stripped (moduledata, wait
                     reasons and runtime.forEachGRace's code from
                     tests/unit/data/code, for globals_code.c), with a symbol
                     table, with DWARF, PIE without a .go.buildinfo section
  fuzz_dwarf_layout  ELF files whose DWARF (written here) describes the runtime
                     structs of index/layouts/go1.{19,27}.yaml
  fuzz_layout_table  index/layouts/go1.{19,27}.yaml
  fuzz_index         tests/unit/data/index/*.yaml
  fuzz_config        tests/unit/data/config/*.ini and the sonde.ini files the
                     end-to-end tests write
  fuzz_yaml          the layout tables and indexes above
Files named crash-* (inputs that once crashed a harness) are kept.
  tests/fuzz/make_corpus.py        (then review and commit the diff)
"""
import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "tests", "unit", "data")
LAYOUTS = os.path.join(ROOT, "index", "layouts")
CORPUS = os.path.join(HERE, "corpus")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def facts(path):
    out = {}
    for line in read(path).decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.split(" ", 1)
            out[k] = int(v, 16) if v.startswith("0x") else v
    return out


u32 = lambda b, o: struct.unpack_from("<I", b, o)[0]
u64 = lambda b, o: struct.unpack_from("<Q", b, o)[0]


def align(n, a):
    return (n + a - 1) // a * a


# ---- pclntab --------------------------------------------------------------
# runtime/symtab.go: pcHeader (72 bytes), functab {entryoff, funcoff}, _func
# (40 bytes in 1.18-1.19, 44 after) followed by npcdata u32 pc-table offsets
# and nfuncdata u32 funcdata offsets (relative to moduledata.gofunc).

KEEP = {
    "runtime.deferreturn", "runtime.gopanic", "runtime.sigpanic", "runtime.panicwrap", "runtime.main",
    "runtime.corostart", "runtime.handleAsyncEvent", "runtime.runfinq", "runtime.runFinalizers",
    "runtime.runCleanups", "runtime.asyncPreempt", "runtime.debugCallV2", "runtime.goexit", "runtime.mcall",
    "runtime.morestack", "runtime.systemstack", "runtime.mstart", "runtime.rt0_go", "runtime.gopark",
    "runtime.forEachGRace", "runtime.gcSweep", "runtime.(*mcache).allocLarge", "runtime.(*mcache).releaseAll",
    "runtime.semrelease1", "runtime.semacquire1", "runtime.schedule", "runtime.park_m", "runtime.chanrecv",
    "runtime.selectgo", "runtime.newproc", "runtime.goexit1",
}
SAMPLE = 24  # plus every SAMPLE-th function


def pcvalue_len(tab, off):
    """Bytes of the pc-value table at off (runtime.step: ends at a zero value delta)."""
    p, first = off, True
    while True:
        v, p = uvarint(tab, p)
        if v == 0 and not first:
            return p - off
        _, p = uvarint(tab, p)
        first = False


def uvarint(b, p):
    v = s = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, p


class Pcln:
    def __init__(self, ver):
        self.ver = ver
        d = os.path.join(DATA, "go" + ver)
        self.facts = facts(os.path.join(d, "facts.txt"))
        self.b = read(os.path.join(d, "gopclntab.bin"))
        b = self.b
        self.go118 = u32(b, 0) == 0xFFFFFFF0
        self.fsize = 40 if self.go118 else 44
        self.nfunc = u64(b, 8)
        self.offs = [u64(b, 32 + 8 * i) for i in range(5)]
        self.addr = self.facts["pclntab_addr"]
        self.gofunc = self.facts["gofunc"]
        if "funcdata_addr" in self.facts:  # funcdata outside .gopclntab (Go <= 1.25)
            self.fd = read(os.path.join(d, "funcdata.bin"))
            self.fd_off = self.facts["funcdata_addr"] - self.gofunc
        else:
            self.fd = b
            self.fd_off = self.gofunc - self.addr  # gofunc's offset inside the table
        self.funcs = []
        pl = self.offs[4]
        for i in range(self.nfunc + 1):
            e, fo = struct.unpack_from("<II", b, pl + 8 * i)
            self.funcs.append((e, fo))

    def name(self, i):
        fo = self.funcs[i][1]
        no = struct.unpack_from("<i", self.b, self.offs[4] + fo + 4)[0]
        s = self.offs[0] + no
        return self.b[s:self.b.index(b"\0", s)].decode()

    def record(self, i):
        b, at = self.b, self.offs[4] + self.funcs[i][1]
        npc = u32(b, at + 28)
        nfd = b[at + self.fsize - 1]
        return at, npc, nfd

    def funcdata_ends(self):
        """Every funcdata offset in the table, so that a blob's length is the distance to the next."""
        offs = set()
        for i in range(self.nfunc):
            at, npc, nfd = self.record(i)
            for k in range(nfd):
                o = u32(self.b, at + self.fsize + 4 * (npc + k))
                if o != 0xFFFFFFFF:
                    offs.add(o)
        return sorted(offs)

    def shrink(self):
        """(table, gofunc, funcdata blob or b"") keeping the chosen functions.

        Names, compilation units and files are kept whole (inline trees
        refer to names by offset); pc tables and funcdata are copied per
        function; a function's successor is kept too, so that its end (the
        next entry) is exact."""
        b = self.b
        keep = set()
        for i in range(self.nfunc):
            n = self.name(i)
            if n in KEEP or n.startswith("main.") or i % SAMPLE == 0:
                keep.add(i)
                if i + 1 < self.nfunc:
                    keep.add(i + 1)
        keep = sorted(keep)
        pctab_old = b[self.offs[3]:self.offs[4]]
        pctab = bytearray(b"\0")  # offset 0 means "no table"
        moved = {0: 0}

        def pc(off):
            if off not in moved:
                moved[off] = len(pctab)
                pctab.extend(pctab_old[off:off + pcvalue_len(pctab_old, off)])
            return moved[off]

        ends = self.funcdata_ends()
        fd_end = len(self.fd) - self.fd_off  # the last blob runs to the end of the region
        blobs = bytearray()
        fd_moved = {}

        def fdata(off):
            if off == 0xFFFFFFFF:
                return off
            if off not in fd_moved:
                k = ends.index(off)
                end = ends[k + 1] if k + 1 < len(ends) else fd_end
                while len(blobs) % 8:
                    blobs.append(0)
                fd_moved[off] = len(blobs)
                blobs.extend(self.fd[self.fd_off + off:self.fd_off + end])
            return fd_moved[off]

        recs = []
        for i in keep:
            at, npc, nfd = self.record(i)
            r = bytearray(b[at:at + self.fsize + 4 * (npc + nfd)])
            for f in (16, 20, 24):  # pcsp, pcfile, pcln
                struct.pack_into("<I", r, f, pc(u32(r, f)))
            for k in range(npc):
                struct.pack_into("<I", r, self.fsize + 4 * k, pc(u32(r, self.fsize + 4 * k)))
            for k in range(nfd):
                o = self.fsize + 4 * (npc + k)
                struct.pack_into("<I", r, o, fdata(u32(r, o)))
            recs.append(bytes(r))

        head = bytearray(b[:72])
        struct.pack_into("<Q", head, 8, len(keep))
        out = bytearray(head)
        out += b[self.offs[0]:self.offs[3]]  # funcnametab, cutab, filetab
        new_offs = [72, 72 + self.offs[1] - self.offs[0], 72 + self.offs[2] - self.offs[0], len(out)]
        out += pctab
        while len(out) % 8:
            out.append(0)
        new_offs.append(len(out))
        ftab = bytearray()
        fo = 8 * (len(keep) + 1)
        funcs = bytearray()
        for i, r in zip(keep, recs):
            ftab += struct.pack("<II", self.funcs[i][0], fo + len(funcs))
            funcs += r
            while len(funcs) % 4:
                funcs.append(0)
        last = keep[-1] + 1  # the end sentinel: the next function's entry, or the table's end
        ftab += struct.pack("<II", self.funcs[last][0], 0)
        out += ftab + funcs
        for k, o in enumerate(new_offs):
            struct.pack_into("<Q", out, 32 + 8 * k, o)
        if self.fd is b:  # 1.26+: funcdata lives inside .gopclntab, after the functions
            while len(out) % 8:
                out.append(0)
            gofunc = self.addr + len(out)
            out += blobs
            return bytes(out), gofunc, b""
        return bytes(out), self.gofunc, bytes(blobs)

    def entry(self, name):
        for i in range(self.nfunc):
            if self.name(i) == name:
                return self.funcs[i][0], self.funcs[i + 1][0]
        raise KeyError(name)


def pcln_seed(p):
    """fuzz_pclntab's input: text, gofunc, table address, funcdata address,
    table length (u64 each), the table, the funcdata."""
    tab, gofunc, fd = p.shrink()
    hdr = struct.pack("<QQQQQ", p.facts["text"], gofunc, p.addr, gofunc, len(tab))
    return hdr + tab + fd


# ---- layout tables ---------------------------------------------------------

QSTR = r'"((?:[^"\\]|\\.)*)"'


def unq(s):
    return re.sub(r"\\(.)", r"\1", s)


def layout(ver):
    """(fields [(struct, path, off, size, type)], sizes {struct: size}) of a table."""
    fields, sizes = [], {}
    for line in read(os.path.join(LAYOUTS, "go%s.yaml" % ver)).decode().splitlines():
        m = re.match(r'\s*- \{struct: %s, field: %s, offset: (\d+), size: (\d+), type: %s\}' % (QSTR, QSTR, QSTR), line)
        if m:
            fields.append((unq(m[1]), unq(m[2]), int(m[3]), int(m[4]), unq(m[5])))
            continue
        m = re.match(r'\s*- \{struct: %s, size: (\d+)\}' % QSTR, line)
        if m:
            sizes[unq(m[1])] = int(m[2])
    return fields, sizes


# ---- DWARF 4 ---------------------------------------------------------------

def uleb(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


STRING, UDATA, DATA1, REF4 = 0x08, 0x0F, 0x0B, 0x13
NAME, BYTE_SIZE, MEMBER_LOC, TYPE, ENCODING, LANGUAGE = 0x03, 0x0B, 0x38, 0x49, 0x3E, 0x13
ABBREVS = [  # code, tag, children, attributes
    (1, 0x11, 1, [(NAME, STRING), (LANGUAGE, DATA1)]),                  # compile_unit
    (2, 0x13, 1, [(NAME, STRING), (BYTE_SIZE, UDATA)]),                 # structure_type
    (3, 0x0D, 0, [(NAME, STRING), (MEMBER_LOC, UDATA), (TYPE, REF4)]),  # member
    (4, 0x24, 0, [(NAME, STRING), (BYTE_SIZE, UDATA), (ENCODING, DATA1)]),  # base_type
    (5, 0x16, 0, [(NAME, STRING), (TYPE, REF4)]),                       # typedef
    (6, 0x34, 0, [(NAME, STRING), (TYPE, REF4)]),                       # variable
    (7, 0x0F, 0, [(NAME, STRING), (BYTE_SIZE, UDATA)]),                 # pointer_type
]


def abbrev_section():
    out = bytearray()
    for code, tag, ch, attrs in ABBREVS:
        out += uleb(code) + uleb(tag) + bytes([ch])
        for a, f in attrs:
            out += uleb(a) + uleb(f)
        out += b"\0\0"
    return bytes(out + b"\0")


class Cu:
    """One compilation unit; DIEs refer to each other by CU-relative offset."""

    def __init__(self, name):
        self.body = bytearray()
        self.fix = []  # (position, key of the DIE it refers to)
        self.at = {}
        self.die(1, name, ("d1", 0x16))

    def die(self, code, name, *vals, key=None):
        if key is not None:
            self.at[key] = 11 + len(self.body)  # 11: the CU header
        self.body += uleb(code) + name.encode() + b"\0"
        for kind, v in vals:
            if kind == "u":
                self.body += uleb(v)
            elif kind == "d1":
                self.body += bytes([v])
            else:  # a reference, patched in bytes()
                self.fix.append((len(self.body), v))
                self.body += b"\0\0\0\0"

    def end_children(self):
        self.body.append(0)

    def bytes(self):
        for pos, key in self.fix:
            struct.pack_into("<I", self.body, pos, self.at[key])
        body = bytes(self.body) + b"\0"  # ends the CU's children
        return struct.pack("<IHIB", 7 + len(body), 4, 0, 8) + body


def first_alt(s):
    return s.split("|")[0]


def dwarf_for(ver):
    """.debug_info describing the runtime structs of a layout table as Go
    names them: one CU of unrelated types, then one with the runtime's."""
    fields, sizes = layout(ver)
    structs = {}  # name -> tree: {"size": n, "m": {member: (off, subtree or (size, type))}}
    for st, path, off, size, typ in fields:
        node = structs.setdefault(first_alt(st), {"m": {}})
        parts = first_alt(path).split(".")
        chain = [node]
        for k, part in enumerate(parts):
            cur = chain[-1]
            if k == len(parts) - 1:
                cur["m"][part] = [off, (size, typ)]
            else:
                sub = cur["m"].setdefault(part, [off, {"m": {}}])
                sub[0] = min(sub[0], off)
                chain.append(sub[1])
    for st, size in sizes.items():
        if size:
            structs.setdefault(first_alt(st), {"m": {}})["size"] = size

    def fixup(node, base):  # absolute offsets -> member-relative; sizes
        end = 0
        for name, ent in node["m"].items():
            off = ent[0] - base
            if isinstance(ent[1], dict):
                fixup(ent[1], ent[0])
                end = max(end, off + ent[1]["size"])
            else:
                end = max(end, off + ent[1][0])
            ent[0] = off
        node.setdefault("size", end)

    for node in structs.values():
        fixup(node, 0)

    other = Cu("main")
    other.die(2, "main.T", ("u", 16), key="T")
    other.die(3, "a", ("u", 0), ("r", "int"))
    other.die(3, "b", ("u", 8), ("r", "int"))
    other.end_children()
    other.die(4, "int", ("u", 8), ("d1", 5), key="int")
    other.die(6, "main.v", ("r", "T"))

    cu = Cu("runtime")
    leaves = {}  # (size, type name) -> key of its DIE
    count = [0]

    def key():
        count[0] += 1
        return "s%d" % count[0]

    def emit(name, node, k):
        """A struct DIE and its members; nested structs follow at the top
        level, as Go emits them."""
        nested = []
        cu.die(2, name, ("u", node["size"]), key=k)
        for mname, (off, t) in node["m"].items():
            if isinstance(t, dict):
                nested.append((key(), mname, t))
                cu.die(3, mname, ("u", off), ("r", nested[-1][0]))
            else:
                leaves.setdefault(t, "t%d" % len(leaves))
                cu.die(3, mname, ("u", off), ("r", leaves[t]))
        cu.end_children()
        for nk, mname, t in nested:
            emit("struct { %s ... }" % mname, t, nk)

    for name, node in structs.items():
        k = key()
        if name.startswith("@"):  # the unnamed type of a variable, behind a typedef
            emit("struct { ... }", node, k)
            cu.die(5, name[1:] + ".T", ("r", k), key=k + "td")
            cu.die(6, name[1:], ("r", k + "td"))
        else:
            emit(name, node, k)
    for (size, typ), k in leaves.items():
        if typ.startswith("*"):
            cu.die(7, typ, ("u", size), key=k)
        else:
            cu.die(4, typ, ("u", size), ("d1", 7), key=k)
    return other.bytes() + cu.bytes()


# ---- ELF -------------------------------------------------------------------

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXEC = 1, 2, 4
PF_X, PF_W, PF_R = 1, 2, 4


class Sec:
    def __init__(self, name, addr=0, data=b"", flags=SHF_ALLOC, typ=SHT_PROGBITS, size=None, link=0, info=0,
                 entsize=0, align=8):
        self.name, self.addr, self.data, self.flags, self.type = name, addr, data, flags, typ
        self.size = len(data) if size is None else size
        self.link, self.info, self.entsize, self.align = link, info, entsize, align
        self.offset = 0


def elf(segments, extra, etype=2, entry=0x401000):
    """An ELF64 x86-64 file. segments: [(p_flags, [Sec...], memsz or None)],
    each segment's sections in address order, laid out at their address
    distance; extra: non-allocated sections (symbols, DWARF) after them."""
    nph = len(segments)
    out = bytearray(64 + 56 * nph)
    phdrs = []
    for flags, secs, memsz in segments:
        base = secs[0].addr
        off = align(len(out), 16)
        off += (base - off) % 0x1000  # offset congruent to the address, as the linker lays it out
        out += bytes(off - len(out))
        end = off
        for s in secs:
            s.offset = off + (s.addr - base)
            if s.type != SHT_NOBITS:
                out += bytes(s.offset - len(out)) + s.data
                end = s.offset + len(s.data)
        top = max(s.addr + s.size for s in secs) - base
        phdrs.append(struct.pack("<IIQQQQQQ", 1, flags, off, base, base, end - off, memsz or top, 0x1000))
    for s in extra:
        out += bytes(align(len(out), 8) - len(out))
        s.offset = len(out)
        out += s.data
    allsecs = [s for _, secs, _ in segments for s in secs] + extra
    shstr = bytearray(b"\0")
    names = []
    for s in allsecs + [Sec(".shstrtab")]:
        names.append(len(shstr))
        shstr += s.name.encode() + b"\0"
    shstr_off = len(out)
    out += shstr
    shoff = align(len(out), 8)
    out += bytes(shoff - len(out))
    shdrs = bytearray(64)
    for s, nm in zip(allsecs, names):
        shdrs += struct.pack("<IIQQQQIIQQ", nm, s.type, s.flags, s.addr, s.offset, s.size, s.link, s.info,
                             s.align, s.entsize)
    shdrs += struct.pack("<IIQQQQIIQQ", names[-1], SHT_STRTAB, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    nsec = len(allsecs) + 2
    out += shdrs
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into("<16sHHIQQQIHHHHHH", out, 0, ident, etype, 62, 1, entry, 64, shoff, 0, 64, 56, nph, 64,
                     nsec, nsec - 1)
    for k, ph in enumerate(phdrs):
        out[64 + 56 * k:64 + 56 * (k + 1)] = ph
    return bytes(out)


def symtab(syms, first_index):
    """.symtab and .strtab sections for [(name, addr, size)]; the .strtab is
    section first_index + 1."""
    strs = bytearray(b"\0")
    tab = bytearray(24)
    for name, addr, size in syms:
        tab += struct.pack("<IBBHQQ", len(strs), 0x11, 0, 1, addr, size)  # GLOBAL OBJECT
        strs += name.encode() + b"\0"
    return [Sec(".symtab", data=bytes(tab), flags=0, typ=SHT_SYMTAB, link=first_index + 1, info=1, entsize=24),
            Sec(".strtab", data=bytes(strs), flags=0, typ=SHT_STRTAB, align=1)]


WAIT_REASONS = ["", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)", "dumping heap",
                "garbage collection", "garbage collection scan", "panicwait", "select", "select (no cases)",
                "GC assist wait", "GC sweep wait", "GC scavenge wait", "chan receive", "chan send",
                "finalizer wait", "force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait"]


def go_elf(ver, stripped, dwarf=False, pie=False):
    """A small Go-like executable: what gr_program_open and
    gr_program_load_runtime read, and nothing else."""
    p = Pcln(ver)
    minor = int(ver.split(".")[1])
    tab, gofunc, fd = p.shrink()
    text = p.facts["text"]
    L = {(st, path): off for st, path, off, _, _ in layout(ver)[0]}
    sizes = layout(ver)[1]
    code = facts(os.path.join(DATA, "code", "go" + ver, "facts.txt"))
    # runtime.forEachGRace's code (tests/unit/data/code), padded to its length in the table
    fe, fe_end = p.entry("runtime.forEachGRace")
    body = read(os.path.join(DATA, "code", "go" + ver, "foreachgrace%s.bin" % ("-stripped" if stripped else "")))
    body += b"\xcc" * max(0, fe_end - fe - len(body))
    minpc, maxpc = text + p.funcs[0][0], text + p.funcs[-1][0]
    if fd:  # funcdata outside the table (Go <= 1.25): placed right after it here
        gofunc = align(p.addr + len(tab), 8)
    pre = "stripped_" if stripped else ""
    allglen, allgptr = code[pre + "allglen"], code[pre + "allgptr"]
    rw = (min(allglen, allgptr) & ~0xFFFF) - 0x10000
    bss_end = align(max(allglen, allgptr) + 0x100, 0x1000)
    # .rodata: the wait reasons' text; the table right after it
    rodata_addr = p.addr - 0x1000
    rodata, wr = bytearray(), []
    for s in WAIT_REASONS:
        wr.append((rodata_addr + len(rodata) if s else 0, len(s)))
        rodata += s.encode()
    wrdata = b"".join(struct.pack("<QQ", a, n) for a, n in wr)
    # moduledata: the fields globals_code.c checks
    md = bytearray(sizes["runtime.moduledata"])
    for field, val in (("pcHeader", p.addr), ("funcnametab", p.addr + 72), ("text", text), ("minpc", minpc),
                       ("maxpc", maxpc), ("gofunc", gofunc)):
        struct.pack_into("<Q", md, L[("runtime.moduledata", field)], val)
    bi = read(os.path.join(DATA, "go" + ver, "buildinfo.bin"))
    md_name = ".go.module" if minor >= 26 else ".noptrdata"
    md_addr = rw + 0x1000
    data_addr = rw + 0x2000
    rodata_secs = [Sec(".rodata", rodata_addr, bytes(rodata)),
                   Sec(".data.rel.ro.gopclntab" if pie else ".gopclntab", p.addr, tab)]
    if fd:
        rodata_secs.append(Sec(".rodata.gofunc", gofunc, fd))
    assert rodata_secs[-1].addr + rodata_secs[-1].size < rw, "the data would overlap the table"
    segments = [
        (PF_R | PF_X, [Sec(".text", text, b"", flags=SHF_ALLOC | SHF_EXEC, typ=SHT_NOBITS, size=0)], maxpc - text),
        (PF_R | PF_X, [Sec(".text.forEachGRace", text + fe, body, flags=SHF_ALLOC | SHF_EXEC)], None),
        (PF_R, rodata_secs, None),
        (PF_R | PF_W, [Sec(".data.buildinfo" if pie else ".go.buildinfo", rw, bi, flags=SHF_ALLOC | SHF_WRITE),
                       Sec(md_name, md_addr, bytes(md), flags=SHF_ALLOC | SHF_WRITE),
                       Sec(".data", data_addr, wrdata, flags=SHF_ALLOC | SHF_WRITE),
                       Sec(".bss", data_addr + 0x1000, typ=SHT_NOBITS, flags=SHF_ALLOC | SHF_WRITE,
                           size=bss_end - data_addr - 0x1000)], None),
    ]
    nalloc = sum(len(s) for _, s, _ in segments)
    extra = []
    if not stripped:
        syms = [("runtime.allglen", allglen, 8), ("runtime.allgptr", allgptr, 8),
                ("runtime.allgs", allgptr + 0x40, 24), ("runtime.firstmoduledata", md_addr, len(md)),
                ("runtime.waitReasonStrings", data_addr, len(wrdata)), ("runtime.debug", data_addr + 0x1000, 64),
                ("runtime.mheap_", data_addr + 0x1100, 0x100), ("runtime.semtable", data_addr + 0x1200, 64),
                ("main.main", text + p.entry("main.main")[0], 0)]
        extra += symtab(syms, 1 + nalloc)
    if dwarf:
        extra += [Sec(".debug_abbrev", data=abbrev_section(), flags=0, align=1),
                  Sec(".debug_info", data=dwarf_for(ver), flags=0, align=1)]
    return elf(segments, extra, etype=3 if pie else 2, entry=text + fe)


def dwarf_elf(ver):
    """fuzz_dwarf_layout's input: an executable with one code byte and DWARF."""
    segs = [(PF_R | PF_X, [Sec(".text", 0x401000, b"\xc3", flags=SHF_ALLOC | SHF_EXEC)], None)]
    extra = [Sec(".debug_abbrev", data=abbrev_section(), flags=0, align=1),
             Sec(".debug_info", data=dwarf_for(ver), flags=0, align=1)]
    return elf(segs, extra)


# ---- text seeds ------------------------------------------------------------

INI_E2E = {  # the sonde.ini files the end-to-end tests write (tests/plugins/plugins_e2e.py)
    "e2e_plugins.ini": "[host]\nplugin_dir = plugins\nindex = plugins.yaml\n\n[recorder]\nlog = /tmp/log\n\n[crasher]\n",
    "e2e_unsafe.ini": "; c\n[host]\noutput_dir:\nallow_unsafe_permissions = on\n[memwatch]\non_attach = yes\nevery = 2s\n",
}


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for h in ("fuzz_pclntab", "fuzz_elf", "fuzz_dwarf_layout", "fuzz_layout_table", "fuzz_index", "fuzz_config",
              "fuzz_yaml"):
        d = os.path.join(CORPUS, h)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if not f.startswith("crash-"):
                    os.remove(os.path.join(d, f))
    for ver in ("1.19", "1.21", "1.27"):
        write("fuzz_pclntab", "go%s.bin" % ver, pcln_seed(Pcln(ver)))
    write("fuzz_elf", "go1.27-stripped.elf", go_elf("1.27", stripped=True))
    write("fuzz_elf", "go1.21-stripped.elf", go_elf("1.21", stripped=True))
    write("fuzz_elf", "go1.19-symtab.elf", go_elf("1.19", stripped=False))
    write("fuzz_elf", "go1.27-symtab-dwarf.elf", go_elf("1.27", stripped=False, dwarf=True))
    write("fuzz_elf", "go1.21-pie.elf", go_elf("1.21", stripped=True, pie=True))
    for ver in ("1.19", "1.27"):
        write("fuzz_dwarf_layout", "go%s.elf" % ver, dwarf_elf(ver))
        tab = read(os.path.join(LAYOUTS, "go%s.yaml" % ver))
        write("fuzz_layout_table", "go%s.yaml" % ver, tab)
        write("fuzz_yaml", "layout-go%s.yaml" % ver, tab)
    idx = os.path.join(DATA, "index")
    for f in sorted(os.listdir(idx)):
        write("fuzz_index", f, read(os.path.join(idx, f)))
        if f in ("valid.yaml", "entry_errors.yaml", "bad_billion_laughs.yaml", "bad_escaped_nul.yaml"):
            write("fuzz_yaml", "index-" + f, read(os.path.join(idx, f)))
    write("fuzz_index", "plugins.yaml", read(os.path.join(ROOT, "index", "plugins.yaml")))
    cfg = os.path.join(DATA, "config")
    for f in sorted(os.listdir(cfg)):
        write("fuzz_config", f, read(os.path.join(cfg, f)))
    for name, text in INI_E2E.items():
        write("fuzz_config", name, text.encode())


if __name__ == "__main__":
    sys.exit(main())
