#!/usr/bin/env python3
"""The corrupted-core corpus: damaged copies of the sample cores, for
tests/test_robustness.py.

Each case is a copy of a real sample core (build/samples/<toolchain>/<scenario>)
with one kind of damage a crashed production machine can produce, or a
hostile file can hold:

  truncate  the file cut inside the ELF header, the program headers, the notes,
            or the memory
  segments  PT_LOAD headers damaged: contents zeroed, p_filesz cut, p_offset past
            the end, overlapping or wrapping ranges, absurd e_phnum/e_phoff
  notes     NT_FILE with absurd counts/page size/strings, NT_PRSTATUS short or
            gone, registers garbage, NT_SIGINFO garbage, a note size past the end
  go-heap   Go heap metadata flipped in memory: mspan state, freeindex, nelems,
            allocBits, elemsize, npages/limit; mheap_, allgs, allm,
            buildVersion damaged (addresses from `coretool --json classify`
            and the executable's symbol table)
  map       Go map internals (addresses from truth.json maps[]): B = 60,
            count/used absurd, buckets wild, overflow cycles, fake growth,
            tophash/ctrl garbage, dirLen = 2^40 or negative, one table in every
            directory slot, lengthMask absurd
  c-heap    glibc chunk sizes 0, huge, negative; tcache/fastbin lists that loop
            (chunk addresses from truth.json c-heap entries)
  exe       the executable does not match the core (another toolchain's, a C
            program's), is truncated, or is not an ELF file

Cores are sparse copies (holes stay holes) under build/corrupt/<case>/core;
build/corrupt/manifest.json lists every case with the arguments the test
uses. Generated from go1.23 (classic maps), go1.26 (Swiss maps) and the
plain C sample; regenerated when a sample core is newer than the manifest.
Python standard library only; the mspan offsets that aim the damage are the
library's own (`coretool info --json --layout`); the map header offsets are
those of docs/go-runtime.md for Go 1.22-1.27 (a wrong aim would still be
damage, but the case name would not say what it hit).

Usage: corrupt_cores.py [--out DIR] [--force]
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import struct
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "build" / "samples"
CORETOOL = ROOT / "build" / "coretool"
GO_TOOLCHAINS = ("go1.23", "go1.26")
EXES = ROOT / "build" / "corrupt" / "_exes"  # set by generate()
FORMAT = 9  # bump when the cases change: forces regeneration

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_SIGINFO, NT_FILE = 1, 3, 6, 0x53494749, 0x46494c45
PF_W = 2

# classic runtime.hmap (runtime/map.go 1.22/1.23)
HMAP = {"count": (0, 8), "flags": (8, 1), "B": (9, 1), "noverflow": (10, 2),
        "buckets": (16, 8), "oldbuckets": (24, 8), "nevacuate": (32, 8)}
# Swiss internal/runtime/maps.Map and table (1.24-1.27)
SMAP = {"used": (0, 8), "dirPtr": (16, 8), "dirLen": (24, 8), "globalDepth": (32, 1),
        "writing": (34, 1)}
STABLE = {"used": (0, 2), "capacity": (2, 2), "index": (8, 8), "groups_data": (16, 8),
          "groups_mask": (24, 8)}


def u(v, size):
    return (v & (2 ** (8 * size) - 1)).to_bytes(size, "little")


# ---- the ELF core ----

class ElfCore:
    def __init__(self, path: pathlib.Path):
        self.path = path
        self.size = path.stat().st_size
        with open(path, "rb") as f:
            self.ehdr = f.read(64)
            self.phoff, = struct.unpack_from("<Q", self.ehdr, 0x20)
            self.phnum, = struct.unpack_from("<H", self.ehdr, 0x38)
            f.seek(self.phoff)
            raw = f.read(56 * self.phnum)
        self.phdrs = []
        for i in range(self.phnum):
            t, fl, off, va, _, fs, ms, _ = struct.unpack_from("<IIQQQQQQ", raw, 56 * i)
            self.phdrs.append(dict(i=i, type=t, flags=fl, offset=off, vaddr=va, filesz=fs,
                                   memsz=ms, hdr=self.phoff + 56 * i))
        self.notes = []
        for ph in self.phdrs:
            if ph["type"] != PT_NOTE:
                continue
            with open(path, "rb") as f:
                f.seek(ph["offset"])
                blob = f.read(ph["filesz"])
            off = 0
            while off + 12 <= len(blob):
                namesz, descsz, ntype = struct.unpack_from("<III", blob, off)
                name_off = off + 12
                desc_off = name_off + (namesz + 3) // 4 * 4
                end = desc_off + (descsz + 3) // 4 * 4
                if end > len(blob):
                    break
                self.notes.append(dict(type=ntype, name=blob[name_off:name_off + namesz],
                                       hdr=ph["offset"] + off, desc=ph["offset"] + desc_off,
                                       descsz=descsz))
                off = end
        self.note_ph = next((p for p in self.phdrs if p["type"] == PT_NOTE), None)

    def file_bytes(self, off, n):
        with open(self.path, "rb") as f:
            f.seek(off)
            return f.read(n)

    def loads(self):
        return [p for p in self.phdrs if p["type"] == PT_LOAD]

    def file_off(self, va, n=1):
        """File offset of virtual address va if the core saved n bytes there."""
        for p in self.loads():
            if p["vaddr"] <= va and va + n <= p["vaddr"] + p["filesz"]:
                return p["offset"] + (va - p["vaddr"])
        return None

    def load_of(self, va):
        for p in self.loads():
            if p["vaddr"] <= va < p["vaddr"] + p["memsz"]:
                return p
        return None

    def read(self, va, n):
        off = self.file_off(va, n)
        if off is None:
            return None
        with open(self.path, "rb") as f:
            f.seek(off)
            return f.read(n)

    def u64(self, va):
        b = self.read(va, 8)
        return None if b is None else int.from_bytes(b, "little")

    def core_notes(self, ntype):
        return [n for n in self.notes if n["type"] == ntype and n["name"].rstrip(b"\0") == b"CORE"]


def elf_symbols(exe: pathlib.Path, wanted):
    """Addresses of the named symbols from the executable's .symtab."""
    data = exe.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out = {}
    for s in secs:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = secs[s[6]]
        str_off = strtab[4]
        for k in range(s[5] // 24):
            name_idx, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, s[4] + 24 * k)
            end = data.index(b"\0", str_off + name_idx)
            name = data[str_off + name_idx:end].decode(errors="replace")
            if name in wanted:
                out[name] = value
    return out


