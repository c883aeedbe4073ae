"""The typed heap (issue 18) on the cores of samples/go/heapgraph
(build/samples-heapgraph/<toolchain>/, `bash samples/heapgraph.sh`, part of
`make samples`): `coretool heap --by-type` against the census the program
made, `coretool retain` against the chains whose addresses it took itself,
`coretool goroutines --leaks` against the goroutines it leaked on purpose and
those it left merely waiting on what its globals hold.

The expected values are all in truth.json: loop bounds, unsafe.Sizeof,
unsafe.Pointer addresses, goroutine ids and the wait state runtime.Stack
printed once each goroutine was parked. Two tests need no new verb and check
the truth itself against the core: every recorded goroutine is there and
waiting as the program saw it, every recorded address is the start of an
allocated Go heap object.
"""
import functools
import json
import re
import subprocess
import warnings

import pytest

from conftest import ROOT, run, run_json, run_jsonl

SAMPLES = ROOT / "build" / "samples-heapgraph"
MISSING = "(no build/samples-heapgraph/*/core: run `bash samples/heapgraph.sh`)"
# heap and retain walk the whole heap (about 300000 objects)
TIMEOUT = 600


def toolchains():
    found = sorted(d.name for d in SAMPLES.glob("*") if (d / "core").exists())
    return found or [MISSING]


def sample(tc):
    d = SAMPLES / tc
    for f in ("exe", "core", "truth.json"):
        assert (d / f).exists(), f"{d / f} is missing: run `bash samples/heapgraph.sh` " \
                                 "(part of `make samples`)"
    return d, json.loads((d / "truth.json").read_text())


@functools.lru_cache(maxsize=None)
def coretool(tc, *args):
    """One run per core and question: (rc, JSON, stderr)."""
    d, _ = sample(tc)
    return run_json([args[0], d / "core"] + list(args[1:]), timeout=TIMEOUT)


def addr(s):
    return int(s, 16)


# ---- the truth against what coretool already knows ----

@pytest.mark.parametrize("tc", toolchains())
def test_recorded_goroutines_waiting(tc):
    """Every goroutine the truth names is in the core, waiting, with the wait
    reason runtime.Stack printed for it (so the recorded goids are right)."""
    _, truth = sample(tc)
    rc, gs, err = coretool(tc, "goroutines")
    assert rc == 0, err
    by_id = {g["id"]: g for g in gs}
    errs = []
    for g in truth["leaked"] + truth["waiting"]:
        got = by_id.get(g["goid"])
        if got is None:
            errs.append(f"goroutine {g['goid']} ({g['func']}) not in the core")
        elif got["status"] != "waiting" or got["wait_reason"] != g["state"]:
            errs.append(f"goroutine {g['goid']} ({g['func']}): {got['status']} "
                        f"{got['wait_reason']!r}, the program saw [{g['state']}]")
    assert not errs, "\n".join(errs)
    assert len(truth["leaked"]) == 9 and len(truth["waiting"]) == 5


@pytest.mark.parametrize("tc", toolchains())
def test_recorded_addresses_heap_objects(tc):
    """Each recorded address (one object of each type, every object of every
    chain, what each leaked goroutine blocks on) is the start of an allocated
    object of the Go heap (the leaked sync.Mutex: of its tiny block); what the
    waiting goroutines block on is on the heap too, or a global."""
    d, truth = sample(tc)
    addrs = [t["example"] for t in truth["types"]]
    for c in truth["chains"]:
        addrs += c["objects"] + [c["target"]]
    for g in truth["leaked"]:
        addrs += g["objects"]
    # new(sync.Mutex): 8 bytes without pointers, anywhere in a tiny block
    tiny_ok = [o for g in truth["leaked"] if g["func"] == "main.leakMutex" for o in g["objects"]]
    globals_ok = [o for g in truth["waiting"] for o in g["objects"]]
    addrs += globals_ok
    rc, got, err = run_jsonl(["classify", d / "core", "-"], input="\n".join(addrs) + "\n")
    assert rc == 0, err
    assert len(got) == len(addrs), err
    errs = []
    for a, g in zip(addrs, got):
        assert addr(g["addr"]) == addr(a)
        if a in globals_ok and g["region"] == "image":
            continue
        if (g["region"], g["state"]) != ("go-heap", "allocated"):
            errs.append(f"{a}: {g['region']}/{g['state']} {g['detail']}")
        elif a in tiny_ok and g["detail"].get("tiny"):
            continue
        elif addr(g["detail"]["slot"]["object"]) != addr(a):
            errs.append(f"{a}: inside the object at {g['detail']['slot']['object']}, not its start")
    assert not errs, "\n".join(errs)


