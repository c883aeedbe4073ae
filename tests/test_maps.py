"""Go maps: `coretool maps` and `coretool map` against what the sample programs
recorded about their own maps (truth.json "maps"), for every toolchain; then
damaged maps (a copied core with header/bucket/group bytes edited) that must
give a partial dump, a health line saying what is wrong, exit status 1, and
bounded time.

Expected values come from truth.json only. Where a corruption test has to find
bytes to edit, it locates them in the core's memory by the values the truth
recorded (the header address, B, dirLen, the bucket/directory pointers), and
checks that the bytes are what the truth says before editing them.
"""
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run, run_json, samples_where

sys.path.insert(0, str(ROOT / "gdbext" / "coretool_gdb"))
import libct  # noqa: E402  (the library's API, for reading slice elements)

PARTIAL, FATAL, USAGE = 1, 2, 64

MAP_SAMPLES = samples_where(lambda s: s.is_go and s.truth.get("maps"))
MAPS_SCENARIO = [s for s in MAP_SAMPLES if s.scenario == "maps"]
CLASSIC = [s for s in MAPS_SCENARIO if s.truth["map_impl"] == "classic"]
SWISS = [s for s in MAPS_SCENARIO if s.truth["map_impl"] == "swiss"]
MAP_CASES = [(s, m["name"]) for s in MAP_SAMPLES for m in s.truth["maps"]]


def ids(samples):
    return [repr(s) for s in samples]


def truth_map(smp, name):
    for m in smp.truth["maps"]:
        if m["name"] == name:
            return m
    raise KeyError(name)


def map_type(t):
    """The map's DWARF type name: the truth's reflect name for a named type
    (main.Header), else map[K]V (nested truth maps do not record it)."""
    return t.get("type") or f"map[{t['key_type']}]{t['elem_type']}"


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def is_truth_map(v):
    return isinstance(v, dict) and {"addr", "key_type", "elem_type", "count", "entries"} <= set(v)