# ---- writing a case ----

def rel(p: pathlib.Path) -> str:
    """A path relative to the repository when it is inside it (the manifest
    stays valid when the checkout moves)."""
    p = pathlib.Path(p).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def sparse_copy(src: pathlib.Path, dst: pathlib.Path, limit=None):
    """Copies src to dst keeping holes as holes (the cores are mostly holes);
    with limit, only the first `limit` bytes."""
    size = src.stat().st_size if limit is None else min(limit, src.stat().st_size)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fd = fi.fileno()
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break  # no data past pos
            if data >= size:
                break
            try:
                hole = os.lseek(fd, data, os.SEEK_HOLE)
            except OSError:
                hole = size
            hole = min(hole, size)
            fi.seek(data)
            fo.seek(data)
            remaining = hole - data
            while remaining > 0:
                chunk = fi.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                fo.write(chunk)
                remaining -= len(chunk)
            pos = hole
        fo.truncate(size)


class Corpus:
    def __init__(self, out: pathlib.Path):
        self.out = out
        self.cases = []
        self.skipped = []

    def add(self, name, sample, kind, what, patches=(), truncate=None, exe=None, args=None,
            expect=None, src_core=None):
        """One case: a copy of sample's core, cut at `truncate`, with `patches`
        ([(file offset, bytes)]) written over it."""
        d = self.out / name
        d.mkdir(parents=True, exist_ok=True)
        core = d / "core"
        sparse_copy(src_core or sample.core, core, truncate)
        with open(core, "r+b") as f:
            for off, data in patches:
                if off is None or off < 0:
                    continue
                f.seek(off)
                f.write(data)
        case = dict(name=name, kind=kind, what=what, sample=sample.id, toolchain=sample.tc,
                    core=rel(core),
                    exe=rel(exe or sample.exe) if (exe or sample.exe) else None,
                    classify=[hex(a) for a in (args or {}).get("classify", sample.classify)],
                    map=(args or {}).get("map", sample.map_name),
                    expect=expect or {})
        self.cases.append(case)

    def skip(self, name, why):
        self.skipped.append(dict(name=name, why=why))


class Sample:
    def __init__(self, tc, scenario):
        self.tc = tc
        self.scenario = scenario
        self.id = f"{tc}/{scenario}"
        self.dir = SAMPLES / tc / scenario
        self.core = self.dir / "core"
        self.exe = None
        if (self.dir / "exe").exists():
            # a copy next to the cases: the corpus stays consistent when the
            # samples are rebuilt under it
            self.exe = EXES / f"{tc}-{scenario}"
            if not self.exe.exists():
                EXES.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.dir / "exe", self.exe)
        self.truth = json.loads((self.dir / "truth.json").read_text())
        self.elf = ElfCore(self.core)
        self.addrs = {}
        for a in self.truth.get("addresses", []):
            self.addrs.setdefault(a["region"], []).append(a)
        self.maps = {m["name"]: m for m in self.truth.get("maps", []) if m.get("addr")}
        cl = []
        for region in ("go-heap", "c-heap", "go-stack", "thread-stack", "unmapped"):
            cl += [int(a["addr"], 16) for a in self.addrs.get(region, [])[:1]]
        self.classify = cl
        # a map every sample Go program has (package unicode's tables) when
        # the scenario recorded none
        self.map_name = next(iter(self.maps), "unicode.FoldCategory" if tc.startswith("go") else None)

    @property
    def exists(self):
        return self.core.exists()


def sample(tc, scenario):
    d = SAMPLES / tc / scenario
    if not (d / "core").exists() or not (d / "truth.json").exists():
        return None
    return Sample(tc, scenario)


def mspan_layout(s: Sample):
    """{field: (offset, size)} of runtime.mspan as the library reads it from this
    sample's DWARF (`coretool info --json --layout`): the damage is aimed by the
    same numbers the model uses, not by a copy of them."""
    p = subprocess.run([str(CORETOOL), "--json", "info", "--layout", str(s.core)],
                       capture_output=True, text=True, timeout=60)
    fields = json.loads(p.stdout)["layout"]["runtime.mspan"]
    return {k: (v["offset"], v["size"]) for k, v in fields.items() if isinstance(v, dict)}, \
        fields["(size)"]