# ---- coretool heap --by-type ----

def expected_census(truth):
    """type -> (objects, least bytes): the truth's entries of one type summed
    (the byte slices of three sizes are all []uint8, the two kinds of
    strings all string)."""
    out = {}
    for t in truth["types"]:
        n, b = out.get(t["type"], (0, 0))
        out[t["type"]] = (n + t["objects"], b + t["objects"] * t["size"] * max(t.get("len", 1), 1))
    return out


@pytest.mark.parametrize("tc", toolchains())
def test_heap_by_type(tc):
    """For each type the program made n of: n <= objects <= n + 1% (other
    objects of that type the runtime may hold), at least n * size bytes; a
    census below n is only right if the missing objects are among those the
    census could not type (untyped), all types' shortfalls together.
    The one backing array of main.items: an object of at least 50000 Items."""
    _, truth = sample(tc)
    rc, got, err = coretool(tc, "heap", "--by-type")
    assert rc == 0, err
    census = {t["type"]: t for t in got["by_type"]}
    assert len(census) == len(got["by_type"]), "a type listed twice in by_type"
    untyped = got["untyped"]
    for k in ("objects", "bytes", "reasons"):
        assert k in untyped, f"untyped lacks {k}: {untyped}"
    assert sum(untyped["reasons"].values()) == untyped["objects"], untyped
    # The goroutines' frames are scanned by the runtime's stack maps (every
    # goroutine of the program is parked at a call): words only by exception.
    fr = got["stack_frames"]
    assert fr["by_stack_maps"] >= 50 and fr["as_words"] * 20 <= fr["by_stack_maps"], fr

    errs, short = [], []
    for typ, (n, least) in expected_census(truth).items():
        c = census.get(typ, {"objects": 0, "bytes": 0})
        if typ == "[]main.Item":
            if c["objects"] < 1 or c["bytes"] < least:
                errs.append(f"{typ}: {c['objects']} objects, {c['bytes']} bytes; the program "
                            f"made one backing array of {least} bytes")
            continue
        if c["objects"] < n:
            short.append((typ, n - c["objects"], n))
            continue
        if c["objects"] > n + n // 100:
            errs.append(f"{typ}: {c['objects']} objects, the program made {n} (+1% allowed)")
        if c["bytes"] < least:
            errs.append(f"{typ}: {c['bytes']} bytes, the program's {n} objects are {least}")
    missing = sum(s[1] for s in short)
    if missing > untyped["objects"]:
        errs.append("fewer objects than the program made, more than the census left untyped ("
                    f"{untyped['objects']}: {untyped['reasons']}): " +
                    ", ".join(f"{t}: {n - m} of the {n} made" for t, m, n in short))
    elif short:
        warnings.warn(f"{tc}: objects short of the truth, within untyped "
                      f"({untyped['objects']}): " + ", ".join(f"{t} -{m}" for t, m, _ in short))
    assert not errs, "\n".join(errs)


@pytest.mark.parametrize("tc", toolchains())
def test_heap_unreachable(tc):
    """After its last runtime.GC the program turned the collector off and
    built truth.json (json.MarshalIndent's buffers, dropped once written):
    garbage still allocated in the core, which no root reaches."""
    rc, got, err = coretool(tc, "heap", "--by-type")
    assert rc == 0, err
    un = got["unreachable"]
    assert un["objects"] >= 1 and un["bytes"] >= un["objects"], un
    typed = sum(t["objects"] for t in got["by_type"])
    # the program's own objects alone are some 300000: they are reachable
    assert typed > un["objects"], (typed, un)


# ---- coretool heap --by-type --pprof ----

def go_tool():
    """The go command of the newest toolchain (build/toolchains/list)."""
    lines = (ROOT / "build" / "toolchains" / "list").read_text().split("\n")
    goroot = [ln.split()[1] for ln in lines if ln.strip()][-1]
    return f"{goroot}/bin/go"