def to_coretool_form(v):
    """The truth renders a nested map in full ({addr, key_type, elem_type, count,
    entries}); coretool renders it as {map, count} and dumps it on its own
    (checked in test_nested_maps_by_address)."""
    if is_truth_map(v):
        return {"map": v["addr"], "count": v["count"]}
    if isinstance(v, dict):
        return {k: to_coretool_form(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_coretool_form(x) for x in v]
    return v


def entry_multiset(entries):
    return sorted(canon(e) for e in entries)


def nested_truth_maps(v):
    if is_truth_map(v):
        yield v
        for e in v["entries"]:
            yield from nested_truth_maps(e["value"])
    elif isinstance(v, dict):
        for x in v.values():
            yield from nested_truth_maps(x)
    elif isinstance(v, list):
        for x in v:
            yield from nested_truth_maps(x)


# ---------------------------------------------------------------- maps

@pytest.mark.parametrize("smp", MAP_SAMPLES, ids=ids(MAP_SAMPLES))
def test_maps_finds_every_recorded_map(smp):
    check_maps_found(smp)


def check_maps_found(smp):
    """maps finds every map smp recorded, as recorded (also for gdb's cores:
    test_gcore.py); returns coretool's maps by path."""
    rc, out, err = run_json(["maps", smp.core, "--exe", smp.exe, "main.*"])
    assert rc == 0, err
    found = {m["path"]: m for m in out["maps"]}
    impl = smp.truth["map_impl"]
    for t in smp.truth["maps"]:
        assert t["name"] in found, f"{t['name']} not found; found {sorted(found)}"
        m = found[t["name"]]
        assert m["impl"] == impl
        assert m["key_type"] == t["key_type"]
        assert m["elem_type"] == t["elem_type"]
        if "type" in t:
            assert m["type"] == t["type"]
        if t.get("nil"):
            assert m["nil"] and m["addr"] == "0x0"
            continue
        assert m["addr"] == t["addr"]
        assert m["count"] == t["count"]
        assert m["health"]["ok"], m["health"]
        assert m["health"]["live"] == t["count"]
        inn = t.get("internals", {})
        if impl == "classic":
            for k in ("B", "buckets", "oldbuckets", "nevacuate", "noverflow"):
                if k in inn:
                    assert m[k] == inn[k], k
            if t.get("growing") is not None:
                assert m["growing"] == t["growing"]
        else:
            assert m["dir_len"] == inn["dir_len"]
            assert m["dir_ptr"] == inn["dir_ptr"]
            assert m["global_depth"] == inn["global_depth"]
            if inn.get("tables"):
                assert m["tables"] == len(inn["tables"])
    return found


@pytest.mark.parametrize("smp", MAPS_SCENARIO, ids=ids(MAPS_SCENARIO))
def test_maps_text_and_pattern(smp):
    rc, out, err = run(["maps", smp.core, "--exe", smp.exe, "main.*Map"])
    assert rc == 0, err
    lines = out.splitlines()
    names = {l.split()[0] for l in lines}
    expect = {t["name"] for t in smp.truth["maps"] if t["name"].endswith("Map")}
    assert expect <= names
    assert "main.cfg.byName" not in names
    for l in lines:
        if l.startswith("main.nilMap "):
            assert l.rstrip().endswith("nil")
        elif l.startswith("main.bigIntMap "):
            assert "count 3000" in l and "health ok" in l


# ---------------------------------------------------------------- map dumps

@pytest.mark.parametrize("smp,name", MAP_CASES,
                         ids=[f"{s!r}-{n}" for s, n in MAP_CASES])
def test_map_dump_matches_truth(smp, name):
    check_map_dump(smp, name)


def check_map_dump(smp, name):
    """map NAME's entries are the recorded ones (also for gdb's cores: test_gcore.py);
    returns them as a sorted list of canonical JSON."""
    t = truth_map(smp, name)
    # concurrent-map-writes: the crash is one writer seeing another's write; the other
    # writers run on until the process stops, so one may be inside a write in the core
    # (writing = 1, said as a partial answer) or not, as the run went. Its entries
    # (k -> k, over and over) stay the recorded ones either way.
    racing = smp.scenario == "concurrent-map-writes"

    def ok(rc, err):
        return rc == 0 or (racing and rc == 1 and "writing = 1" in err)
    rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, name])
    assert ok(rc, err), err
    assert out["count"] == t["count"]
    assert out["nil"] == bool(t.get("nil"))
    assert out["impl"] == smp.truth["map_impl"]
    got = entry_multiset(slice_values(t, out["entries"]))
    want = entry_multiset(slice_values(t, to_coretool_form(t["entries"])))
    assert len(got) == len(want) == t["count"]
    assert got == want
    h = out["health"]
    assert (h["ok"] or rc == 1) and h["count_matches"] and h["complete"], h
    if t.get("nil"):
        return got
    # The same map named by address and type.
    spec = f"{t['addr']}:{map_type(t)}"
    rc, out2, err = run_json(["map", smp.core, "--exe", smp.exe, spec])
    assert ok(rc, err), err
    assert entry_multiset(slice_values(t, out2["entries"])) == got
    return got


def slice_values(t, entries):
    """coretool renders a slice value as {len, cap, ptr}, the truth as its
    elements: compare their lengths here (test_named_map_type reads the
    elements through the pointers)."""
    if not t["elem_type"].startswith("[]"):
        return entries
    return [{"key": e["key"], "value": len(e["value"]) if isinstance(e["value"], list)
             else e["value"]["len"]} for e in entries]


@pytest.mark.parametrize("smp", MAPS_SCENARIO, ids=ids(MAPS_SCENARIO))
def test_nested_maps_by_address(smp):
    outer = truth_map(smp, "main.nestedMap")
    inner = [m for e in outer["entries"] for m in nested_truth_maps(e["value"])]
    assert inner, "the sample records nested maps"
    for m in inner:
        spec = f"{m['addr']}:map[{m['key_type']}]{m['elem_type']}"
        rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, spec])
        assert rc == 0, err
        assert out["count"] == m["count"]
        assert entry_multiset(out["entries"]) == entry_multiset(to_coretool_form(m["entries"]))


@pytest.mark.parametrize("smp", MAPS_SCENARIO, ids=ids(MAPS_SCENARIO))
def test_nested_maps_by_path(smp):
    """Maps held only as values of another map are listed by `maps` as
    outer["key"] and dumped by that path."""
    outer = truth_map(smp, "main.nestedMap")
    rc, out, err = run_json(["maps", smp.core, "--exe", smp.exe, "main.nestedMap*"])
    assert rc == 0, err
    found = {m["path"]: m for m in out["maps"]}
    inner = [(e["key"], e["value"]) for e in outer["entries"] if is_truth_map(e["value"])]
    assert len(inner) == outer["count"] == 4
    for key, m in inner:
        path = f'main.nestedMap["{key}"]'  # the sample's keys need no escaping
        assert path in found, sorted(found)
        assert found[path]["addr"] == m["addr"] and found[path]["count"] == m["count"]
        assert found[path]["health"]["ok"]
        rc, dump, err = run_json(["map", smp.core, "--exe", smp.exe, path])
        assert rc == 0, err
        assert entry_multiset(dump["entries"]) == entry_multiset(to_coretool_form(m["entries"]))
    assert len(found) == 1 + len(inner)


