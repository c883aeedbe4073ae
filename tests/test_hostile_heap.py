"""Hostile Go heap metadata and hostile cores against `heap`, `cgocheck` and
`classify`: each case is a copy of a real sample core (the cgocheck sample of
Go 1.23 and 1.26: both layouts, with and without Green Tea) with a few bytes
patched at offsets computed from the core's program headers, the library's
own layout (`coretool info --json --layout`) and `classify --json`, or a
program header / the file cut. Every run must end within its timeout with the
exact outcome: the exit status that says "partial", the warning that says why,
heap totals that are not absurd, a heap address that stays in the Go heap.

  - one span check for every verb (goheap.c go_span_check): elemsize 2^63,
    npages 0xffffffff / 0xffffffff00000000 are skipped, counted and warned
    about by `heap` and `cgocheck` (never walked, never added up);
  - every cgocheck scan is bounded by what the core holds: a Go data range
    reaching far past the executable, a garbage program-header table
    (e_phnum 0xffff) whose segments are terabytes;
  - a wild heapArena pointer or a wild mheap_.arenas: addresses in the heap
    arenas are `go-heap unknown`, never `thread-stack`;
  - cgocheck on a core missing memory it needed: exit status 3 (partial) and
    summary.truncated true, never 0 / 1 as if the audit were whole.
"""
import json
import struct
import subprocess
import time

import pytest

from conftest import SAMPLES, run, run_json

TOOLCHAINS = ("go1.23", "go1.26")
CGOCHECK_PARTIAL = 3  # cgocheck: 0 clean, 1 something dangles, 3 partial (cmd_cgocheck.c)
TIMEOUT = 60          # a hang is a failure; runs here take well under a few seconds
PT_LOAD = 1
ARENA_BASE = 0xFFFF800000000000  # amd64 arenaBaseOffset (docs/go-runtime.md "Heap")
ARENA_BYTES = 64 << 20
L2_BITS = 22
WILD = 0xDEAD00000000


def sample_dirs():
    out = []
    for tc in TOOLCHAINS:
        d = SAMPLES / tc / "cgocheck"
        if (d / "core").exists() and (d / "truth.json").exists():
            out.append(pytest.param(d, id=tc))
    return out


SAMPLE_DIRS = sample_dirs()
pytestmark = pytest.mark.skipif(not SAMPLE_DIRS, reason="no cgocheck sample cores (make samples)")


# ---- the core file ----

class Core:
    """A sparse copy of a sample core, patched in place."""

    def __init__(self, src, dst):
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "--sparse=always", str(src), str(dst)], check=True)
        self.path = dst
        with open(dst, "rb") as f:
            ehdr = f.read(64)
            self.phoff, = struct.unpack_from("<Q", ehdr, 0x20)
            self.phnum, = struct.unpack_from("<H", ehdr, 0x38)
            f.seek(self.phoff)
            raw = f.read(56 * self.phnum)
        self.loads = []
        for i in range(self.phnum):
            t, fl, off, va, _, fs, ms, _ = struct.unpack_from("<IIQQQQQQ", raw, 56 * i)
            if t == PT_LOAD:
                self.loads.append(dict(offset=off, vaddr=va, filesz=fs, memsz=ms, flags=fl))

    def off(self, va, n=1):
        """File offset of va if the core saved n bytes there."""
        for p in self.loads:
            if p["vaddr"] <= va and va + n <= p["vaddr"] + p["filesz"]:
                return p["offset"] + va - p["vaddr"]
        raise AssertionError(f"0x{va:x} ({n} bytes) is not saved in {self.path}")

    def read(self, va, n):
        with open(self.path, "rb") as f:
            f.seek(self.off(va, n))
            return f.read(n)

    def u64(self, va):
        return int.from_bytes(self.read(va, 8), "little")

    def write(self, va, data):
        o = self.off(va, len(data))
        with open(self.path, "r+b") as f:
            f.seek(o)
            f.write(data)

    def put(self, va, value, size):
        self.write(va, (value & (2 ** (8 * size) - 1)).to_bytes(size, "little"))

    def write_file(self, off, data):
        with open(self.path, "r+b") as f:
            f.seek(off)
            f.write(data)


def elf_symbols(exe, wanted):
    """Addresses of the named symbols (.symtab of the executable)."""
    data = exe.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out = {}
    for s in secs:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = secs[s[6]]
        for k in range(s[5] // 24):
            name_off, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, s[4] + 24 * k)
            start = strtab[4] + name_off
            name = data[start:data.index(b"\0", start)].decode(errors="replace")
            if name in wanted:
                out[name] = value
    return out


