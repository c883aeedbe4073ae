"""The glibc heap model (coretool/cheap*.c) on the sample cores.

1. Every address a sample recorded as a C chunk (truth.json, region "c-heap"):
   `coretool --json classify` must give the recorded region, state, bin, arena
   (main/thread), mmapped flag and chunk address, with no libc debug info
   (CORETOOL_CHEAP_NO_DEBUGINFO=1, the production case) and with it.
2. With libc6-dbg installed (scripts/install-libc-dbg.sh), main_arena found by
   the heuristic search equals libc's debug symbol, and the layout table row
   for the core's glibc equals the DWARF of struct malloc_state & co. A probe
   (C, built here against build/libcoretool.a) prints both.
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import CORETOOL, ROOT, all_samples, run_json

NO_DEBUGINFO = {"CORETOOL_CHEAP_NO_DEBUGINFO": "1"}
# No debug info and no version either: layouts, safe-linking, tcache width from the data.
NOTHING_KNOWN = {"CORETOOL_CHEAP_NO_DEBUGINFO": "1", "CORETOOL_CHEAP_GLIBC_VERSION": "0"}
MODES = {"search": NO_DEBUGINFO, "search-noversion": NOTHING_KNOWN, "debuginfo": None}


def c_heap_samples():
    out = []
    for s in all_samples():
        if any(a.get("region") == "c-heap" for a in s.truth.get("addresses", [])):
            out.append(pytest.param(s, id=repr(s)))
    return out


def classify(core, addrs, env=None, debug_dir=None):
    e = dict(os.environ)
    e.update(env or {})
    dd = ["--debug-dir", str(debug_dir)] if debug_dir else []
    p = subprocess.run([str(CORETOOL), "--json"] + dd + ["classify", str(core)] + addrs,
                       capture_output=True, text=True, timeout=300, env=e)
    assert p.returncode in (0, 1), f"rc {p.returncode}: {p.stderr}"
    got = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert len(got) == len(addrs), p.stderr
    return got, p.stderr


def check_chunk(truth, got):
    where = f"{truth['addr']} ({truth.get('what', '')})"
    td, gd = truth.get("detail") or {}, got.get("detail") or {}
    if got["region"] != truth["region"]:
        return [f"{where}: region {got['region']}, expected {truth['region']}; {gd}"]
    errs = []
    if got["state"] != truth["state"]:
        errs.append(f"{where}: state {got['state']}, expected {truth['state']}; {gd}")
    want_bin = td.get("bin") if truth["state"] == "free" else None
    if gd.get("bin") != want_bin:
        errs.append(f"{where}: bin {gd.get('bin')}, expected {want_bin}")
    if "mmapped" in td and gd.get("mmapped") != td["mmapped"]:
        errs.append(f"{where}: mmapped {gd.get('mmapped')}, expected {td['mmapped']}")
    if td.get("arena") in ("main", "thread") and not td.get("mmapped"):
        if gd.get("main_arena") != (td["arena"] == "main"):
            errs.append(f"{where}: main_arena {gd.get('main_arena')}, expected {td['arena']}")
    if td.get("chunk"):
        want, chunk = int(td["chunk"], 16), int(gd.get("chunk") or "0x0", 16)
        if td.get("bin") == "top":
            # The freed chunk merged into top: it must lie inside the top chunk.
            if not chunk <= want < chunk + gd.get("size", 0):
                errs.append(f"{where}: top chunk {gd.get('chunk')} size {gd.get('size')} does "
                            f"not hold {td['chunk']}")
        elif chunk != want:
            errs.append(f"{where}: chunk {gd.get('chunk')}, expected {td['chunk']}")
    return errs


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("heap_sample", c_heap_samples())
def test_c_heap_addresses(heap_sample, mode):
    sample = heap_sample
    truths = [a for a in sample.truth["addresses"] if a.get("region") == "c-heap"]
    got, err = classify(sample.core, [a["addr"] for a in truths], MODES[mode], sample.debug_dir)
    errs = []
    for t, g in zip(truths, got):
        errs += check_chunk(t, g)
    assert not errs, "\n".join(errs) + "\nstderr: " + err


# ---- libc debug info: the heuristic against the symbol, the table against DWARF ----

PROBE_SRC = r'''
#include <inttypes.h>
#include <stdio.h>
#include "cheap_int.h"
#include "target.h"

int main(int argc, char **argv)
{
	struct target *t;
	struct target_options opt = { .debug_dir = argc > 2 ? argv[2] : NULL };
	struct ct_error *err = target_open_core(argv[1], &opt, &t);
	if (err) {
		fprintf(stderr, "%s\n", err->msg);
		return 2;
	}
	struct cheap *c;
	const struct ct_error *e = target_cheap(t, &c);
	if (e) {
		fprintf(stderr, "%s\n", e->msg);
		return 3;
	}
	if ((err = cheap_load(c))) {
		fprintf(stderr, "%s\n", err->msg);
		return 4;
	}
	struct cheap_summary s;
	cheap_summarize(c, &s);
	const struct cheap_layout *L = &c->L, *R = cheap_layout_row(s.glibc_minor);
	printf("{\"main_arena\": \"0x%" PRIx64 "\", \"found_by\": \"%s\", \"layout\": \"%s\", "
	       "\"glibc_minor\": %d, \"narenas\": %zu, \"nheaps\": %zu, \"ntcaches\": %zu, "
	       "\"safe_linking\": %d, \"table_row\": \"%s\", \"layout_diff\": [",
	       s.main_arena, s.found_by, s.layout, s.glibc_minor, s.narenas, s.nheaps,
	       s.ntcaches, s.safe_linking, R ? R->name : "");
	int n = 0;
#define F(x) if (R && (int64_t)L->x != (int64_t)R->x) \
	printf("%s\"%s: %" PRId64 " vs %" PRId64 "\"", n++ ? ", " : "", #x, (int64_t)L->x, (int64_t)R->x);
	F(ms_mutex) F(ms_flags) F(ms_have_fastchunks) F(ms_fastbins) F(nfastbins) F(ms_top)
	F(ms_last_remainder) F(ms_bins) F(nbins) F(ms_binmap) F(ms_next) F(ms_next_free)
	F(ms_attached_threads) F(ms_system_mem) F(ms_max_system_mem) F(ms_size)
	F(hi_ar_ptr) F(hi_prev) F(hi_size) F(hi_mprotect_size) F(hi_sizeof)
	F(tc_bins) F(tc_counts_size) F(tc_entries) F(tc_sizeof)
	printf("], \"problems\": %zu}\n", cheap_problems(c, &(const char *const *){ 0 }));
	target_close(t);
	return 0;
}
'''


def planned_live_sizes(truth):
    """chunk size -> how many chunks the program left allocated at that size
    (its live and guard chunks; a reused one is someone else's allocation)."""
    want = {}
    for a in truth.get("addresses", []):
        d = a.get("detail") or {}
        if a.get("region") == "c-heap" and a.get("state") == "allocated" and not d.get("reused") \
                and d.get("chunk_size"):
            want[d["chunk_size"]] = want.get(d["chunk_size"], 0) + 1
    return want


@pytest.mark.parametrize("heap_sample", [p for p in c_heap_samples()
                                         if p.values[0].is_go and planned_live_sizes(p.values[0].truth)])
def test_census_by_size_counts_the_planned_chunks(heap_sample):
    """`heap --by-type`'s C heap part: every chunk the program left allocated is
    counted under its chunk size (the size word the program read itself), so each
    size counts at least the program's chunks of that size; and a size's bytes are
    its chunks times the size. The process's own other chunks (libc's, cgo's) may add
    to a size, never take from it."""
    s = heap_sample
    want = planned_live_sizes(s.truth)
    rc, got, err = run_json(["heap", "--by-type", s.core], timeout=300)
    assert rc in (0, 1), err
    census = {c["size"]: c for c in got["c_heap"]}
    for size, n in sorted(want.items()):
        assert size in census, f"{s}: no {size}-byte chunks counted; census sizes {sorted(census)}"
        assert census[size]["chunks"] >= n, f"{s}: {size}: {census[size]}, the program left {n}"
    for c in got["c_heap"]:
        assert c["bytes"] == c["chunks"] * c["size"], c
    bytes_ = [c["bytes"] for c in got["c_heap"]]
    assert bytes_ == sorted(bytes_, reverse=True), "not ranked by bytes"


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    lib = ROOT / "build" / "libcoretool.a"
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not lib.exists() or not cc:
        pytest.skip("build/libcoretool.a or a C compiler missing")
    d = tmp_path_factory.mktemp("cheap_probe")
    src, exe = d / "probe.c", d / "probe"
    src.write_text(PROBE_SRC)
    # What linking build/libcoretool.a needs (libdw, libelf, Capstone), as the Makefile says.
    flags = []
    for what in ("print-cflags", "print-libs"):
        flags += subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), what],
                                capture_output=True, text=True, check=True).stdout.split()
    # The include path of the layers below the API, as the Makefile gives it.
    inc = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "print-inc"],
                         capture_output=True, text=True, check=True).stdout.split()
    subprocess.run([cc, "-std=c11", "-g", *inc, str(src), str(lib), *flags, "-o", str(exe)],
                   check=True, cwd=ROOT)
    return exe