@pytest.mark.parametrize("smp", MAPS_SCENARIO, ids=ids(MAPS_SCENARIO))
def test_map_text(smp):
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, "main.smallMap"])
    assert rc == 0, err
    t = truth_map(smp, "main.smallMap")
    for e in t["entries"]:
        assert f'  "{e["key"]}": {e["value"]}\n' in out
    assert f"= {t['count']} live slots found" in out
    assert "health: ok" in out
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, "main.nilMap"])
    assert rc == 0 and " nil" in out.splitlines()[0]


@pytest.mark.parametrize("smp", MAPS_SCENARIO, ids=ids(MAPS_SCENARIO))
def test_map_limit_still_checks_everything(smp):
    rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, "main.bigIntMap", "--limit", "7"])
    assert rc == 0, err
    assert len(out["entries"]) == 7 and out["shown"] == 7 and out["truncated"]
    assert out["health"]["live"] == 3000 and out["health"]["count_matches"]
    want = set(entry_multiset(truth_map(smp, "main.bigIntMap")["entries"]))
    assert set(entry_multiset(out["entries"])) <= want


# ---------------------------------------------------------------- layout

@pytest.mark.parametrize("smp", CLASSIC, ids=ids(CLASSIC))
def test_layout_classic(smp):
    for t in smp.truth["maps"]:
        if t.get("nil") or t["count"] == 0:
            continue
        inn = t["internals"]
        rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, t["name"], "--layout"])
        assert rc == 0, err
        buckets = out["buckets"]
        heads = [b for b in buckets if b["kind"] == "bucket" and b["chain"] == 0]
        assert len(heads) == 2 ** inn["B"]
        assert min(int(b["addr"], 16) for b in heads) == int(inn["buckets"], 16)
        live = sum(s == "live" for b in buckets for s in b["slots"])
        assert live == t["count"]
        old = [b for b in buckets if b["kind"] == "oldbucket" and b["chain"] == 0]
        if t.get("growing"):
            assert len(old) == 2 ** (inn["B"] - 1)
            assert min(int(b["addr"], 16) for b in old) == int(inn["oldbuckets"], 16)
            # evacuated below nevacuate (the runtime evacuates in order from there)
            for b in old:
                if b["index"] < inn["nevacuate"]:
                    assert b["evacuated"], b
            assert out["health"]["growing"]
            if "old_evacuated" in inn:
                # the sample counted evacuated old buckets itself (tophash[0] in 2..4)
                assert sum(bool(b["evacuated"]) for b in old) == inn["old_evacuated"]
        else:
            assert not old


GROWING_CLASSIC = [(s, t) for s in CLASSIC for t in s.truth["maps"]
                   if t.get("growing") and "old_evacuated" in t.get("internals", {})]


@pytest.mark.parametrize("smp,t", GROWING_CLASSIC,
                         ids=[f"{s!r}-{t['name']}" for s, t in GROWING_CLASSIC])
def test_growth_text_counts_old_buckets(smp, t):
    """The growth text says how many old buckets are evacuated by their states
    (as the sample counted them), and nevacuate apart: a write evacuates its own
    key's old bucket, so the two differ."""
    inn = t["internals"]
    want = (f"growing (2x), {inn['old_evacuated']}/{inn['old_buckets']} old buckets evacuated "
            f"(nevacuate {inn['nevacuate']})")
    rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, t["name"]])
    assert rc == 0, err
    assert out["growth"] == want
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, t["name"]])
    assert rc == 0 and f"({want})" in out.splitlines()[0], out
    rc, out, err = run_json(["maps", smp.core, "--exe", smp.exe, t["name"]])
    assert rc == 0 and [m["growth"] for m in out["maps"]] == [want], out


NAMED = [(s, t) for s in MAPS_SCENARIO for t in s.truth["maps"] if t.get("named")]


