"""Hostile inputs found by fuzzing, each made here by mutating a copy of a real
sample core, executable or cache file, and each with its exact outcome:

1. cache entries whose checksum is right but whose fields are hostile (the
   malloc layout of libc6-dbg, the DWARF index): checked as if just read, so
   the answers are those without a cache and the entry is rebuilt;
2. an executable cut short of its section header table: refused, clearly;
3. glibc heap, real cores: the prev_size word of a chunk after a free
   neighbour is the neighbour's; free bin chunks of a thread arena carry no
   NON_MAIN_ARENA bit (glibc writes set_head(p, size | PREV_INUSE));
4. `info` without a usable executable says what is missing (exit 1); a
   signal sent by kill/tgkill shows its sender's pid and uid;
5. an executable of another program (build ID, Go build ID) is refused;
6. `triage` batches: a core that hangs or eats memory is an error of its own
   (kind timeout / memory) and the batch goes on.

The test-only hooks of item 6 (CORETOOL_TEST_TRIAGE_HANG, _EAT) are described
in coretool/cli/cmd_triage.c; nothing else uses them.
"""
import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import time

import pytest

from conftest import CORETOOL, SAMPLES, SANITIZER_EXIT, all_samples, sanitizer_report

OK, PARTIAL, FATAL, USAGE = 0, 1, 2, 64