def run_probe(probe, sample, env=None):
    e = dict(os.environ)
    e.update(env or {})
    dd = [str(sample.debug_dir)] if sample.debug_dir else []
    p = subprocess.run([str(probe), str(sample.core)] + dd, capture_output=True, text=True,
                       timeout=300, env=e)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def libc_build_ids():
    """Build-ids of the libc.so.6 files the sample cores mapped (as eu-unstrip -n sees)."""
    ids = {}
    for s in c_heap_samples():
        sample = s.values[0]
        p = subprocess.run(["eu-unstrip", "-n", "--core", str(sample.core)],
                           capture_output=True, text=True, timeout=60)
        for line in p.stdout.splitlines():
            f = line.split()
            if len(f) >= 3 and "libc.so" in line:
                ids[f[1].split("@")[0]] = sample
    return ids


@pytest.fixture(scope="session")
def libc_dbg():
    """Makes sure libc's debug file is there for the samples' libc (installs libc6-dbg
    through scripts/install-libc-dbg.sh when missing); skips when it cannot be had."""
    ids = libc_build_ids()
    if not ids:
        pytest.skip("no sample core with a C heap")

    def missing():
        return [i for i, s in ids.items()
                if not any((pathlib.Path(d) / ".build-id" / i[:2] / f"{i[2:]}.debug").exists()
                           for d in ("/usr/lib/debug", s.debug_dir) if d)]

    if missing():
        p = subprocess.run(["bash", str(ROOT / "scripts" / "install-libc-dbg.sh")],
                           capture_output=True, text=True, timeout=900)
        if p.returncode != 0 or missing():
            pytest.skip(f"libc debug info not available for {missing()}: {p.stderr[-500:]}")
    return ids