class Case:
    """A sample and what the tests aim by: its layout, its heap objects."""

    def __init__(self, d, tmp_path):
        self.dir = d
        self.exe = d / "exe"
        self.truth = json.loads((d / "truth.json").read_text())
        self.cg = self.truth["extra"]["cgocheck"]
        self.core = Core(d / "core", tmp_path / "core")
        rc, lay, err = run_json(["--exe", self.exe, "info", "--layout", d / "core"], timeout=TIMEOUT)
        assert rc == 0, err
        self.mspan = lay["layout"]["runtime.mspan"]
        self.mheap = lay["layout"]["runtime.mheap"]
        self.syms = elf_symbols(self.exe, {"runtime.mheap_", "runtime.firstmoduledata",
                                           "runtime.edata", "runtime.enoptrdata"})
        # the dangling Go object C keeps (freed by the GC) and a live one
        self.freed = int(next(w["target"] for w in self.cg["c_holds_go"] if w["verdict"] == "dangling"), 16)
        self.live = int(next(w["target"] for w in self.cg["c_holds_go"] if w["verdict"] == "unpinned"), 16)

    def args(self, *verb):
        return ["--exe", self.exe] + list(verb)

    def span_of(self, addr):
        rc, v, err = run_json(self.args("classify", self.dir / "core", hex(addr)), timeout=TIMEOUT)
        assert rc == 0 and v["region"] == "go-heap", (v, err)
        return int(v["detail"]["span"]["mspan"], 16), v

    def span_field(self, span, field, value):
        f = self.mspan[field]
        self.core.put(span + f["offset"], value, f["size"])


@pytest.fixture(params=SAMPLE_DIRS)
def case(request, tmp_path):
    return Case(request.param, tmp_path)


def timed(args):
    t0 = time.monotonic()
    rc, out, err = run(args, timeout=TIMEOUT)
    return rc, out, err, time.monotonic() - t0


def cgocheck(case):
    rc, out, err, secs = timed(case.args("--json", "cgocheck", case.core.path))
    return rc, json.loads(out), err, secs


def heap(case):
    rc, out, err, secs = timed(case.args("--json", "heap", case.core.path))
    return rc, json.loads(out), err, secs


# ---- the healthy sample: what the hostile cases are compared with ----

def test_healthy_sample_is_whole(case):
    rc, rep, err, _ = cgocheck(case)
    assert rc == 1 and not rep["summary"]["truncated"], err  # something dangles, full audit
    assert "warning" not in err
    rc, h, err, _ = heap(case)
    assert rc == 0 and "warning" not in err, err


# ---- 1. one span check for every verb ----

def test_span_elemsize_2p63(case):
    """One live span with elemsize 2^63: cgocheck used to scan 2^63 bytes per
    object (a hang); now the span fails the span check in every verb."""
    span, _ = case.span_of(case.live)
    case.span_field(span, "elemsize", 2 ** 63)
    rc, rep, err, secs = cgocheck(case)
    assert rc == CGOCHECK_PARTIAL, err
    assert f"span 0x{span:x} is inconsistent" in err and "Go span skipped" in err, err
    assert "partial audit" in err
    assert rep["summary"]["truncated"] is True
    assert secs < 20, secs
    rc, h, err, _ = heap(case)
    assert rc == 1 and f"span 0x{span:x} is inconsistent" in err and "1 span skipped" in err, err
    rc, out, err = run(case.args("classify", case.core.path, hex(case.live)), timeout=TIMEOUT)
    assert rc == 1 and "go-heap      unknown" in out and "is inconsistent" in out + err, out + err


@pytest.mark.parametrize("npages", [0xFFFFFFFF, 0xFFFFFFFF00000000], ids=["2^32-1", "2^64-2^32"])
def test_span_npages_huge(case, npages):
    """npages 0xffffffff (32 TiB) or 0xffffffff00000000: heap used to report
    32 TiB (or ~2^64, wrapped) in use with exit 0."""
    span, _ = case.span_of(case.live)
    rc, whole, err, _ = timed(case.args("--json", "heap", case.dir / "core"))
    assert rc == 0, err
    whole = json.loads(whole)
    case.span_field(span, "npages", npages)
    rc, h, err, secs = heap(case)
    assert rc == 1, err
    assert f"span 0x{span:x} is inconsistent" in err and "1 span skipped" in err, err
    # the damaged span is left out, nothing else: totals within one span of the whole heap's
    assert whole["span_bytes"] - 64 * 8192 <= h["span_bytes"] <= whole["span_bytes"], (h, whole)
    assert h["spans"] == whole["spans"] - 1
    assert h["live_bytes"] <= whole["live_bytes"]
    assert max(c["span_bytes"] for c in h["classes"]) < 1 << 30
    rc, rep, err, secs = cgocheck(case)
    assert rc == CGOCHECK_PARTIAL and "Go span skipped" in err, err
    assert rep["summary"]["truncated"] is True


# ---- 1. bounded scans ----