@pytest.mark.parametrize("smp,t", NAMED, ids=[f"{s!r}-{t['name']}" for s, t in NAMED])
def test_named_map_type(smp, t):
    """A named map type (type Header map[string][]string) is a map by its DWARF
    Go kind: listed, dumped by name and by ADDR:main.Header, under its own name."""
    assert t["type"] == "main.Header"
    rc, out, err = run_json(["maps", smp.core, "--exe", smp.exe, t["name"]])
    assert rc == 0, err
    [m] = out["maps"]
    assert (m["type"], m["count"], m["health"]["ok"]) == (t["type"], t["count"], True)
    for spec in (t["name"], f"{t['addr']}:{t['type']}"):
        rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, spec])
        assert rc == 0, err
        assert out["type"] == t["type"]
        assert entry_multiset(slice_values(t, out["entries"])) == \
            entry_multiset(slice_values(t, t["entries"]))
    # the []string values' elements, read through each slice's pointer
    want = {e["key"]: e["value"] for e in t["entries"]}
    h = libct.Handle.open_core(str(smp.core), str(smp.exe), None)
    try:
        for e in out["entries"]:
            v = e["value"]
            got = [json.loads(h.render("string", int(v["ptr"], 16) + 16 * i, json=True)[1])
                   for i in range(v["len"])]
            assert got == want[e["key"]], e
    finally:
        h.close()
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, f"{t['addr']}:main.structKey"])
    assert rc != 0 and "is not a Go map" in err


ZERO_SIZED = [(s, n) for s in MAPS_SCENARIO for n in ("main.zeroKeyMap", "main.zeroValMap")
              if any(t["name"] == n for t in s.truth["maps"])]


@pytest.mark.parametrize("smp,name", ZERO_SIZED, ids=[f"{s!r}-{n}" for s, n in ZERO_SIZED])
def test_zero_sized_slots(smp, name):
    """map[struct{}]int and map[int]struct{}: every entry, on both implementations
    (the dump is also in test_map_dump_matches_truth; here the layout too)."""
    t = truth_map(smp, name)
    rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, name, "--layout"])
    assert rc == 0, err
    assert out["health"]["ok"] and out["health"]["live"] == t["count"], out["health"]
    units = out.get("buckets") or out.get("groups") or [
        g for tb in out.get("tables", []) for g in tb["groups"]]
    live = sum(s in ("live", "full") for u in units for s in u["slots"])
    assert live == t["count"]


@pytest.mark.parametrize("smp", SWISS, ids=ids(SWISS))
def test_layout_swiss(smp):
    for t in smp.truth["maps"]:
        if t.get("nil") or t["count"] == 0:
            continue
        inn = t["internals"]
        rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, t["name"], "--layout"])
        assert rc == 0, err
        if inn["dir_len"] == 0:
            [g] = out["groups"]
            assert g["addr"] == inn["dir_ptr"]
            assert sum(s == "full" for s in g["slots"]) == t["count"]
            continue
        got = {x["addr"]: x for x in out["tables"]}
        assert len(got) == len(inn["tables"])
        for tt in inn["tables"]:
            x = got[tt["addr"]]
            for k in ("capacity", "index", "local_depth", "used"):
                assert x[k] == tt[k], (tt, k)
            assert x["full"] == tt["used"]
            assert x["ngroups"] == tt["capacity"] // 8 == len(x["groups"])
            assert x["full"] + x["deleted"] + x["empty"] == tt["capacity"]


@pytest.mark.parametrize("smp", SWISS, ids=ids(SWISS))
def test_swiss_tombstones_are_not_entries(smp):
    t = truth_map(smp, "main.tombMap")  # 100 inserted, 40 deleted
    rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, "main.tombMap", "--layout"])
    assert rc == 0, err
    full = sum(s == "full" for tb in out["tables"] for g in tb["groups"] for s in g["slots"])
    assert full == t["count"] == 60
    assert out["health"]["tombstones"] == sum(tb["deleted"] for tb in out["tables"])


# ---------------------------------------------------------------- bad usage