def test_main_arena_search_matches_debug_symbol(sample, probe, libc_dbg):
    """Every sample (each links libc: the Go ones through cgo)."""
    dbg = run_probe(probe, sample)
    heur = run_probe(probe, sample, NO_DEBUGINFO)
    blind = run_probe(probe, sample, NOTHING_KNOWN)
    assert dbg["found_by"] == "debuginfo", dbg
    assert heur["found_by"] == "search", heur
    assert heur["main_arena"] == dbg["main_arena"], (heur, dbg)
    assert heur["narenas"] == dbg["narenas"] and heur["nheaps"] == dbg["nheaps"], (heur, dbg)
    assert heur["ntcaches"] == dbg["ntcaches"], (heur, dbg)
    # The table row for this glibc says what libc's DWARF says.
    assert dbg["layout"] == "DWARF" and dbg["table_row"], dbg
    assert dbg["layout_diff"] == [], dbg
    assert heur["problems"] == 0 and dbg["problems"] == 0, (heur, dbg)
    # Without the version: same arena, heaps and tcaches; safe-linking told per pointer.
    assert blind["main_arena"] == dbg["main_arena"], (blind, dbg)
    assert (blind["narenas"], blind["nheaps"], blind["ntcaches"]) == \
        (dbg["narenas"], dbg["nheaps"], dbg["ntcaches"]), (blind, dbg)
    assert blind["glibc_minor"] == 0 and blind["safe_linking"] == -1, blind
    assert blind["problems"] == 0, blind