def test_go_data_range_huge(case):
    """runtime.firstmoduledata's edata moved to 2^46: the "Go global data"
    range reaches terabytes past the executable. cgocheck used to walk all of
    it (a hang); the range must lie inside the executable, else it is
    not scanned, and the audit is partial."""
    md, edata = case.syms["runtime.firstmoduledata"], case.syms["runtime.edata"]
    blob = case.core.read(md, 1024)
    offs = [k for k in range(0, len(blob) - 7, 8) if struct.unpack_from("<Q", blob, k)[0] == edata]
    assert offs, "moduledata.edata not found"
    case.core.put(md + offs[0], 1 << 46, 8)
    rc, rep, err, secs = cgocheck(case)
    assert rc == CGOCHECK_PARTIAL, err
    assert "firstmoduledata.data-edata" in err and "is not inside the executable" in err, err
    assert rep["summary"]["truncated"] is True
    assert rep["summary"]["go_bytes_scanned"] < case.core.path.stat().st_size
    assert secs < 20, secs


def test_phnum_garbage(case):
    """e_phnum = 0xffff: 65,535 program headers, most of them garbage read
    from past the real table, some of them terabytes long and holding a
    thread's stack pointer. cgocheck used to take 15-20 s walking them; every
    scan is now bounded by the bytes the core holds."""
    case.core.write_file(0x38, struct.pack("<H", 0xFFFF))
    rc, out, err, secs = timed(case.args("--json", "cgocheck", case.core.path))
    assert secs < 8, f"cgocheck took {secs:.1f} s"
    assert rc in (2, CGOCHECK_PARTIAL), err  # never a whole audit of garbage
    assert "coretool:" in err
    if rc == CGOCHECK_PARTIAL:
        rep = json.loads(out)
        assert rep["summary"]["truncated"] is True


# ---- 2. a damaged arena index: the heap stays the heap ----

def arena_entry(case, addr):
    """The address of addr's heapArena pointer in mheap_.arenas[0][...] (L1 bits 0)."""
    l2arr = case.core.u64(case.syms["runtime.mheap_"] + case.mheap["arenas"]["offset"])
    ai = ((addr - ARENA_BASE) % 2 ** 64) // ARENA_BYTES
    return l2arr + (ai & ((1 << L2_BITS) - 1)) * 8


def wild_arena_index(case, what):
    if what == "heapArena":
        case.core.put(arena_entry(case, case.freed), WILD, 8)
    else:
        case.core.put(case.syms["runtime.mheap_"] + case.mheap["arenas"]["offset"], WILD, 8)


@pytest.mark.parametrize("what", ["heapArena", "arenas"])
def test_arena_index_wild_classify(case, what):
    """A wild heapArena pointer (or a wild mheap_.arenas[0]): the span lookup
    fails. The heap mapping used to stop being excluded from the thread
    stacks, and the freed Go object C keeps came out `thread-stack
    allocated`, exit 0. Now: go-heap, state unknown, a note, exit 1.
    (go_heap_in_arena, used by target.c tstack_add and classify.c classify_go.)"""
    wild_arena_index(case, what)
    rc, vs, err = run(["--json"] + case.args("classify", case.core.path, hex(case.freed), hex(case.live)),
                      timeout=TIMEOUT)
    vs = [json.loads(l) for l in vs.splitlines() if l.strip()]
    assert rc == 1, err
    assert len(vs) == 2
    for v in vs:
        assert v["region"] == "go-heap" and v["state"] == "unknown", v
        assert "Go heap metadata unreadable" in v["detail"]["note"], v
    assert "state unknown" in err
    rc, out, err = run(case.args("classify", case.core.path, hex(case.freed)), timeout=TIMEOUT)
    assert "thread-stack" not in out and "go-heap      unknown" in out, out


@pytest.mark.parametrize("what", ["heapArena", "arenas"])
def test_arena_index_wild_cgocheck(case, what):
    """The same damage under cgocheck: the Go pointers C keeps cannot be
    judged. It used to say "0 dangling" with exit 0 (the lookup errors were
    dropped); now the audit is partial: exit 3, the pointers counted."""
    wild_arena_index(case, what)
    rc, rep, err, secs = cgocheck(case)
    assert rc == CGOCHECK_PARTIAL, err
    assert "dangling or not is unknown" in err, err
    assert rep["summary"]["truncated"] is True
    assert not [f for f in rep["findings"] if f["target"]["region"] == "thread-stack"]


# ---- 4. cgocheck on a core missing what it needed ----

def test_cgocheck_truncated_core(case):
    """The core cut in the Go heap, at the page of the freed object C keeps:
    the audit misses memory it needed (Go objects, the spans' bits, what
    follows in the file) and must say so (exit 3, truncated true), not exit 0
    with "0 dangling" as if it were whole."""
    seg = next(p for p in case.core.loads if p["vaddr"] <= case.freed < p["vaddr"] + p["memsz"])
    with open(case.core.path, "r+b") as f:
        f.truncate(seg["offset"] + (case.freed - seg["vaddr"]) // 4096 * 4096)
    rc, rep, err, secs = cgocheck(case)
    assert rc == CGOCHECK_PARTIAL, err
    assert rep["summary"]["truncated"] is True
    assert "partial audit" in err and "truncated" in err, err
    rc, out, err = run(case.args("cgocheck", case.core.path), timeout=TIMEOUT)
    assert rc == CGOCHECK_PARTIAL and "(partial: memory the audit needed is missing" in out, out