def test_map_usage_errors():
    smp = MAPS_SCENARIO[0]
    assert run(["map", smp.core, "--exe", smp.exe])[0] == USAGE
    assert run(["map", smp.core, "--exe", smp.exe, "main.smallMap", "--limit", "x"])[0] == USAGE
    assert run(["map", smp.core, "--exe", smp.exe, "main.smallMap", "--bogus"])[0] == USAGE
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, "main.noSuchMap"])
    assert rc == FATAL and "no map main.noSuchMap" in err
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, "0x1000:map[nosuch]type"])
    assert rc == FATAL and "no type" in err
    rc, out, err = run(["map", smp.core, "--exe", smp.exe, "0x1000:int"])
    assert rc == USAGE and "not a Go map" in err
    rc, out, err = run(["map", "--help"])
    assert rc == 0 and "--layout" in out and "Exit status" in out
    rc, out, err = run(["maps", "--help"])
    assert rc == 0 and "PATTERN" in out


# ---------------------------------------------------------------- damaged maps

class CoreFile:
    """A writable copy of a core, with virtual addresses mapped to file offsets
    through its PT_LOAD program headers."""

    def __init__(self, src, dst):
        shutil.copyfile(src, dst)
        self.path = dst
        self.f = open(dst, "r+b")
        hdr = self.f.read(64)
        assert hdr[:4] == b"\x7fELF" and hdr[4] == 2 and hdr[5] == 1
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        self.loads = []
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            p_type, _flags, off, vaddr, _pa, filesz, _memsz, _al = struct.unpack(
                "<IIQQQQQQ", self.f.read(56))
            if p_type == 1:
                self.loads.append((vaddr, filesz, off))

    def offset(self, addr, n):
        for vaddr, filesz, off in self.loads:
            if vaddr <= addr and addr + n <= vaddr + filesz:
                return off + addr - vaddr
        raise AssertionError(f"0x{addr:x} not saved in the core")

    def read(self, addr, n):
        self.f.seek(self.offset(addr, n))
        return self.f.read(n)

    def u64(self, addr):
        return struct.unpack("<Q", self.read(addr, 8))[0]

    def write(self, addr, data):
        self.f.seek(self.offset(addr, len(data)))
        self.f.write(data)
        self.f.flush()


def damaged(smp, tmp_path):
    return CoreFile(smp.core, tmp_path / "core")


def run_damaged(smp, core, args, json_out=True):
    t0 = time.monotonic()
    argv = (["--json"] if json_out else []) + [args[0], core.path] + args[1:] + ["--exe", smp.exe]
    rc, out, err = run(argv, timeout=60)
    assert time.monotonic() - t0 < 20, "a damaged map must be handled in bounded time"
    return rc, (json.loads(out) if json_out and out.strip() else out), err


def assert_partial(rc, err, needle):
    assert rc == PARTIAL, err
    assert "coretool: map" in err and needle in err, err


@pytest.mark.parametrize("smp", CLASSIC, ids=ids(CLASSIC))
def test_damaged_classic_B60(smp, tmp_path):
    t = truth_map(smp, "main.bigIntMap")
    core = damaged(smp, tmp_path)
    h = int(t["addr"], 16)
    assert core.read(h + 9, 1)[0] == t["internals"]["B"]  # hmap.B (docs/go-runtime.md)
    core.write(h + 9, bytes([60]))
    rc, out, err = run_damaged(smp, core, ["map", "main.bigIntMap"])
    assert_partial(rc, err, "B = 60 is impossible")
    assert out["entries"] == [] and not out["health"]["ok"]
    rc, out, err = run_damaged(smp, core, ["maps", "main.bigIntMap"], json_out=False)
    assert rc == PARTIAL and "B = 60 is impossible" in out


@pytest.mark.parametrize("smp", CLASSIC, ids=ids(CLASSIC))
def test_damaged_classic_overflow_loops(smp, tmp_path):
    t = truth_map(smp, "main.bigIntMap")
    core = damaged(smp, tmp_path)
    B = t["internals"]["B"]
    buckets = int(t["internals"]["buckets"], 16)
    nb = 2 ** B
    # Bucket size: the array is 2^B buckets; the word equal to the overflow
    # bucket's address is the overflow field. Find a bucket with an overflow
    # pointer (one outside the array, non-nil) by scanning the buckets' words.
    rc, lay, err = run_json(["map", smp.core, "--exe", smp.exe, "main.bigIntMap", "--layout"])
    size = (int(lay["buckets"][1]["addr"], 16) - buckets) if lay["buckets"][1]["chain"] == 0 \
        else (int(lay["buckets"][2]["addr"], 16) - buckets)
    head = next(b for b in lay["buckets"] if b["chain"] == 0 and b["overflow"] != "0x0")
    ha, ov = int(head["addr"], 16), int(head["overflow"], 16)
    words = [core.u64(ha + i) for i in range(0, size, 8)]
    assert ov not in range(buckets, buckets + nb * size)
    off = 8 * (len(words) - 1 - words[::-1].index(ov))  # the last field
    # The overflow bucket's own overflow pointer now points at itself.
    assert core.u64(ov + off) == 0
    core.write(ov + off, struct.pack("<Q", ov))
    rc, out, err = run_damaged(smp, core, ["map", "main.bigIntMap"])
    assert_partial(rc, err, "loops back")
    # every entry still once: the loop is cut where it closes
    assert entry_multiset(out["entries"]) == entry_multiset(t["entries"])
    # and a head bucket whose overflow points into the bucket array
    core.write(ov + off, struct.pack("<Q", 0))
    core.write(ha + off, struct.pack("<Q", buckets))
    rc, out, err = run_damaged(smp, core, ["map", "main.bigIntMap"])
    assert_partial(rc, err, "points into the bucket array")
    assert out["health"]["live"] < t["count"]