# ---- damaged heaps in real cores: unknown where the data is gone, never a wrong verdict ----

def _phdrs(data):
    import struct
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1:
            out.append((p_vaddr, p_offset, p_filesz))
    return out


def _patch(data, phdrs, addr, value):
    import struct
    for vaddr, off, filesz in phdrs:
        if vaddr <= addr < vaddr + filesz - 8:
            struct.pack_into("<Q", data, off + addr - vaddr, value)
            return
    raise AssertionError(f"0x{addr:x} not in the core")


def c_sample():
    ss = [s for s in all_samples() if s.toolchain == "c" and
          any(a.get("region") == "c-heap" for a in s.truth.get("addresses", []))]
    if not ss:
        pytest.skip("no C sample core")
    return ss[0]


def test_corrupt_size_gives_unknown_not_wrong(tmp_path):
    sample = c_sample()
    truths = [a for a in sample.truth["addresses"]
              if a.get("region") == "c-heap" and not a["detail"].get("mmapped")]
    victim = next(a for a in truths if a["what"].endswith("guard-3"))
    vchunk = int(victim["detail"]["chunk"], 16)
    data = bytearray(sample.core.read_bytes())
    _patch(data, _phdrs(data), vchunk + 8, 0x4141414141414141)
    core = tmp_path / "core"
    core.write_bytes(data)
    got, err = classify(core, [a["addr"] for a in truths], NO_DEBUGINFO)
    assert "walk stopped" in err, err
    unknown = 0
    for t, g in zip(truths, got):
        assert g["region"] == "c-heap", (t, g)
        if int(t["detail"]["chunk"], 16) == vchunk:
            assert g["state"] == "unknown", (t, g)
        if g["state"] == "unknown":
            unknown += 1
            continue
        errs = check_chunk(t, g)
        assert not errs, errs
    assert 1 <= unknown < len(truths)


def test_random_heap_damage_is_bounded(tmp_path):
    import random
    sample = c_sample()
    truths = [a for a in sample.truth["addresses"] if a.get("region") == "c-heap"]
    chunks = sorted(int(a["detail"]["chunk"], 16) for a in truths
                    if not a["detail"].get("mmapped"))
    lo, hi = chunks[0] - 0x1000, chunks[-1] + 0x1000
    base = bytearray(sample.core.read_bytes())
    ph = _phdrs(base)
    rnd = random.Random(7)
    for it in range(40):
        data = bytearray(base)
        for _ in range(rnd.randrange(1, 40)):
            a = rnd.randrange(lo, hi) & ~7
            v = rnd.choice([rnd.getrandbits(64), rnd.randrange(lo, hi), 0, 0x21, a])
            try:
                _patch(data, ph, a, v)
            except AssertionError:
                pass
        core = tmp_path / f"core{it}"
        core.write_bytes(data)
        got, err = classify(core, [a["addr"] for a in truths], NO_DEBUGINFO)
        wrong = []
        for t, g in zip(truths, got):
            assert g["region"] in ("c-heap", "mapped", "unmapped"), g
            if g["region"] == "c-heap" and g["state"] != "unknown":
                wrong += check_chunk(t, g)
        # Damage may hide a chunk's state, but never silently: a verdict that
        # contradicts the truth comes with the damage reported on stderr.
        assert not wrong or "C heap:" in err, wrong
        core.unlink()