def pprof(*args):
    r = subprocess.run([go_tool(), "tool", "pprof"] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


@functools.lru_cache(maxsize=None)
def profile(tc, tmp=ROOT / "build" / "test-pprof"):
    """heap --by-type --pprof on the sample, then the profile as `go tool pprof
    -raw` prints it: the census (JSON) and samples [(objects, bytes, [frame
    names, leaf first])]."""
    tmp.mkdir(parents=True, exist_ok=True)
    f = tmp / f"{tc}.pb.gz"
    f.unlink(missing_ok=True)
    d, _ = sample(tc)
    rc, census, err = run_json(["heap", d / "core", "--by-type", "--pprof", f], timeout=TIMEOUT)
    assert rc == 0, err
    assert f.read_bytes()[:2] == b"\x1f\x8b", "not gzip"
    raw = pprof("-raw", f)
    # pprof shortens names with <...> and then prints the full one in parentheses
    locs = {i: full or name for i, name, full in
            re.findall(r"^\s*(\d+): 0x0 M=1 (.*?) :0:0 s=0(?:\((.*)\))?$", raw, re.M)}
    samples = []
    body = raw.split("Samples:")[1].split("Locations")[0]
    for n, b, stack in re.findall(r"^\s*(\d+)\s+(\d+): ([\d ]+)$", body, re.M):
        samples.append((int(n), int(b), [locs[i] for i in stack.split()]))
    assert samples, raw[:2000]
    return census, samples, f


@pytest.mark.parametrize("tc", toolchains())
def test_pprof_census(tc):
    """The profile holds the census: per type, the objects and bytes of the
    samples whose leaf is that type are the census's, and so within the
    program's own counts for its types; the C heap's chunks too."""
    census, samples, _ = profile(tc)
    _, truth = sample(tc)
    leaf = {}
    for n, b, stack in samples:
        o, y = leaf.get(stack[0], (0, 0))
        leaf[stack[0]] = (o + n, y + b)
    errs = []
    for t in census["by_type"]:
        if leaf.get(t["type"]) != (t["objects"], t["bytes"]):
            errs.append(f"{t['type']}: profile {leaf.get(t['type'])}, census "
                        f"{(t['objects'], t['bytes'])}")
    for typ, (n, _) in expected_census(truth).items():
        if typ != "[]main.Item" and not n <= leaf.get(typ, (0, 0))[0] <= n + n // 100:
            errs.append(f"{typ}: {leaf.get(typ)} in the profile, the program made {n}")
    chunks = sum(c["chunks"] for c in census["c_heap"])
    got_chunks = sum(n for n, _, st in samples if st[-1] == "[C] glibc heap")
    if got_chunks != chunks:
        errs.append(f"C heap: {got_chunks} chunks in the profile, {chunks} in the census")
    assert not errs, "\n".join(errs)
    assert sum(n for n, _, st in samples if st[0] == "(untyped)") == census["untyped"]["objects"]


@pytest.mark.parametrize("tc", toolchains())
def test_pprof_retention_stacks(tc):
    """Retention paths as stacks: the global chain's target type appears on a
    stack whose root frame is the chain's global, with the chain's types in
    order between (leaf first in pprof); `-top` ranks main.Session (the
    100000 sessions, the largest of the program's types) by its flat count."""
    census, samples, f = profile(tc)
    _, truth = sample(tc)
    for chain in (c for c in truth["chains"] if c["root"]["kind"] == "global"):
        want = list(reversed(chain["types"]))
        found = [st for _, _, st in samples
                 if st[-1] == chain["root"]["name"] and st[0] == want[0]
                 and subsequence(want, st)]
        assert found, (f"no stack {want} ... {chain['root']['name']}: stacks ending there: " +
                       str([st for _, _, st in samples if st[-1] == chain["root"]["name"]][:5]))
    top = pprof("-top", "-sample_index=inuse_objects", "-nodecount=200", f)
    n = next(t["objects"] for t in census["by_type"] if t["type"] == "main.Session")
    assert re.search(rf"^\s*{n}\s+[\d.]+%.*\smain\.Session$", top, re.M), top[:3000]


@pytest.mark.parametrize("tc", toolchains())
def test_pprof_deep_chain_keeps_its_root(tc):
    """A chain deeper than a stack may be (main.head's list of 30000 nodes, each
    reached only from the one before): every node's stack still ends at the
    list's global, cut in the middle with "(more holders)" and at most 64 frames."""
    _, samples, _ = profile(tc)
    _, truth = sample(tc)
    want = next(t["objects"] for t in truth["types"] if t["type"] == "main.Node")
    nodes = [(n, st) for n, _, st in samples if st[0] == "main.Node"]
    at_head = sum(n for n, st in nodes if st[-1] == "main.head")
    # the first node is also held by every main.items[i].tag: it may be found from there
    assert want - 1 <= at_head <= want, (at_head, want, sorted({st[-1] for _, st in nodes}))
    assert all(len(st) <= 64 for _, st in nodes), max(len(st) for _, st in nodes)
    cut = [st for _, st in nodes if "(more holders)" in st]
    assert cut and all(st[-2] == "main.Node" and st[-3] == "main.Node" for st in cut), cut[:1]


def test_pprof_needs_by_type():
    d = next(iter(SAMPLES.glob("*/core")), None)
    rc, _, err = run(["heap", d or "core", "--pprof", "/dev/null"])
    assert rc == 64 and "--by-type" in err, err


# ---- coretool retain ----

def chain_cases():
    out = []
    for tc in toolchains():
        if tc == MISSING:
            return [pytest.param(tc, "global", id=tc)]
        for c in sample(tc)[1]["chains"]:
            out.append(pytest.param(tc, c["name"], id=f"{tc}-{c['name']}"))
    return out


def root_matches(root, want):
    if root.get("kind") != want["kind"]:
        return False
    if want["kind"] == "global":
        return root.get("name") == want["name"]
    if want["kind"] == "finalizer":  # the record of runtime.SetFinalizer
        return root.get("name") == "finalizer"
    return root.get("goid") == want["goid"] and root.get("func", want["func"]) == want["func"]


def subsequence(want, have):
    it = iter(have)
    return all(any(w == h for h in it) for w in want)


@pytest.mark.parametrize("tc,name", chain_cases())
def test_retain_chain(tc, name):
    """retain of each chain's target: the object is the target (its start, its
    type), and some path starts at the chain's root (the global, or the
    goroutine whose local holds it) and passes through the recorded objects in
    order, each with the type the program gave it."""
    _, truth = sample(tc)
    chain = next(c for c in truth["chains"] if c["name"] == name)
    rc, got, err = coretool(tc, "retain", chain["target"])
    assert rc == 0, err
    assert addr(got["addr"]) == addr(chain["target"]), got["addr"]
    obj = got["object"]
    assert addr(obj["addr"]) == addr(chain["target"]), obj
    # A chain from a goroutine's local may stay untyped: the frame's pointer is
    # found by scanning the stack as words where the optimized code's DWARF
    # gives the variable no location at the park (the census counts such
    # objects as untyped, with the reason). From a global, types are known.
    may_be_untyped = chain["root"]["kind"] == "goroutine"
    assert obj["type"] == chain["types"][-1] or (may_be_untyped and not obj["type"]), obj
    assert got["paths"], f"no path to {chain['target']}"
    want = [addr(a) for a in chain["objects"]]
    types = {addr(a): t for a, t in zip(chain["objects"], chain["types"])}
    tried = []
    for p in got["paths"]:
        objs = [addr(s["object"]) for s in p["steps"]]
        if not objs or objs[-1] != addr(chain["target"]):
            objs.append(addr(chain["target"]))  # steps may stop before the target itself
        if root_matches(p["root"], chain["root"]) and subsequence(want, objs):
            bad = [f"{s['object']}: {s['type']}, the program's {types[addr(s['object'])]}"
                   for s in p["steps"] if types.get(addr(s["object"]), s["type"]) != s["type"]
                   and not (may_be_untyped and not s["type"])]
            assert not bad, "\n".join(bad)
            return
        tried.append(p.get("text") or json.dumps(p))
    pytest.fail(f"no path from {chain['root']} through {chain['objects']}; paths:\n" +
                "\n".join(tried))


def retained_cases():
    out = []
    for tc in toolchains():
        if tc == MISSING:
            return [pytest.param(tc, "global", id=tc)]
        for c in sample(tc)[1]["chains"]:
            if c["root"]["kind"] == "global":
                out.append(pytest.param(tc, c["name"], id=f"{tc}-{c['name']}"))
    return out


@pytest.mark.parametrize("tc,name", retained_cases())
def test_retained_size(tc, name):
    """retain --retained of a chain's first object (main.chainRoot's A; the
    Holder of holders["k42"]): the program's chain below it is all it keeps
    alive and nothing else holds those objects (A → B → C → payload; Holder →
    Leaf; the Holder's name string is the map's key too), so it retains
    exactly the chain's objects, their bytes the slot sizes the heap gives."""
    d, truth = sample(tc)
    chain = next(c for c in truth["chains"] if c["name"] == name)
    rc, got, err = coretool(tc, "retain", chain["objects"][0], "--retained", "--paths", "1")
    assert rc == 0, err
    rc, cls, err = run_jsonl(["classify", d / "core"] + chain["objects"])
    assert rc == 0, err
    sizes = [c["detail"]["span"]["elemsize"] for c in cls]
    assert got["object"]["retained"] == {"objects": len(chain["objects"]), "bytes": sum(sizes)}, \
        (got["object"], chain["objects"], sizes)


@pytest.mark.parametrize("tc", toolchains())
def test_stack_object_scanned_by_its_pointer_mask(tc):
    """holdDecoy's f is a stack object (address-taken, not escaping): a uintptr
    word with the address of a Decoy nothing else holds, then a pointer word.
    The GC scans a stack object by its type's pointer mask, so the uintptr
    keeps nothing alive: the Decoy (made after the last collection, still
    allocated) is not reached, and retain gives it no path."""
    d, truth = sample(tc)
    a = truth["stack_decoy"]
    rc, cls, err = run_jsonl(["classify", d / "core", a])
    assert rc == 0, err
    assert (cls[0]["region"], cls[0]["state"]) == ("go-heap", "allocated"), cls
    assert addr(cls[0]["detail"]["slot"]["object"]) == addr(a), cls
    rc, got, err = coretool(tc, "retain", a)
    assert rc == 0, err
    assert got["object"]["reached"] is False and got["paths"] == [], got


@pytest.mark.parametrize("tc", toolchains())
def test_crashing_goroutine_found_from_its_signal_frame(tc):
    """The program panics in main.main. It is built without cgo, so the
    thread's walk stops at the signal frame of the SIGABRT Go's crash raises
    (Go's own sigreturn has no CFI): the goroutine's frames are found from the
    registers the kernel saved there, its own frame main.main."""
    _, truth = sample(tc)
    rc, gs, err = coretool(tc, "goroutines")
    assert rc == 0, err
    g = {x["id"]: x for x in gs}[truth["main_goid"]]
    assert g["status"] == "running" and g["frame"]["function"] == "main.main", g


# ---- coretool goroutines --leaks ----

@pytest.mark.parametrize("tc", toolchains())
def test_goroutine_leaks(tc):
    """Every goroutine the program leaked (blocked on what only it holds, or on
    a nil channel) is said leaked, with its wait reason; none of those waiting
    on what a global (or the timer heap) reaches is."""
    _, truth = sample(tc)
    rc, got, err = coretool(tc, "goroutines", "--leaks")
    assert rc == 0, err
    leaked = {g["goid"]: g for g in got["leaked"]}
    assert "groups" in got, sorted(got)
    errs = []
    for g in truth["leaked"]:
        if g["goid"] not in leaked:
            errs.append(f"goroutine {g['goid']} ({g['func']}, {g['blocks_on']}) leaked, not said")
        elif leaked[g["goid"]]["wait_reason"] != g["state"]:
            errs.append(f"goroutine {g['goid']}: wait reason {leaked[g['goid']]['wait_reason']!r}, "
                        f"the program saw [{g['state']}]")
    for g in truth["waiting"]:
        if g["goid"] in leaked:
            errs.append(f"goroutine {g['goid']} ({g['func']}, {g['blocks_on']}) said leaked, "
                        f"but {g['reachable_from']} reaches it")
    assert not errs, "\n".join(errs)