@pytest.mark.parametrize("smp", CLASSIC, ids=ids(CLASSIC))
def test_damaged_classic_wild_buckets(smp, tmp_path):
    t = truth_map(smp, "main.smallMap")
    core = damaged(smp, tmp_path)
    h = int(t["addr"], 16)
    assert core.u64(h + 16) == int(t["internals"]["buckets"], 16)  # hmap.buckets
    core.write(h + 16, struct.pack("<Q", 0x10))
    rc, out, err = run_damaged(smp, core, ["map", "main.smallMap"])
    assert_partial(rc, err, "unmapped")
    assert out["health"]["complete"] is False and "stopped" in out["health"]


@pytest.mark.parametrize("smp", SWISS, ids=ids(SWISS))
def test_damaged_swiss_dirlen(smp, tmp_path):
    t = truth_map(smp, "main.bigIntMap")
    core = damaged(smp, tmp_path)
    h = int(t["addr"], 16)
    assert core.u64(h + 24) == t["internals"]["dir_len"]  # Map.dirLen (docs/go-runtime.md)
    core.write(h + 24, struct.pack("<Q", 1 << 40))
    rc, out, err = run_damaged(smp, core, ["map", "main.bigIntMap"])
    assert_partial(rc, err, "dirLen 1099511627776 is impossible")
    rc, out, err = run_damaged(smp, core, ["maps", "main.bigIntMap"])
    assert rc == PARTIAL
    [m] = out["maps"]
    assert not m["health"]["ok"] and "impossible" in m["health"]["issues"][0]


@pytest.mark.parametrize("smp", SWISS, ids=ids(SWISS))
def test_damaged_swiss_ctrl_bytes(smp, tmp_path):
    t = truth_map(smp, "main.smallMap")
    core = damaged(smp, tmp_path)
    g = int(t["internals"]["dir_ptr"], 16)  # small map: dirPtr is the group
    ctrl = core.read(g, 8)
    assert sum(b < 0x80 for b in ctrl) == t["count"]  # full slots: high bit clear
    core.write(g, bytes([0x81, 0x9a, 0xc3, 0xff] + list(ctrl[4:])))
    rc, out, err = run_damaged(smp, core, ["map", "main.smallMap"])
    assert_partial(rc, err, "ctrl byte 0x81 is impossible")
    issues = " ".join(out["health"]["issues"])
    assert "0x9a" in issues and "live slots found" in issues
    assert not out["health"]["count_matches"]


@pytest.mark.parametrize("smp", SWISS, ids=ids(SWISS))
def test_damaged_swiss_wild_table(smp, tmp_path):
    t = truth_map(smp, "main.bigIntMap")
    core = damaged(smp, tmp_path)
    inn = t["internals"]
    d = int(inn["dir_ptr"], 16)
    t0 = next(x for x in inn["tables"] if x["index"] == 0)
    assert core.u64(d) == int(t0["addr"], 16)
    core.write(d, struct.pack("<Q", 0xdead0000))
    rc, out, err = run_damaged(smp, core, ["map", "main.bigIntMap"])
    assert_partial(rc, err, "0xdead0000")
    # the other tables are still dumped
    assert len(out["entries"]) == t["count"] - t0["used"]
    assert set(entry_multiset(out["entries"])) < set(entry_multiset(t["entries"]))
    assert "stopped" in out["health"]