def classify_json(s: Sample, addr):
    try:
        p = subprocess.run([str(CORETOOL), "--json", "classify", str(s.core), hex(addr)],
                           capture_output=True, text=True, timeout=60)
        return json.loads(p.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def rnd_bytes(seed, n):
    r = random.Random(seed)
    return bytes(r.randrange(256) for _ in range(n))


# ---- the cases ----

def truncations(c: Corpus, s: Sample, light=False):
    e = s.elf
    p = f"{s.tc}-{s.scenario}-trunc"
    if not light:
        c.add(f"{p}-ident", s, "truncate", "cut inside e_ident (10 bytes)", truncate=10)
        c.add(f"{p}-ehdr", s, "truncate", "cut inside the ELF header (40 bytes)", truncate=40)
    c.add(f"{p}-phdrs", s, "truncate", "cut in the middle of the program headers",
          truncate=e.phoff + 56 * (e.phnum // 2) + 20)
    if e.note_ph:
        n = e.note_ph
        c.add(f"{p}-notes", s, "truncate", "cut in the middle of the notes",
              truncate=n["offset"] + n["filesz"] // 2 + 3)
        c.add(f"{p}-no-memory", s, "truncate", "cut right after the notes: no memory at all",
              truncate=n["offset"] + n["filesz"])
    loads = [l for l in e.loads() if l["filesz"]]
    for pct in ((50,) if light else (10, 50, 90)):
        # cut inside the segment that holds pct% of the saved bytes
        total = sum(l["filesz"] for l in loads)
        acc, cut = 0, None
        for l in sorted(loads, key=lambda l: l["offset"]):
            if acc + l["filesz"] >= total * pct // 100:
                cut = l["offset"] + (total * pct // 100 - acc) // 2 + 1
                break
            acc += l["filesz"]
        c.add(f"{p}-mem{pct}", s, "truncate", f"cut inside the memory ({pct}% of the saved bytes)",
              truncate=cut, expect={"info_stderr": "truncated"})


def segment_damage(c: Corpus, s: Sample):
    e = s.elf
    p = f"{s.tc}-{s.scenario}-seg"
    loads = e.loads()
    heap_addr = int(s.addrs["go-heap"][0]["addr"], 16) if s.addrs.get("go-heap") else None
    if heap_addr is not None:
        l = e.load_of(heap_addr)
        off = e.file_off(heap_addr)
        if l and off is not None:
            start = max(l["offset"], off - (512 << 10))
            n = min(1 << 20, l["offset"] + l["filesz"] - start)
            c.add(f"{p}-heap-zeroed", s, "segments", "1 MiB of the Go heap zeroed in the file",
                  patches=[(start, b"\0" * n)])
    c.add(f"{p}-filesz-zero", s, "segments", "every PT_LOAD p_filesz = 0 (nothing saved)",
          patches=[(l["hdr"] + 32, u(0, 8)) for l in loads], expect={"nonzero": ["info"]})
    c.add(f"{p}-filesz-half", s, "segments", "writable PT_LOADs keep half their p_filesz",
          patches=[(l["hdr"] + 32, u(l["filesz"] // 2, 8)) for l in loads if l["flags"] & PF_W])
    c.add(f"{p}-offset-eof", s, "segments", "writable PT_LOADs' p_offset past the end of the file",
          patches=[(l["hdr"] + 8, u(e.size + 4096 * (i + 1), 8))
                   for i, l in enumerate(loads) if l["flags"] & PF_W])
    c.add(f"{p}-offset-wild", s, "segments", "p_offset near 2^64 (offset + filesz wraps)",
          patches=[(l["hdr"] + 8, u(2 ** 64 - 4096, 8)) for l in loads[::3]])
    if len(loads) > 4:
        a, b = loads[2], loads[3]
        c.add(f"{p}-overlap", s, "segments", "a PT_LOAD moved over its neighbour",
              patches=[(b["hdr"] + 16, u(a["vaddr"] + 16, 8)), (a["hdr"] + 40, u(2 ** 40, 8))])
        c.add(f"{p}-memsz-wrap", s, "segments", "p_vaddr + p_memsz wraps past 2^64",
              patches=[(a["hdr"] + 40, u(2 ** 64 - 4096, 8))])
    c.add(f"{p}-phnum-huge", s, "segments", "e_phnum = 65535 (headers past the end)",
          patches=[(0x38, u(0xFFFF, 2))])
    c.add(f"{p}-phnum-zero", s, "segments", "e_phnum = 0 (no segments, no notes)",
          patches=[(0x38, u(0, 2))])
    c.add(f"{p}-phoff-wild", s, "segments", "e_phoff = 2^63",
          patches=[(0x20, u(2 ** 63, 8))])
    c.add(f"{p}-phentsize", s, "segments", "e_phentsize = 7",
          patches=[(0x36, u(7, 2))])
    c.add(f"{p}-machine", s, "segments", "e_machine = AArch64", patches=[(0x12, u(183, 2))],
          expect={"rc": 2})
    c.add(f"{p}-type-exec", s, "segments", "e_type = ET_EXEC", patches=[(0x10, u(2, 2))],
          expect={"rc": 2})
    c.add(f"{p}-class32", s, "segments", "EI_CLASS = ELFCLASS32", patches=[(4, u(1, 1))],
          expect={"rc": 2})


def note_damage(c: Corpus, s: Sample, light=False):
    """light: the few cases whose effect depends on what else the core holds."""
    e = s.elf
    p = f"{s.tc}-{s.scenario}-note"
    nf = e.core_notes(NT_FILE)
    if light:
        prs = e.core_notes(NT_PRSTATUS)
        if prs:
            c.add(f"{p}-regs-garbage", s, "notes", "every thread's registers 0x4141... (rsp, rip, rbp wild)",
                  patches=[(n["desc"] + 112, b"\x41" * 216) for n in prs])
            c.add(f"{p}-prstatus-gone", s, "notes", "every NT_PRSTATUS renamed (no threads)",
                  patches=[(n["hdr"] + 8, u(0x999, 4)) for n in prs])
        if nf:
            c.add(f"{p}-file-nonul", s, "notes", "NT_FILE paths without their NUL terminators",
                  patches=[(nf[0]["desc"] + 16 + 24 * int.from_bytes(e.file_bytes(nf[0]["desc"], 8), "little"),
                            b"A" * 64)])
        if e.note_ph:
            c.add(f"{p}-random", s, "notes", "the whole PT_NOTE overwritten with random bytes",
                  patches=[(e.note_ph["offset"], rnd_bytes(f"{s.id}-notes", e.note_ph["filesz"]))])
        return
    if nf:
        n = nf[0]
        count = int.from_bytes(e.file_bytes(n["desc"], 8), "little")
        c.add(f"{p}-file-count-huge", s, "notes", "NT_FILE count = 2^60",
              patches=[(n["desc"], u(2 ** 60, 8))])
        c.add(f"{p}-file-count-wraps", s, "notes", "NT_FILE count * 24 wraps to a small number",
              patches=[(n["desc"], u(0x0AAAAAAAAAAAAAAB, 8))])
        c.add(f"{p}-file-count-zero", s, "notes", "NT_FILE count = 0",
              patches=[(n["desc"], u(0, 8))])
        c.add(f"{p}-file-pagesz", s, "notes", "NT_FILE page size = 2^63 (offsets overflow)",
              patches=[(n["desc"] + 8, u(2 ** 63, 8))])
        strings = n["desc"] + 16 + 24 * count
        c.add(f"{p}-file-nonul", s, "notes", "NT_FILE paths without their NUL terminators",
              patches=[(strings, b"A" * (n["desc"] + n["descsz"] - strings))])
        c.add(f"{p}-file-inverted", s, "notes", "NT_FILE ranges with start > end",
              patches=[(n["desc"] + 16 + 24 * i, u(2 ** 64 - 1 - i, 8)) for i in range(count)])
    prs = e.core_notes(NT_PRSTATUS)
    if prs:
        c.add(f"{p}-prstatus-short", s, "notes", "first NT_PRSTATUS n_descsz = 16 (notes after it misread)",
              patches=[(prs[0]["hdr"] + 4, u(16, 4))])
        c.add(f"{p}-prstatus-gone", s, "notes", "every NT_PRSTATUS renamed (no threads)",
              patches=[(n["hdr"] + 8, u(0x999, 4)) for n in prs])
        # pr_reg at offset 112 of elf_prstatus: 27 registers
        c.add(f"{p}-regs-garbage", s, "notes", "every thread's registers 0x4141... (rsp, rip, rbp wild)",
              patches=[(n["desc"] + 112, b"\x41" * 216) for n in prs])
        c.add(f"{p}-regs-zero", s, "notes", "every thread's registers zero",
              patches=[(n["desc"] + 112, b"\0" * 216) for n in prs])
    si = e.core_notes(NT_SIGINFO)
    if si:
        c.add(f"{p}-siginfo-garbage", s, "notes", "NT_SIGINFO signo 0x7fffffff, code -5, addr wild",
              patches=[(si[0]["desc"], u(0x7FFFFFFF, 4) + u(0, 4) + u(-5, 4) + u(0, 4) +
                        u(0xDEAD00000000BEEF, 8))])
    ax = e.core_notes(NT_AUXV)
    if ax:
        n = ax[0]
        c.add(f"{p}-auxv-wild", s, "notes", "NT_AUXV values wild (AT_PHDR, AT_EXECFN, AT_ENTRY)",
              patches=[(n["desc"] + 16 * i + 8, u(0x4141414141414141, 8)) for i in range(n["descsz"] // 16)])
    if e.notes:
        c.add(f"{p}-descsz-huge", s, "notes", "first note's n_descsz = 0xfffffff0",
              patches=[(e.notes[0]["hdr"] + 4, u(0xFFFFFFF0, 4))])
        c.add(f"{p}-namesz-huge", s, "notes", "first note's n_namesz = 0xfffffff0",
              patches=[(e.notes[0]["hdr"], u(0xFFFFFFF0, 4))])
    if e.note_ph:
        c.add(f"{p}-random", s, "notes", "the whole PT_NOTE overwritten with random bytes",
              patches=[(e.note_ph["offset"], rnd_bytes(f"{s.id}-notes", e.note_ph["filesz"]))])


def go_heap_damage(c: Corpus, s: Sample):
    e = s.elf
    p = f"{s.tc}-{s.scenario}-goheap"
    heap = s.addrs.get("go-heap", [])
    if not heap:
        return
    addr = int(heap[0]["addr"], 16)
    v = classify_json(s, addr)
    span = None
    try:
        span = int(v["detail"]["span"]["mspan"], 16)
    except (TypeError, KeyError, ValueError):
        c.skip(f"{p}-span-*", f"classify {hex(addr)} gave no mspan")
    cl = {"classify": [addr, addr + 8] + s.classify}
    MSPAN, mspan_size = mspan_layout(s)
    if span is not None and e.file_off(span, mspan_size) is not None:
        def at(field, value):
            off, size = MSPAN[field]
            return [(e.file_off(span + off), u(value, size))]
        start = e.u64(span + MSPAN["startAddr"][0])
        # impossible spans must make the verdict unknown (exit 1), not a guess
        bad = {"nonzero": ["classify"]}
        for name, what, patches, expect in [
            ("state-dead", "mspan.state = mSpanDead", at("state", 0), {}),
            ("state-garbage", "mspan.state = 0x7f", at("state", 0x7F), bad),
            ("state-manual", "mspan.state = mSpanManual (as if a stack)", at("state", 2), {}),
            ("freeindex-huge", "mspan.freeindex = 0xffff", at("freeindex", 0xFFFF), bad),
            ("nelems-zero", "mspan.nelems = 0", at("nelems", 0), {}),
            ("nelems-huge", "mspan.nelems = 0xffff", at("nelems", 0xFFFF), bad),
            ("allocbits-wild", "mspan.allocBits = 0xdead00000000", at("allocBits", 0xDEAD00000000), {}),
            ("allocbits-null", "mspan.allocBits = nil, freeindex 0",
             at("allocBits", 0) + at("freeindex", 0), bad),
            ("markbits-wild", "mspan.gcmarkBits wild, sweepgen unswept",
             at("gcmarkBits", 0xDEAD00000000) + at("sweepgen", 0), {}),
            ("elemsize-zero", "mspan.elemsize = 0", at("elemsize", 0), bad),
            ("elemsize-huge", "mspan.elemsize = 2^62", at("elemsize", 2 ** 62), {}),
            ("npages-huge", "mspan.npages = 2^40, limit = 2^63",
             at("npages", 2 ** 40) + at("limit", 2 ** 63), bad),
            ("limit-before-start", "mspan.limit < startAddr", at("limit", (start or 1) - 1), {}),
            ("spanclass-255", "mspan.spanclass = 255", at("spanclass", 255), {}),
        ]:
            c.add(f"{p}-span-{name}", s, "go-heap", what, patches=patches, args=cl, expect=expect)
        page = span & ~0xFFF
        if e.file_off(page, 4096) is not None:
            c.add(f"{p}-span-page-random", s, "go-heap", "the 4 KiB page of mspans around it random",
                  patches=[(e.file_off(page), rnd_bytes(f"{s.id}-spans", 4096))], args=cl)
    exe = s.exe
    syms = elf_symbols(exe, {"runtime.mheap_", "runtime.allgs", "runtime.allm",
                             "runtime.buildVersion"}) if exe else {}
    if "runtime.allgs" in syms:
        a = syms["runtime.allgs"]
        c.add(f"{p}-allgs-len-huge", s, "go-heap", "runtime.allgs length and cap = 2^40",
              patches=[(e.file_off(a + 8), u(2 ** 40, 8) + u(2 ** 40, 8))], args=cl)
        c.add(f"{p}-allgs-len-big", s, "go-heap", "runtime.allgs length = 2^23 (array too short)",
              patches=[(e.file_off(a + 8), u(2 ** 23, 8) + u(2 ** 23, 8))], args=cl)
        c.add(f"{p}-allgs-wild", s, "go-heap", "runtime.allgs array pointer wild",
              patches=[(e.file_off(a), u(0xDEAD00000000, 8))], args=cl)
        arr = e.u64(a)
        n = e.u64(a + 8) or 0
        if arr and n and e.file_off(arr, 8 * n) is not None:
            c.add(f"{p}-allgs-entries-random", s, "go-heap", "the allgs pointer array random",
                  patches=[(e.file_off(arr), rnd_bytes(f"{s.id}-allgs", 8 * n))], args=cl)
            g = e.u64(arr)
            if g and e.file_off(g, 512) is not None:
                c.add(f"{p}-g-random", s, "go-heap", "the first goroutine's g struct random",
                      patches=[(e.file_off(g), rnd_bytes(f"{s.id}-g", 512))], args=cl)
    if "runtime.allm" in syms:
        a = syms["runtime.allm"]
        c.add(f"{p}-allm-self", s, "go-heap", "runtime.allm points at itself (garbage M, maybe a cycle)",
              patches=[(e.file_off(a), u(a, 8))], args=cl)
        m = e.u64(a)
        if m and e.file_off(m, 2048) is not None:
            c.add(f"{p}-m-random", s, "go-heap", "the first M's struct random (alllink, g0, curg, ...)",
                  patches=[(e.file_off(m), rnd_bytes(f"{s.id}-m", 2048))], args=cl)
    if "runtime.mheap_" in syms:
        a = syms["runtime.mheap_"]
        if e.file_off(a, 4096) is not None:
            c.add(f"{p}-mheap-random", s, "go-heap", "the first 4 KiB of runtime.mheap_ random",
                  patches=[(e.file_off(a), rnd_bytes(f"{s.id}-mheap", 4096))], args=cl)
            # find mheap_.allspans: a slice {ptr, len, cap} whose array holds our span
            if span is not None:
                for k in range(0, 65536, 8):
                    hdr = e.read(a + k, 24)
                    if hdr is None:
                        break
                    ptr, ln, cp = struct.unpack("<QQQ", hdr)
                    if 0 < ln <= cp < 2 ** 24 and ptr:
                        arr = e.read(ptr, 8 * ln)
                        if arr and struct.pack("<Q", span) in arr:
                            c.add(f"{p}-allspans-len-huge", s, "go-heap",
                                  "mheap_.allspans length = 2^40",
                                  patches=[(e.file_off(a + k + 8), u(2 ** 40, 8) + u(2 ** 40, 8))], args=cl)
                            c.add(f"{p}-allspans-random", s, "go-heap",
                                  "mheap_.allspans array random",
                                  patches=[(e.file_off(ptr), rnd_bytes(f"{s.id}-allspans", 8 * ln))], args=cl)
                            break
    if "runtime.buildVersion" in syms:
        a = syms["runtime.buildVersion"]
        c.add(f"{p}-buildversion-wild", s, "go-heap", "runtime.buildVersion: pointer wild, length 2^40",
              patches=[(e.file_off(a), u(0xDEAD00000000, 8) + u(2 ** 40, 8))], args=cl)


def classic_map_damage(c: Corpus, s: Sample, name, kv=(8, 8)):
    e = s.elf
    m = s.maps.get(name)
    if not m:
        return
    h = int(m["addr"], 16)
    if e.file_off(h, 48) is None:
        return
    p = f"{s.tc}-{s.scenario}-map"
    buckets = e.u64(h + HMAP["buckets"][0])
    B = e.read(h + HMAP["B"][0], 1)[0]
    args = {"map": name, "classify": [h, buckets or h] + s.classify[:2]}
    flag = {"nonzero": ["map"], "stderr": ["map"]}

    def at(field, value):
        off, size = HMAP[field]
        return [(e.file_off(h + off), u(value, size))]
    bsize = 8 + 8 * kv[0] + 8 * kv[1] + 8  # tophash, keys, values, overflow (map[int]int)
    cases = [
        ("B-60", "hmap.B = 60", at("B", 60), flag),
        ("B-40", "hmap.B = 40 (buckets array not in memory)", at("B", 40), flag),
        ("count-huge", "hmap.count = 2^62", at("count", 2 ** 62), flag),
        ("count-negative", "hmap.count = -1", at("count", -1), flag),
        ("buckets-wild", "hmap.buckets = 0xdead00000000", at("buckets", 0xDEAD00000000), flag),
        ("buckets-nil", "hmap.buckets = nil with count > 0", at("buckets", 0), flag),
        ("fake-growth", "hmap.oldbuckets = buckets, nevacuate = 0 (a grow that never was)",
         at("oldbuckets", buckets or 0) + at("nevacuate", 0), {}),
        ("oldbuckets-wild", "hmap.oldbuckets wild, nevacuate 0", at("oldbuckets", 0xDEAD00000000) + at("nevacuate", 0), flag),
        ("writing", "hmap.flags = hashWriting|iterator", at("flags", 5), {}),
    ]
    if buckets and e.file_off(buckets, bsize) is not None:
        nb = 1 << B
        ov = buckets + bsize - 8
        cases += [
            ("overflow-self", "bucket 0's overflow points at bucket 0 (cycle)",
             [(e.file_off(ov), u(buckets, 8))], flag),
            ("overflow-cycle", "bucket 1's overflow points at bucket 0, bucket 0's at bucket 1",
             [(e.file_off(ov), u(buckets + bsize, 8)), (e.file_off(ov + bsize), u(buckets, 8))], flag),
            ("overflow-wild", "bucket 0's overflow points at an unmapped address",
             [(e.file_off(ov), u(0xDEAD00000000, 8))], flag),
        ]
        if e.file_off(buckets, bsize * nb) is not None:
            tophash = [(e.file_off(buckets + i * bsize), rnd_bytes(f"{s.id}-th{i}", 8)) for i in range(nb)]
            cases.append(("tophash-garbage", "every bucket's tophash bytes random", tophash, flag))
            cases.append(("buckets-random", "the first 4 KiB of the bucket array random",
                          [(e.file_off(buckets), rnd_bytes(f"{s.id}-bk", min(4096, bsize * nb)))], flag))
    for cname, what, patches, expect in cases:
        c.add(f"{p}-{cname}", s, "map", f"{name}: {what}", patches=patches, args=args, expect=expect)
    syms = elf_symbols(s.exe, {name}) if s.exe else {}
    if name in syms and e.file_off(syms[name], 8) is not None:
        c.add(f"{p}-var-wild", s, "map", f"{name} (the variable) points at an unmapped header",
              patches=[(e.file_off(syms[name]), u(0xDEAD00000000, 8))], args=args)


def swiss_map_damage(c: Corpus, s: Sample, name):
    e = s.elf
    m = s.maps.get(name)
    if not m:
        return
    h = int(m["addr"], 16)
    if e.file_off(h, 48) is None:
        return
    p = f"{s.tc}-{s.scenario}-map"
    args = {"map": name, "classify": [h] + s.classify[:2]}
    flag = {"nonzero": ["map"], "stderr": ["map"]}

    def at(base, table, field, value):
        off, size = table[field]
        return [(e.file_off(base + off), u(value, size))]
    dir_ptr = e.u64(h + SMAP["dirPtr"][0])
    dir_len = e.u64(h + SMAP["dirLen"][0])
    cases = [
        ("dirlen-2p40", "Map.dirLen = 2^40, globalDepth 40",
         at(h, SMAP, "dirLen", 2 ** 40) + at(h, SMAP, "globalDepth", 40), flag),
        ("dirlen-negative", "Map.dirLen = -5", at(h, SMAP, "dirLen", -5), flag),
        ("dirlen-3", "Map.dirLen = 3 (not a power of 2)", at(h, SMAP, "dirLen", 3), flag),
        ("dirptr-wild", "Map.dirPtr = 0xdead00000000", at(h, SMAP, "dirPtr", 0xDEAD00000000), flag),
        ("used-huge", "Map.used = 2^62", at(h, SMAP, "used", 2 ** 62), flag),
        ("writing", "Map.writing = 1 (a writer inside)", at(h, SMAP, "writing", 1), {}),
        ("small-flip", "Map.dirLen = 0 (a directory read as a small map's group)",
         at(h, SMAP, "dirLen", 0), flag),
    ]
    if dir_ptr and dir_len and 0 < dir_len < 4096 and e.file_off(dir_ptr, 8 * dir_len) is not None:
        tabs = [e.u64(dir_ptr + 8 * i) for i in range(dir_len)]
        cases.append(("dir-one-table", "every directory slot points at table 0",
                      [(e.file_off(dir_ptr + 8 * i), u(tabs[0], 8)) for i in range(dir_len)], flag))
        cases.append(("dir-wild", "directory slot 1 points at an unmapped address",
                      [(e.file_off(dir_ptr + 8), u(0xDEAD00000000, 8))], flag))
        t0 = tabs[0]
        if t0 and e.file_off(t0, 32) is not None:
            cases += [
                ("table-index-garbage", "every table's index = 12345",
                 sum((at(t, STABLE, "index", 12345) for t in set(tabs) if e.file_off(t, 32) is not None), []), flag),
                ("table-mask-huge", "table 0 groups.lengthMask = 2^40-1",
                 at(t0, STABLE, "groups_mask", 2 ** 40 - 1), flag),
                ("table-mask-wrap", "table 0 groups.lengthMask = 2^64-1 (count wraps to 0)",
                 at(t0, STABLE, "groups_mask", 2 ** 64 - 1), flag),
                ("table-groups-wild", "table 0 groups.data = 0xdead00000000",
                 at(t0, STABLE, "groups_data", 0xDEAD00000000), flag),
                ("table-used-huge", "table 0 used = 65535, capacity 0",
                 at(t0, STABLE, "used", 0xFFFF) + at(t0, STABLE, "capacity", 0), flag),
            ]
            data = e.u64(t0 + STABLE["groups_data"][0])
            if data and e.file_off(data, 4096) is not None:
                cases.append(("ctrl-garbage", "table 0's first 4 KiB of groups random (ctrl words garbage)",
                              [(e.file_off(data), rnd_bytes(f"{s.id}-grp", 4096))], flag))
                # All full with h2 0 is damage a walker can see only where a slot
                # was not full (a full group keeps its count: only h2, which needs
                # Go's hash to check, changes): such a group, this run, is emptied.
                ctrl = e.u64(data)
                if any((ctrl >> (8 * i)) & 0x80 for i in range(8)):
                    cases.append(("ctrl-all-full", "table 0's group 0 ctrl = all full, h2 0",
                                  [(e.file_off(data), u(0, 8))], flag))
                else:
                    cases.append(("ctrl-all-full", "table 0's group 0 (full this run) ctrl = all empty",
                                  [(e.file_off(data), u(0x8080808080808080, 8))], flag))
    for cname, what, patches, expect in cases:
        c.add(f"{p}-{cname}", s, "map", f"{name}: {what}", patches=patches, args=args, expect=expect)
    syms = elf_symbols(s.exe, {name}) if s.exe else {}
    if name in syms and e.file_off(syms[name], 8) is not None:
        c.add(f"{p}-var-wild", s, "map", f"{name} (the variable) points at an unmapped header",
              patches=[(e.file_off(syms[name]), u(0xDEAD00000000, 8))], args=args)


def swiss_small_map_damage(c: Corpus, s: Sample):
    e = s.elf
    p = f"{s.tc}-{s.scenario}-map"
    small = s.maps.get("main.smallMap")
    if not small:
        return
    sh = int(small["addr"], 16)
    g = e.u64(sh + SMAP["dirPtr"][0])
    if g and e.file_off(g, 8) is not None:
        c.add(f"{p}-small-ctrl-garbage", s, "map", "main.smallMap: the group's ctrl word random",
              patches=[(e.file_off(g), rnd_bytes(f"{s.id}-smallctrl", 8))],
              args={"map": "main.smallMap", "classify": [sh]})
        c.add(f"{p}-small-used-huge", s, "map", "main.smallMap: used = 2^40 (a small map holds 8)",
              patches=[(e.file_off(sh), u(2 ** 40, 8))],
              args={"map": "main.smallMap", "classify": [sh]},
              expect={"nonzero": ["map"], "stderr": ["map"]})


def c_heap_damage(c: Corpus, s: Sample):
    e = s.elf
    p = f"{s.tc}-{s.scenario}-cheap"
    chunks = []
    for a in s.addrs.get("c-heap", []):
        d = a.get("detail") or {}
        if d.get("chunk") and not d.get("mmapped"):
            chunks.append((int(a["addr"], 16), int(d["chunk"], 16), d.get("bin"), a.get("what", "")))
    if not chunks:
        c.skip(f"{p}-*", "no c-heap chunk in truth.json")
        return
    addr, ch, _, _ = chunks[0]
    cl = {"classify": [addr] + [x[0] for x in chunks[1:4]] + s.classify[:2]}
    size_off = e.file_off(ch + 8)
    if size_off is None:
        return
    cur = e.u64(ch + 8)
    for name, what, value in [
        ("size-zero", "a chunk's size = PREV_INUSE only (the walk would not move)", 1),
        ("size-huge", "a chunk's size = 2^60 (leaves the heap)", 2 ** 60 | 1),
        ("size-negative", "a chunk's size = -32 (walks backwards)", (2 ** 64 - 32) | 1),
        ("size-misaligned", "a chunk's size = 0x1237", 0x1237),
        ("size-mmapped", "a heap chunk's size with IS_MMAPPED set", (cur or 0x20) | 2),
    ]:
        c.add(f"{p}-{name}", s, "c-heap", what, patches=[(size_off, u(value, 8))], args=cl)
    # free lists that loop: fd at the user pointer, safe-linked since glibc 2.32
    # (next = (pos >> 12) ^ ptr); both encodings tried, the walker must end either way
    done = set()
    for a_, ch_, bin_, what in chunks:
        if bin_ in ("tcache", "fastbin") and bin_ not in done and e.file_off(ch_ + 16, 8) is not None:
            done.add(bin_)
            pos = ch_ + 16
            c.add(f"{p}-{bin_}-self-loop", s, "c-heap",
                  f"a {bin_} chunk's next pointer points at itself ({what})",
                  patches=[(e.file_off(pos), u((pos >> 12) ^ pos, 8))], args=cl)
            c.add(f"{p}-{bin_}-wild", s, "c-heap", f"a {bin_} chunk's next pointer wild ({what})",
                  patches=[(e.file_off(pos), u(0x4141414141414141, 8))], args=cl)
    for a_, ch_, bin_, what in chunks:
        if bin_ in ("small", "large", "unsorted") and e.file_off(ch_ + 16, 16) is not None:
            c.add(f"{p}-{bin_}-links-self", s, "c-heap", f"a {bin_} chunk's fd/bk point at itself",
                  patches=[(e.file_off(ch_ + 16), u(ch_, 8) + u(ch_, 8))], args=cl)
            break
    start = max(ch - 2048, (ch & ~0xFFF))
    if e.file_off(start, 4096) is not None:
        c.add(f"{p}-random", s, "c-heap", "4 KiB of the C heap around a chunk random",
              patches=[(e.file_off(start), rnd_bytes(f"{s.id}-cheap", 4096))], args=cl)


def exe_damage(c: Corpus, samples_by_tc, out: pathlib.Path):
    go = [s for s in samples_by_tc.values() if s and s.tc.startswith("go")]
    cs = samples_by_tc.get("c")
    if len(go) >= 2:
        a, b = go[0], go[1]
        for x, y in ((a, b), (b, a)):
            c.add(f"{x.tc}-{x.scenario}-exe-{y.tc}", x, "exe", f"the {y.tc} executable (build-id differs)",
                  exe=y.exe, expect={"nonzero": "all", "stderr_any": ["build-id", "does not match"]})
    if go and cs:
        g = go[0]
        c.add(f"{g.tc}-{g.scenario}-exe-c", g, "exe", "a plain C program's executable",
              exe=cs.exe, expect={"nonzero": "all", "stderr_any": ["build-id", "does not match"]})
        c.add(f"c-{cs.scenario}-exe-go", cs, "exe", "a Go program's executable for a C core",
              exe=g.exe, expect={"nonzero": "all", "stderr_any": ["build-id", "does not match"]})
    if go:
        g = go[-1]
        d = out / "_exes"
        d.mkdir(parents=True, exist_ok=True)
        data = g.exe.read_bytes()
        (d / "truncated").write_bytes(data[:len(data) // 2])
        (d / "not-elf").write_bytes(b"#!/bin/sh\necho this is not the program\n")
        damaged = bytearray(data)
        shoff, = struct.unpack_from("<Q", damaged, 0x28)
        struct.pack_into("<Q", damaged, 0x28, 2 ** 62)  # section headers gone
        (d / "no-sections").write_bytes(bytes(damaged))
        for n in ("truncated", "not-elf", "no-sections"):
            os.chmod(d / n, 0o755)
        for n, what in (("truncated", "the executable cut in half"),
                        ("not-elf", "the executable is a shell script"),
                        ("no-sections", "the executable's e_shoff = 2^62 (no sections, no DWARF)")):
            c.add(f"{g.tc}-{g.scenario}-exe-{n}", g, "exe", what, exe=d / n,
                  expect={"nonzero": "all"})


def generate(out: pathlib.Path):
    global EXES
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    EXES = out / "_exes"
    c = Corpus(out)
    base = {}
    # ELF-level damage does not depend on the toolchain: spread it over the two
    # Go samples; Go heap and map damage on both (the layouts differ).
    for tc in GO_TOOLCHAINS:
        s = sample(tc, "go-uaf")      # small core, Go heap addresses in its truth
        m = sample(tc, "map-grow-stale")  # small core, one big map
        base[tc] = s or m
        if not s:
            c.skip(f"{tc}-go-uaf-*", f"no sample {tc}/go-uaf (run `make samples`)")
        elif tc == GO_TOOLCHAINS[0]:
            truncations(c, s)
            note_damage(c, s)
        else:
            segment_damage(c, s)
            note_damage(c, s, light=True)
        if s:
            go_heap_damage(c, s)
        if not m:
            c.skip(f"{tc}-map-grow-stale-*", f"no sample {tc}/map-grow-stale")
        elif tc == "go1.23":
            classic_map_damage(c, m, "main.staleMap")
        else:
            swiss_map_damage(c, m, "main.staleMap")
            small = sample(tc, "maps")
            if small:
                swiss_small_map_damage(c, small)
        g = sample(tc, "c-double-free")
        if g:
            c_heap_damage(c, g)
    cs = sample("c", "c-uaf")
    base["c"] = cs
    if cs:
        truncations(c, cs, light=True)
        note_damage(c, cs, light=True)
        c_heap_damage(c, cs)
    exe_damage(c, base, out)
    manifest = dict(format=FORMAT, sources=sorted({x["sample"] for x in c.cases}),
                    cases=c.cases, skipped=c.skipped)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def up_to_date(out: pathlib.Path):
    mf = out / "manifest.json"
    if not mf.exists():
        return False
    try:
        m = json.loads(mf.read_text())
    except ValueError:
        return False
    if m.get("format") != FORMAT:
        return False
    t = mf.stat().st_mtime
    for src in m.get("sources", []):
        core = SAMPLES / src / "core"
        if not core.exists() or core.stat().st_mtime > t:
            return False
    if pathlib.Path(__file__).stat().st_mtime > t:
        return False
    return all((ROOT / cse["core"]).exists() for cse in m["cases"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "corrupt"))
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    a = ap.parse_args(argv)
    out = pathlib.Path(a.out)
    if not a.force and up_to_date(out):
        m = json.loads((out / "manifest.json").read_text())
        print(f"corrupt_cores: {len(m['cases'])} cases in {out} (up to date)")
        return 0
    m = generate(out)
    kinds = {}
    for cse in m["cases"]:
        kinds[cse["kind"]] = kinds.get(cse["kind"], 0) + 1
    print(f"corrupt_cores: {len(m['cases'])} cases in {out}: " +
          ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    for sk in m["skipped"]:
        print(f"corrupt_cores: skipped {sk['name']}: {sk['why']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