def run(args, env=None, timeout=120, cache="off"):
    """coretool with the cache given (a directory, or "off"); (rc, stdout, stderr)."""
    e = dict(os.environ, CORETOOL_CACHE_DIR=str(cache))
    e.update(env or {})
    p = subprocess.run([str(CORETOOL)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e)
    bad = sanitizer_report(p.stderr)
    assert p.returncode != SANITIZER_EXIT and bad is None, (
        f"coretool {' '.join(map(str, args))}: sanitizer report: {bad}\n{p.stderr[-3000:]}")
    return p.returncode, p.stdout, p.stderr


def jsonl(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def sample(toolchain, scenario):
    d = SAMPLES / toolchain / scenario
    if not (d / "core").exists():
        pytest.fail(f"sample {toolchain}/{scenario} missing (make samples)")
    return next(s for s in all_samples() if s.dir == d)


def newest_go(scenario):
    for tc in ("go1.27", "go1.26", "go1.25", "go1.24", "go1.23", "go1.22"):
        if (SAMPLES / tc / scenario / "core").exists():
            return sample(tc, scenario)
    pytest.fail(f"no Go sample {scenario}")


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def sanitized():
    with open(CORETOOL, "rb") as f:
        return b"AddressSanitizer" in f.read()


# ---- core files: virtual address -> file offset (PT_LOAD) ----

def load_segments(data):
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    segs = []
    for i in range(e_phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1:
            segs.append((p_vaddr, p_offset, p_filesz))
    return segs


def file_off(segs, addr):
    for vaddr, off, filesz in segs:
        if vaddr <= addr and addr + 8 <= vaddr + filesz:
            return off + addr - vaddr
    raise AssertionError(f"0x{addr:x} is not saved in the core")


def peek(data, segs, addr):
    return struct.unpack_from("<Q", data, file_off(segs, addr))[0]


def poke(data, segs, addr, value):
    struct.pack_into("<Q", data, file_off(segs, addr), value)


# ---- cache files (coretool/lib/base/cache.c): 64-byte header, then the payload ----

M64 = (1 << 64) - 1


def _fnv(h, data):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & M64
    return h


def cache_sum(p):
    """cache.c's cache_sum: the checksum a forged entry needs to be believed intact."""
    k = 0x9e3779b97f4a7c15
    h = [1, 2, 3, len(p)]
    i = 0
    while i + 32 <= len(p):
        for l in range(4):
            x = ((h[l] ^ struct.unpack_from("<Q", p, i + 8 * l)[0]) * k) & M64
            h[l] = x ^ (x >> 29)
        i += 32
    r = _fnv(1469598103934665603, p[i:])
    for l in range(4):
        r = ((r ^ h[l]) * k) & M64
    return r ^ (r >> 31)


def read_entry(f):
    b = f.read_bytes()
    assert b[:8] == b"CTCACHE1"
    hdr, payload = bytearray(b[:64]), bytearray(b[64:])
    assert struct.unpack_from("<QQ", hdr, 32) == (len(payload), cache_sum(bytes(payload))), \
        "cache_sum here is not cache.c's"
    return hdr, payload


def write_entry(f, hdr, payload):
    """The entry with its length and checksum right: intact as far as cache.c can tell."""
    hdr = bytearray(hdr)
    struct.pack_into("<QQ", hdr, 32, len(payload), cache_sum(bytes(payload)))
    f.write_bytes(bytes(hdr) + bytes(payload))


# ======================================================================
# 1. hostile cache entries, checksum right
# ======================================================================

LIBC = pathlib.Path("/lib/x86_64-linux-gnu/libc.so.6")

# struct cheap_cached (coretool/lib/cheap/cheap.c) on x86-64: format, have_layout,
# main_arena, mp, sbrk_off, then struct cheap_layout at 32.
MALLOC_ENTRY_SIZE = 184
L = 32
MALLOC_FIELDS = {  # offset in the entry: (struct format, value glibc 2.36's libc6-dbg gives)
    "align": (L + 20, "<I", 16),
    "nsmallbins": (L + 28, "<I", 64),
    "pagesize": (L + 32, "<I", 4096),
    "ms_fastbins": (L + 48, "<I", 0x10),
    "nfastbins": (L + 52, "<I", 10),
    "ms_size": (L + 96, "<I", 0x898),
    "heap_max": (L + 120, "<Q", 64 << 20),
    "tc_bins": (L + 128, "<I", 64),
    "tc_entries": (L + 136, "<I", 128),
    "tc_sizeof": (L + 140, "<I", 640),
    "tc_key": (L + 144, "<B", 1),
}
# Each: fields and the hostile values written into them. All pass a checksum;
# each made the old reader crash, read out of bounds or answer wrongly.
MALLOC_HOSTILE = {
    "tc_entries-wraps": {"tc_entries": 0xffffffff},         # eoff + 8*nb wraps in 32 bits
    "fastbins-wrap": {"ms_fastbins": 0xfffffff8},          # ms_fastbins + 8*nfastbins wraps
    "align-zero": {"align": 0},
    "pagesize-zero": {"pagesize": 0},
    "heap_max-zero": {"heap_max": 0},
    "nsmallbins-above-nbins": {"nsmallbins": 200},
    "ms_size-huge": {"ms_size": 0x10000},
    "bool-not-0-or-1": {"tc_key": 2},
    "main_arena-elsewhere": {"main_arena": None},          # +0x100: still inside libc, aligned
}


def c_uaf():
    return sample("c", "c-uaf")


def c_heap_commands(s):
    addrs = [a["addr"] for a in s.truth["addresses"] if a.get("region") == "c-heap"]
    return [["--json", "classify", s.core] + addrs, ["--json", "triage", s.core],
            ["--json", "cgocheck", s.core]]


@pytest.fixture(scope="module")
def malloc_entry(tmp_path_factory):
    """The machine libc's .malloc entry, as coretool stores it from libc6-dbg."""
    bid = build_id(LIBC.resolve())
    if not bid or not pathlib.Path(f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug").exists():
        pytest.skip("libc6-dbg of the machine's libc is not installed (scripts/install-libc-dbg.sh)")
    d = tmp_path_factory.mktemp("malloc-cache")
    s = c_uaf()
    rc, _, err = run(["classify", s.core, s.truth["addresses"][0]["addr"]], cache=d)
    assert rc == OK, err
    f = d / f"{bid}.malloc"
    assert f.is_file(), "the malloc layout was not cached"
    hdr, payload = read_entry(f)
    assert len(payload) == MALLOC_ENTRY_SIZE, "struct cheap_cached changed: update the offsets here"
    assert struct.unpack_from("<II", payload, 0) == (1, 1), "format 1 with a DWARF layout"
    for name, (off, fmt, want) in MALLOC_FIELDS.items():
        assert struct.unpack_from(fmt, payload, off)[0] == want, f"{name}: offsets moved"
    return bid, bytes(hdr), bytes(payload)


@pytest.mark.parametrize("case", list(MALLOC_HOSTILE))
def test_hostile_malloc_cache_is_not_believed(case, malloc_entry, tmp_path):
    bid, hdr, good = malloc_entry
    s = c_uaf()
    want = [run(c) for c in c_heap_commands(s)]  # no cache at all
    assert want[0][0] == OK and '"c-heap"' in want[0][1]
    payload = bytearray(good)
    for name, value in MALLOC_HOSTILE[case].items():
        if name == "main_arena":
            struct.pack_into("<Q", payload, 8, struct.unpack_from("<Q", payload, 8)[0] + 0x100)
        else:
            off, fmt, _ = MALLOC_FIELDS[name]
            struct.pack_into(fmt, payload, off, value)
    cache = tmp_path / "cache"
    cache.mkdir()
    f = cache / f"{bid}.malloc"
    write_entry(f, hdr, payload)
    for c, (rc0, out0, err0) in zip(c_heap_commands(s), want):
        rc, out, err = run(c, cache=cache, timeout=60)
        assert (rc, out) == (rc0, out0), f"{c[1]} with a '{case}' malloc cache entry:\n{err[-2000:]}"
        assert "C heap" not in err, err
    # Not taken: read again from libc6-dbg and stored again, byte for byte.
    assert read_entry(f)[1] == bytearray(good)


# DWARF index (coretool/lib/elf/dw.c): head {u32 format, version; u64 img_len,
# tabsz, nentries}, the image at 32, then tabsz entries {u32 name, i32 tag, u64 off}.
DW_TAG_structure_type, DW_TAG_variable = 0x13, 0x34


class DwEntry:
    def __init__(self, payload):
        self.p = payload
        self.fmt, self.version, self.img_len, self.tabsz, self.n = struct.unpack_from("<IIQQQ", payload, 0)
        self.img = 32
        self.ents = self.img + ((self.img_len + 15) & ~15)
        assert self.ents + 16 * self.tabsz == len(payload)

    def slot(self, i):
        return struct.unpack_from("<IiQ", self.p, self.ents + 16 * i)

    def set_slot(self, i, name, tag, off):
        struct.pack_into("<IiQ", self.p, self.ents + 16 * i, name, tag, off)

    def name(self, i):
        nm = self.slot(i)[0]
        end = self.p.index(b"\0", self.img + nm)
        return bytes(self.p[self.img + nm:end]).decode()

    def find(self, name, tag):
        for i in range(self.tabsz):
            nm, t, _ = self.slot(i)
            if nm != 0xffffffff and t == tag and self.name(i) == name:
                return i
        raise AssertionError(f"{name} not in the index")

    def section_header(self, name):
        """Offset (in the payload) of the image's section header of that name."""
        img = self.img
        e_shoff, = struct.unpack_from("<Q", self.p, img + 0x28)
        e_shnum, e_shstrndx = struct.unpack_from("<HH", self.p, img + 0x3c)
        stroff, = struct.unpack_from("<Q", self.p, img + e_shoff + 64 * e_shstrndx + 24)
        for i in range(e_shnum):
            sh = img + e_shoff + 64 * i
            nm, = struct.unpack_from("<I", self.p, sh)
            end = self.p.index(b"\0", img + stroff + nm)
            if bytes(self.p[img + stroff + nm:end]).decode() == name:
                return sh
        raise AssertionError(f"no {name} in the image")


def _dw_retag(e):
    i = e.find("runtime.mspan", DW_TAG_structure_type)
    nm, _, off = e.slot(i)
    e.set_slot(i, nm, DW_TAG_variable, off)


def _dw_redirect(e):
    """runtime.mspan's entry names the DIE of runtime.g: the wrong layout, silently."""
    i = e.find("runtime.mspan", DW_TAG_structure_type)
    j = e.find("runtime.g", DW_TAG_structure_type)
    nm, tag, _ = e.slot(i)
    e.set_slot(i, nm, tag, e.slot(j)[2])


def _dw_rename(e):
    """runtime.mspan's entry points at runtime.g's name string."""
    i = e.find("runtime.mspan", DW_TAG_structure_type)
    j = e.find("runtime.g", DW_TAG_structure_type)
    _, tag, off = e.slot(i)
    e.set_slot(i, e.slot(j)[0], tag, off)


def _dw_version(e):
    struct.pack_into("<I", e.p, 4, 7)


def _dw_short_section(e):
    """.debug_info's section header says 4 KiB less than there is."""
    sh = e.section_header(".debug_info")
    size, = struct.unpack_from("<Q", e.p, sh + 32)
    struct.pack_into("<Q", e.p, sh + 32, size - 4096)


def _dw_move_slot(e):
    """An entry moved off the probe path of its hash: lookups would miss it."""
    i = e.find("runtime.mspan", DW_TAG_structure_type)
    j = next(k for k in range(e.tabsz // 2, e.tabsz) if e.slot((i + k) % e.tabsz)[0] == 0xffffffff
             and e.slot((i + k - 1) % e.tabsz)[0] == 0xffffffff)
    j = (i + j) % e.tabsz
    e.set_slot(j, *e.slot(i))
    e.set_slot(i, 0xffffffff, 0, 0)


DW_HOSTILE = {"retag": _dw_retag, "redirect": _dw_redirect, "rename": _dw_rename,
              "version": _dw_version, "short-section": _dw_short_section, "move-slot": _dw_move_slot}


def _go_answers(s, cache):
    out = []
    for c in (["--json", "info", s.core], ["--json", "heap", s.core], ["--json", "triage", s.core]):
        rc, o, err = run(c, cache=cache, timeout=120)
        if c[1] == "info":
            d = json.loads(o)
            d["dwarf"].pop("cache")
            d["dwarf"].pop("cache_note")
            o = json.dumps(d, sort_keys=True)
        out.append((c[1], rc, o))
    return out


@pytest.mark.parametrize("case", list(DW_HOSTILE))
def test_hostile_dwarf_index_cache_is_not_believed(case, tmp_path):
    s = newest_go("go-uaf")
    want = _go_answers(s, "off")
    cache = tmp_path / "cache"
    rc, out, _ = run(["--json", "info", s.core], cache=cache)
    assert json.loads(out)["dwarf"]["cache"] == "stored"
    f = cache / f"{build_id(s.exe)}.dwidx"
    hdr, payload = read_entry(f)
    good = bytes(payload)
    e = DwEntry(payload)
    DW_HOSTILE[case](e)
    assert bytes(e.p) != good
    write_entry(f, hdr, e.p)
    # The first open finds the entry not usable: rebuilt from the executable and stored.
    rc, out, err = run(["--json", "info", s.core], cache=cache)
    assert json.loads(out)["dwarf"]["cache"] == "stored", f"a '{case}' index was taken"
    assert read_entry(f)[1] == bytearray(good)
    write_entry(f, hdr, e.p)
    assert _go_answers(s, cache) == want


# ======================================================================
# 2. an executable without its section header table
# ======================================================================

def _cut_exe(src, dst, how):
    data = bytearray(src.read_bytes())
    if how == "cut-432":  # what the fuzzer did: the file ends inside the table
        data = data[:-432]
    elif how == "cut-table":  # the whole table gone, e_shoff past the end
        e_shoff, = struct.unpack_from("<Q", data, 0x28)
        data = data[:e_shoff]
    elif how == "shnum":  # e_shnum larger than the file holds
        struct.pack_into("<H", data, 0x3c, 0xfff0)
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.parametrize("how", ["cut-432", "cut-table", "shnum"])
@pytest.mark.parametrize("which", ["c", "go"])
def test_exe_without_section_headers_is_refused(which, how, tmp_path):
    s = c_uaf() if which == "c" else newest_go("go-uaf")
    exe = _cut_exe(s.exe, tmp_path / "exe", how)
    addrs = [a["addr"] for a in s.truth["addresses"]][:5]
    for args in (["classify", s.core] + addrs, ["triage", s.core]):
        rc, out, err = run(["--exe", exe] + args)
        assert rc == FATAL, (args[0], rc, out[:500], err)
        assert err.startswith(f"coretool: executable {exe}: "), err
        assert "section headers cut off" in err.splitlines()[0], err
        assert "thread-stack" not in out and "allocated" not in out
    # info says it, and what the core holds: partial.
    rc, out, err = run(["--json", "--exe", exe, "info", s.core])
    assert rc == PARTIAL, err
    d = json.loads(out)
    assert "section headers cut off" in d["executable"]["error"]
    assert d["dwarf"] is None and d["go"] is None
    assert d["process"]["pid"] == s.truth["pid"]


# ======================================================================
# 3. glibc heap on real cores
# ======================================================================

FREE_BINS = ("tcache", "fastbin", "small", "large", "unsorted")


def classify_json(core, addrs, env=None, debug_dir=None):
    dd = ["--debug-dir", debug_dir] if debug_dir else []
    rc, out, err = run(dd + ["--json", "classify", core] + addrs, env=env)
    got = jsonl(out)
    assert len(got) == len(addrs), err
    return rc, got, err


def c_samples():
    return [s for s in all_samples() if s.toolchain in ("c", "c-glibc2.41") and s.scenario == "c-uaf"]


@pytest.mark.parametrize("s", c_samples(), ids=repr)
def test_prev_size_word_belongs_to_the_free_neighbour(s):
    """The first word of the chunk after a free one (tcache, fastbin, bins) is
    inside the free chunk's usable size: its verdict, not the next chunk's at -0x10."""
    free = [a for a in s.truth["addresses"] if a.get("region") == "c-heap" and a["state"] == "free"
            and a["detail"].get("bin") in FREE_BINS and not a["detail"].get("mmapped")]
    assert {a["detail"]["bin"] for a in free} >= {"tcache", "fastbin", "small", "large"}
    words = [hex(int(a["detail"]["chunk"], 16) + a["detail"]["chunk_size"]) for a in free]
    rc, got, err = classify_json(s.core, words + [a["addr"] for a in free], debug_dir=s.debug_dir)
    assert rc == OK, err
    for t, g, own in zip(free, got, got[len(free):]):
        d, size = g["detail"], t["detail"]["chunk_size"]
        assert (g["region"], g["state"], d["bin"], d["chunk"]) == \
            ("c-heap", "free", t["detail"]["bin"], t["detail"]["chunk"]), (t["what"], g)
        assert d["offset"] == size - 16 and d["offset"] < d["user_size"], (t["what"], g)
        # The neighbour's own verdict, as for its user pointer.
        assert {k: v for k, v in d.items() if k != "offset"} == \
            {k: v for k, v in own["detail"].items() if k != "offset"}
    # An allocated neighbour keeps its word, as before.
    live = next(a for a in s.truth["addresses"] if a.get("what") == "live-24")
    word = hex(int(live["detail"]["chunk"], 16) + live["detail"]["chunk_size"])
    rc, (g,), _ = classify_json(s.core, [word], debug_dir=s.debug_dir)
    assert (g["state"], g["detail"]["chunk"], g["detail"]["offset"]) == \
        ("allocated", live["detail"]["chunk"], live["detail"]["chunk_size"] - 16)


def _thread_chunk(s):
    """The chunk a C pthread malloc'd in its thread arena (the maps sample records it)."""
    t = next(a for a in s.truth["addresses"] if a.get("detail", {}).get("arena") == "thread"
             and a["state"] == "allocated")
    rc, (g,), err = classify_json(s.core, [t["addr"]])
    assert rc == OK and g["detail"]["main_arena"] is False, (g, err)
    return g["detail"]


def test_prev_size_word_in_a_thread_arena():
    """A thread arena's tcache chunk: the next chunk's prev_size is the tcache chunk's
    (no sample has a thread-arena chunk in a small/large bin: see the mutated core below)."""
    s = newest_go("maps")
    x = _thread_chunk(s)
    n = int(x["chunk"], 16) + x["size"]
    rc, (nv,), _ = classify_json(s.core, [hex(n + 16)])
    assert (nv["state"], nv["detail"]["bin"], nv["detail"]["main_arena"]) == ("free", "tcache", False), nv
    word = int(nv["detail"]["chunk"], 16) + nv["detail"]["size"]
    rc, (g,), err = classify_json(s.core, [hex(word)])
    assert rc == OK, err
    assert (g["state"], g["detail"]["bin"], g["detail"]["chunk"], g["detail"]["offset"]) == \
        ("free", "tcache", nv["detail"]["chunk"], nv["detail"]["size"] - 16), g


def _free_into_unsorted(s, tmp_path, clear_bit=True, list_it=True, free_next=True):
    """A copy of the core where the thread arena's allocated chunk X was freed into its
    arena's unsorted bin as glibc's _int_free does: set_head(X, size | PREV_INUSE)
    (no NON_MAIN_ARENA), fd = bk = the bin, bins[0] = bins[1] = X, and the next
    chunk's prev_size = size, PREV_INUSE cleared."""
    x = _thread_chunk(s)
    arena, chunk, size = int(x["arena"], 16), int(x["chunk"], 16), x["size"]
    data = bytearray(s.core.read_bytes())
    segs = load_segments(data)
    head = arena + 0x70 - 0x10  # bin_at(1): bins at 0x70 in malloc_state (glibc 2.27+)
    assert peek(data, segs, arena + 0x70) == head and peek(data, segs, arena + 0x78) == head, \
        "the thread arena's unsorted bin is not empty, or the layout is not 2.27+"
    w = peek(data, segs, chunk + 8)
    assert w & 7 == 5 and w & ~7 == size, f"X's size word 0x{w:x}: in use, NON_MAIN_ARENA"
    nw = peek(data, segs, chunk + size + 8)
    assert nw & 1, "the next chunk says X is in use"
    poke(data, segs, chunk + 8, size | 1 if clear_bit else w)
    if list_it:
        poke(data, segs, chunk + 16, head)
        poke(data, segs, chunk + 24, head)
        poke(data, segs, arena + 0x70, chunk)
        poke(data, segs, arena + 0x78, chunk)
    if free_next:
        poke(data, segs, chunk + size, size)
        poke(data, segs, chunk + size + 8, nw & ~1)
    core = tmp_path / "core"
    core.write_bytes(data)
    return core, x


def test_free_bin_chunk_of_a_thread_arena_has_no_non_main_arena_bit(tmp_path):
    s = newest_go("maps")
    core, x = _free_into_unsorted(s, tmp_path)
    user = int(x["chunk"], 16) + 16
    word = int(x["chunk"], 16) + x["size"]
    rc, got, err = classify_json(core, [hex(user), hex(word)], debug_dir=None)
    assert rc == OK and "NON_MAIN_ARENA" not in err, err
    for g in got:
        d = g["detail"]
        assert (g["state"], d["bin"], d["main_arena"], d["chunk"], d["arena"]) == \
            ("free", "unsorted", False, x["chunk"], x["arena"]), g
    assert got[1]["detail"]["offset"] == x["size"] - 16
    for verb in ("triage", "cgocheck"):
        rc, out, err = run(["--json", "--exe", s.exe, verb, core])
        assert "NON_MAIN_ARENA" not in err, err


def test_in_use_chunk_of_a_thread_arena_without_the_bit_is_damage(tmp_path):
    """The check stays where glibc guarantees the bit: a chunk in use."""
    s = newest_go("maps")
    core, x = _free_into_unsorted(s, tmp_path, list_it=False, free_next=False)
    user = hex(int(x["chunk"], 16) + 16)
    rc, (g,), err = classify_json(core, [user])
    assert rc == PARTIAL, err
    assert f"C heap: chunk {x['chunk']}: in use in a thread arena without the NON_MAIN_ARENA bit" in err
    assert g["state"] == "allocated"


# ======================================================================
# 4. info without the executable; a signal's sender
# ======================================================================

@pytest.mark.parametrize("why", ["missing", "other-program", "sysroot", "stripped", "fifo"])
def test_info_says_what_is_missing(why, tmp_path):
    s = newest_go("go-uaf")
    other = c_uaf().exe
    if why == "stripped":
        subprocess.run(["strip", "-o", tmp_path / "stripped", s.exe], check=True)
    if why == "fifo":
        os.mkfifo(tmp_path / "fifo")
    args = {"missing": ["--exe", tmp_path / "gone"], "other-program": ["--exe", other],
            "sysroot": ["--sysroot", tmp_path], "stripped": ["--exe", tmp_path / "stripped"],
            "fifo": ["--exe", tmp_path / "fifo"]}[why]
    msg = {"missing": f"executable {tmp_path / 'gone'}: No such file or directory",
           "other-program": f"executable {other} does not match the core (build-id differs",
           "sysroot": "(named by the core) not found",
           "stripped": f"executable {tmp_path / 'stripped'} has no DWARF (.debug_info): it was stripped",
           "fifo": f"executable {tmp_path / 'fifo'}: not a regular file"}[why]
    rc, out, err = run(args + ["--json", "info", s.core])
    assert rc == PARTIAL, err
    assert err.startswith("coretool: warning: ") and msg in err.splitlines()[0], err
    d = json.loads(out)
    assert d["process"]["pid"] == s.truth["pid"]
    assert len(d["threads"]) >= 2 and all(t["function"] is None for t in d["threads"])
    assert msg in d["executable"]["error"] and d["missing"] == [d["executable"]["error"]]
    assert d["executable"]["named_by_core"] == str(s.exe)
    # The program's own build IDs, from its notes in the core: what to look for.
    assert d["executable"]["core_build_id"] == build_id(s.exe)
    assert d["executable"]["core_go_build_id"]
    assert any(m["name"] == str(s.exe) for m in d["modules"])
    rc, text, err = run(args + ["info", s.core])
    assert rc == PARTIAL
    assert f"the core's program: build-id {build_id(s.exe)}, Go build ID " in text
    assert f"missing\n  {d['executable']['error']}\n" in text


def test_signal_sender_pid_and_uid():
    """Go re-raises with tgkill (SI_TKILL): the sender, not an address."""
    s = newest_go("go-uaf")
    rc, out, err = run(["--json", "info", s.core])
    assert rc == OK, err
    d = json.loads(out)
    sig = d["signal"]
    assert (sig["name"], sig["code"], sig["code_name"]) == ("SIGABRT", -6, "SI_TKILL")
    assert sig["sender_pid"] == d["process"]["pid"] == s.truth["pid"]
    assert sig["sender_uid"] == d["process"]["uid"]
    assert "addr" not in sig
    rc, text, _ = run(["info", s.core])
    assert (f"signal      SIGABRT (6), code -6 (SI_TKILL), sent by pid {s.truth['pid']} uid "
            f"{d['process']['uid']}  [core's NT_SIGINFO]\n") in text
    # A fault keeps its address.
    c = c_uaf()
    rc, out, _ = run(["--json", "info", c.core])
    sig = json.loads(out)["signal"]
    assert sig["addr"] == c.truth["crash"]["fault_addr"] and "sender_pid" not in sig


# ======================================================================
# 5. an executable of another program
# ======================================================================

def _go_note_changed(exe, dst):
    """The executable with one character of its Go build ID note changed: the GNU
    build ID still matches, the Go build info does not."""
    data = bytearray(exe.read_bytes())
    i = None
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    for k in range(e_phnum):
        p_type, _, off, _, _, filesz, _, align = struct.unpack_from("<IIQQQQQQ", data, e_phoff + k * e_phentsize)
        if p_type != 4:
            continue
        a = 8 if align == 8 else 4
        pos = off
        while pos + 12 <= off + filesz:
            namesz, descsz, typ = struct.unpack_from("<III", data, pos)
            name = bytes(data[pos + 12:pos + 12 + namesz])
            desc = pos + 12 + ((namesz + a - 1) & ~(a - 1))
            if name.rstrip(b"\0") == b"Go" and typ == 4:
                i = desc + 3
            pos = desc + ((descsz + a - 1) & ~(a - 1))
    assert i is not None, "no Go build ID note"
    data[i] = ord("A") if data[i] != ord("A") else ord("B")
    dst.write_bytes(bytes(data))
    dst.chmod(0o755)
    return dst


@pytest.mark.parametrize("case", ["c-core-other-c", "go-core-c-exe", "go-build-id"])
def test_other_program_as_exe_is_refused(case, tmp_path):
    c41 = [s for s in all_samples() if s.toolchain == "c-glibc2.41" and s.scenario == "c-uaf"]
    if case == "c-core-other-c" and not c41:
        pytest.skip("no c-glibc2.41 sample")
    go = newest_go("go-uaf")
    core, exe, why = {
        "c-core-other-c": (c_uaf().core, c41[0].exe if c41 else None, "build-id differs"),
        "go-core-c-exe": (go.core, c_uaf().exe, "build-id differs"),
        "go-build-id": (go.core, _go_note_changed(go.exe, tmp_path / "exe"), "Go build ID differs"),
    }[case]
    if case != "go-build-id":
        assert build_id(exe) != build_id(core.parent / "exe")
    else:
        assert build_id(exe) == build_id(go.exe)
    for args in (["classify", core, "0x8"], ["triage", core], ["bt", core]):
        rc, out, err = run(["--exe", exe] + args)
        assert rc == FATAL, (args[0], rc, out[:300], err)
        assert out == ("" if args[0] != "triage" else f"core:      {core}\nerror:     {err.splitlines()[0][10:]}\n"), out
        line = err.splitlines()[0]
        assert line.startswith(f"coretool: executable {exe} does not match the core ({why}"), line
        assert line.endswith("pass the binary that crashed with --exe"), line
    rc, out, err = run(["--json", "--exe", exe, "triage", core])
    d = json.loads(out)
    assert rc == FATAL and d["kind"] == "format" and "does not match the core" in d["error"]


# ======================================================================
# 6. triage batches under a budget
# ======================================================================

def _batch_cores():
    return [c_uaf(), sample("c", "null-deref"), newest_go("go-uaf")]


def test_triage_batch_core_that_hangs_times_out(tmp_path):
    cores = _batch_cores()
    hang = cores[0].core
    env = {"CORETOOL_TEST_TRIAGE_HANG": str(hang)}
    t0 = time.monotonic()
    rc, out, err = run(["--json", "triage", "--jobs", "2", "--timeout", "2"] + [s.core for s in cores],
                       env=env, timeout=60)
    took = time.monotonic() - t0
    assert took < 30, took
    assert rc == PARTIAL, err
    got = {d["core"]: d for d in jsonl(out)}
    assert set(got) == {str(s.core) for s in cores}
    assert got[str(hang)] == {"core": str(hang), "error": "timed out after 2 s", "kind": "timeout"}
    for s in cores[1:]:
        assert got[str(s.core)]["class"] == s.truth["crash"]["class"], got[str(s.core)]
    assert f"coretool: {hang}: timed out after 2 s" in err
    # Text mode: a line saying so, and the summary counts it as an error.
    rc, out, err = run(["triage", "--summary", "--timeout", "1"] + [s.core for s in cores],
                       env=env, timeout=60)
    assert rc == PARTIAL
    assert f"core:      {hang}\nerror:     timed out after 1 s\n" in out
    assert re.search(r"\n\s+1  \(error\)\s+error\s+e\.g\. " + re.escape(str(hang)) +
                     r"\n\s+timed out after 1 s\n", out), out


def test_triage_single_core_with_a_timeout():
    s = c_uaf()
    env = {"CORETOOL_TEST_TRIAGE_HANG": str(s.core)}
    rc, out, err = run(["--json", "triage", "--timeout", "1", s.core], env=env, timeout=30)
    assert rc == FATAL
    assert jsonl(out) == [{"core": str(s.core), "error": "timed out after 1 s", "kind": "timeout"}]
    # Without the hook, the same report as in this process.
    rc1, out1, _ = run(["--json", "triage", "--timeout", "60", s.core])
    rc0, out0, _ = run(["--json", "triage", s.core])
    assert (rc1, out1) == (rc0, out0)


def test_triage_memory_budget(tmp_path):
    if sanitized():
        pytest.skip("the memory budget is not applied under ASan (its shadow memory)")
    cores = _batch_cores()
    eat = cores[2].core
    env = {"CORETOOL_TEST_TRIAGE_EAT": str(eat)}
    rc, out, err = run(["--json", "triage", "--jobs", "2", "--max-mem", "200"] + [s.core for s in cores],
                       env=env, timeout=120)
    assert rc == PARTIAL, err
    got = {d["core"]: d for d in jsonl(out)}
    assert got[str(eat)] == {"core": str(eat), "kind": "memory",
                             "error": "out of memory: over the memory budget of 200 MB per core (--max-mem)"}
    for s in cores[:2]:
        assert got[str(s.core)]["class"] == s.truth["crash"]["class"]
    # No budget: the same core is analysed whole.
    rc, out, err = run(["--json", "triage", "--max-mem", "0", eat], env=env, timeout=120)
    assert rc in (OK, PARTIAL) and jsonl(out)[0]["class"] == cores[2].truth["crash"]["class"]