@pytest.mark.parametrize("smp", SWISS, ids=ids(SWISS))
def test_damaged_swiss_table_capacity(smp, tmp_path):
    t = truth_map(smp, "main.bigIntMap")
    core = damaged(smp, tmp_path)
    tb = next(x for x in t["internals"]["tables"] if x["index"] == 1)
    a = int(tb["addr"], 16)
    assert struct.unpack("<H", core.read(a + 2, 2))[0] == tb["capacity"]  # table.capacity
    core.write(a + 2, struct.pack("<H", 0xffff))
    rc, out, err = run_damaged(smp, core, ["map", "main.bigIntMap"])
    assert_partial(rc, err, "impossible")
    assert len(out["entries"]) == t["count"] - tb["used"]


# ---------------------------------------------------------------- Delve, side by side

DELVE_VERSION = "v1.27.2"
DLV = ROOT / "build" / "dlv" / "dlv"
# Map types whose Delve rendering is plain literals (numbers, quoted strings, bools).
DELVE_TYPES = {("int", "int"), ("string", "int"), ("string", "string"), ("string", "bool"),
               ("int64", "string")}


def delve():
    """build/dlv/dlv, installed with `go install` at a pinned version if missing;
    None (and the reason) if that cannot be done here."""
    if DLV.exists():
        return DLV, None
    gos = sorted(ROOT.glob("build/toolchains/go1.*/bin/go"), reverse=True) + \
        [pathlib.Path(p) for p in (shutil.which("go"),) if p]
    if not gos:
        return None, "no Go toolchain to build Delve with"
    env = dict(os.environ, GOBIN=str(DLV.parent), GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    p = subprocess.run([str(gos[0]), "install", f"github.com/go-delve/delve/cmd/dlv@{DELVE_VERSION}"],
                       capture_output=True, text=True, env=env, timeout=900)
    if p.returncode != 0 or not DLV.exists():
        return None, f"`go install .../dlv@{DELVE_VERSION}` failed: {p.stderr.strip()[-300:]}"
    return DLV, None


def delve_literal(s):
    s = s.strip()
    if s in ("true", "false"):
        return s == "true"
    if s.startswith('"'):
        return json.loads(s)  # Delve quotes like Go's %q; the samples' strings are plain
    return int(s)


def delve_maps(dlv, smp, names, tmp_path):
    init = tmp_path / "init"
    init.write_text("config max-string-len 100000\nconfig max-array-values 100000\n" +
                    "".join(f"print {n}\n" for n in names) + "exit\n")
    p = subprocess.run([str(dlv), "core", str(smp.exe), str(smp.core), "--check-go-version=false",
                        "--init", str(init), "--allow-non-terminal-interactive=true"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    maps, cur = [], None
    for line in p.stdout.splitlines():
        if line.startswith("map[") and line.endswith("["):
            cur = []
        elif line.startswith("map[") and line.endswith("[]"):
            maps.append([])
        elif line == "]" and cur is not None:
            maps.append(cur)
            cur = None
        elif cur is not None and line.startswith("\t"):
            body = line.strip().rstrip(",")
            # split at the ": " that ends the key (keys here are numbers or quoted strings)
            if body.startswith('"'):
                end = json.JSONDecoder().raw_decode(body)[1]
                k, v = body[:end], body[end + 2:]
            else:
                k, v = body.split(": ", 1)
            cur.append({"key": delve_literal(k), "value": delve_literal(v)})
    return maps, p


@pytest.mark.parametrize("smp", MAPS_SCENARIO, ids=ids(MAPS_SCENARIO))
def test_same_entries_as_delve(smp, tmp_path):
    dlv, why = delve()
    if not dlv:
        pytest.skip(f"Delve differential test skipped: {why}")
    names = [m["name"] for m in smp.truth["maps"]
             if not m.get("nil") and m["count"] and (m["key_type"], m["elem_type"]) in DELVE_TYPES]
    got, p = delve_maps(dlv, smp, names, tmp_path)
    if len(got) != len(names):
        pytest.skip(f"Delve {DELVE_VERSION} printed {len(got)} of {len(names)} maps for "
                    f"{smp.truth['go_version']}: {p.stderr.strip()[-300:]}")
    for name, dentries in zip(names, got):
        rc, out, err = run_json(["map", smp.core, "--exe", smp.exe, name])
        assert rc == 0, err
        assert entry_multiset(out["entries"]) == entry_multiset(dentries), name
