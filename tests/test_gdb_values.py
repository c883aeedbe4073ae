"""gdb printers for Go values in Go's runtime-gdb.py format, on the cores of
samples/go/gdbvalues (build/samples-gdbvalues{,-gcore}/<toolchain>/: the
kernel's core and gdb's gcore, every toolchain) and on the live program:
slices, strings, channels (partly full, wrapped around, closed, nil,
unbuffered with a blocked sender, one with a blocked receiver, struct and
zero-size elements), interfaces (eface and iface holding a
pointer, a struct, an int, a string; nil), in globals and in the locals of a
parked goroutine; `$len`, `$cap`, `$dtype` (also of maps: classic, Swiss, a
named map type); `set coretool verbose on`; and
both load orders with Go's own runtime-gdb.py.

Every expected string is built from what the program recorded about itself
(truth.json) in the syntax Go's runtime-gdb_test.go checks (`[]string =
{"f", "g", "h"}`, `chan int = {99, 11}`), never from the printers' output.
One gdb run per core makes every print (and one more per core for the other
load order).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import textwrap

import pytest

from conftest import ROOT

GDB = shutil.which("gdb")
ENTRY = ROOT / "gdbext" / "coretool-gdb.py"
LIB = ROOT / "build" / "libcoretool.so"
TOOLCHAINS = ROOT / "build" / "toolchains"
# the kernel's cores, and gdb's gcore at the same crash
SAMPLES = {"kernel": ROOT / "build" / "samples-gdbvalues",
           "gcore": ROOT / "build" / "samples-gdbvalues-gcore"}
GDB_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", CORETOOL_LIB=str(LIB))
PLAIN = ["set pagination off", "set width 0", "set height 0", "set print pretty off",
         "set print elements unlimited", "set print repeats unlimited", "set charset UTF-8",
         "set confirm off"]


def toolchains():
    lst = TOOLCHAINS / "list"
    if not lst.exists():
        return ["(no build/toolchains/list: run make toolchains)"]
    return [line.split()[0] for line in lst.read_text().splitlines() if line.strip()]


def cores():
    """kernel/go1.22, ..., gcore/go1.27: every toolchain, both ways of coring."""
    return [f"{kind}/{tc}" for kind in SAMPLES for tc in toolchains()]


def sample(which):
    kind, tc = which.split("/") if "/" in which else ("kernel", which)
    d = SAMPLES[kind] / tc
    for f in ("exe", "core", "truth.json"):
        assert (d / f).exists(), f"{d / f} is missing: run `bash samples/gdbvalues.sh` " \
                                 "(part of `make samples`)"
    return d, json.loads((d / "truth.json").read_text())


# ---- expected text, from the truth, in Go's format ----

def go_str(s):
    """A Go string as gdb prints it with charset UTF-8."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def elem(e):
    if e == {}:  # struct{}: gdb's own words for a struct without fields
        return "{<No data fields>}"
    if isinstance(e, dict):  # a struct, fields in declaration order
        return "{" + ", ".join(f"{f} = {elem(x)}" for f, x in e.items()) + "}"
    return go_str(e) if isinstance(e, str) else str(e)


def elems(tv):
    return "{" + ", ".join(elem(e) for e in tv["elems"]) + "}" if tv.get("elems") else ""


def expect(tv, verbose):
    k = tv["kind"]
    if k == "string":
        return go_str(tv["str"])
    if k == "slice":
        head = tv["type"] + (f" len {tv['len']} cap {tv['cap']}" if verbose else "")
        return head + (" = " + elems(tv) if tv.get("elems") else "")
    if k == "chan":
        if tv["nil"]:
            return f"({tv['type']}) 0x0"
        head = tv["type"]
        if verbose:
            head += f" len {tv['len']} cap {tv['cap']}" + (" closed" if tv.get("closed") else "")
            head += f" waiting: {tv['sendq']} to send, {tv['recvq']} to receive"
        return head + (" = " + elems(tv) if tv.get("elems") else "")
    if tv["nil"]:
        return "0x0"  # Go's IfacePrinter: a nil data word
    if tv["dtype"].startswith("*"):
        return f"({tv['dtype']}) {tv['ptr']}"
    v = tv["dvalue"]
    text = expect(v, verbose) if isinstance(v, dict) and v.get("kind") else elem(v)
    return f"({tv['dtype']}) {text}" if verbose else text


def printed(values):
    """The values whose printing this file checks (maps: only $len here; the
    map printers have their own tests)."""
    return [(n, tv) for n, tv in values.items() if tv["kind"] != "map"]


def value_of(out):
    """`$N = TEXT` -> TEXT."""
    out = out.strip()
    assert out.startswith("$") and " = " in out, out
    return out.split(" = ", 1)[1]


# ---- the gdb run ----

# Runs inside gdb; P (the parameters) is prepended by run_driver.
DRIVER = r"""
import json, gdb
R = {"globals": {}, "verbose": {}, "len": {}, "cap": {}, "dtype": {}, "locals": {},
     "after_go": {}, "iface": {}}
T = json.load(open(P["truth"]))
G = T["globals"]


def cmd(c):
    try:
        return gdb.execute(c, to_string=True)
    except gdb.error as e:
        return "ERROR " + str(e)


def dtype_probe(e, tv):
    if tv["kind"] not in ("eface", "iface") or tv["nil"]:
        return None
    v = tv["dvalue"]
    if tv["dtype"].startswith("*"):
        return cmd("print $dtype(%s).B" % e)
    if isinstance(v, dict) and v.get("kind") == "chan":
        return cmd("print $len($dtype(%s))" % e)
    if isinstance(v, dict):
        return cmd("print $dtype(%s).%s" % (e, sorted(v)[0]))
    if isinstance(v, int):
        return cmd("print $dtype(%s) + 1" % e)
    return cmd("print $dtype(%s)" % e)


def probe_locals():
    # runs inside `goroutine N python ...`: the parked goroutine's frames
    f = gdb.selected_frame()
    while f is not None and f.name() != T["holder_func"]:
        f = f.older()
    f.select()
    for n in T["locals"]:
        R["locals"][n] = cmd("print " + n)
        if T["locals"][n]["kind"] in ("string", "slice", "chan"):
            R["len"]["local:" + n] = cmd("print $len(%s)" % n)


try:
    for n, tv in G.items():
        e = "'%s'" % n
        R["globals"][n] = cmd("print " + e)
        if tv["kind"] in ("string", "slice", "chan", "map"):
            R["len"][n] = cmd("print $len(%s)" % e)
        if tv["kind"] in ("slice", "chan"):
            R["cap"][n] = cmd("print $cap(%s)" % e)
        d = dtype_probe(e, tv)
        if d is not None:
            R["dtype"][n] = d
        if tv["kind"] in ("eface", "iface"):
            R["iface"][n] = cmd("iface " + e)
    R["iface"]["not:main.gStrSlice"] = cmd("iface 'main.gStrSlice'")
    gdb.execute("set coretool verbose on")
    for n in G:
        R["verbose"][n] = cmd("print '%s'" % n)
    gdb.execute("set coretool verbose off")
    import __main__
    __main__.probe_locals = probe_locals
    R["goroutine"] = cmd("goroutine %d python probe_locals()" % T["holder_goid"])
    if P["go_script"]:
        # Go's own script loaded after ours: ours must still answer
        cmd("source " + P["go_script"])
        for n in P["after"]:
            e = "'%s'" % n
            R["after_go"][n] = cmd("print " + e)
            R["after_go"]["dtype:" + n] = dtype_probe(e, G[n]) or ""
            R["after_go"]["len:" + n] = cmd("print $len(%s)" % e) \
                if G[n]["kind"] == "chan" else ""
        # Go's printers have no verbose form: this is ours
        gdb.execute("set coretool verbose on")
        R["after_go"]["verbose"] = cmd("print 'main.gChanWrap'")
        R["after_go"]["iface"] = cmd("iface 'main.gEfaceStruct'")
        gdb.execute("set coretool verbose off")
finally:
    with open(P["out"], "w") as f:
        json.dump(R, f)
"""

AFTER = ["main.gEfaceStruct", "main.gIfaceInt", "main.gChanWrap"]


def run_driver(tmp_path, d, before=(), go_script="", live=False):
    """The driver on d's core, or (live) on d's program run under gdb to its
    panic, with its truth written by that run into tmp_path."""
    out = tmp_path / "r.json"
    script = tmp_path / "drv.py"
    truth = tmp_path / "truth.json" if live else d / "truth.json"
    params = {"truth": str(truth), "out": str(out), "go_script": str(go_script),
              "after": AFTER}
    script.write_text("P = %r\n" % params + DRIVER)
    argv = [GDB, "-nx", "-batch"]
    start = ["break runtime.gopanic", "run"] if live else []
    for c in PLAIN + list(before) + [f"source {ENTRY}"] + start + [f"source {script}"]:
        argv += ["-ex", c]
    if live:
        argv += ["-ex", "kill", "--args", str(d / "exe"), str(tmp_path)]
    else:
        argv += [str(d / "exe"), str(d / "core")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=GDB_ENV,
                       cwd=ROOT)
    assert "Fatal signal" not in p.stderr, p.stderr[-3000:]
    assert out.exists(), f"driver did not finish:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    return json.loads(out.read_text())


def runtime_gdb(tc):
    p = TOOLCHAINS / tc / "src" / "runtime" / "runtime-gdb.py"
    assert p.exists(), f"{p} missing"
    return p


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    cache = {}

    def get(tc):
        if tc not in cache:
            d, truth = sample(tc)
            cache[tc] = (run_driver(tmp_path_factory.mktemp(tc.replace("/", "-")), d,
                                    go_script=runtime_gdb(tc.split("/")[-1])), truth)
        return cache[tc]
    return get


if not GDB:
    pytest.fail("gdb is not installed", pytrace=False)


@pytest.mark.parametrize("tc", cores())
def test_values_go_format(tc, results):
    """Default (`set coretool verbose off`): exactly Go's format, globals and
    the parked goroutine's locals."""
    r, truth = results(tc)
    bad = []
    for n, tv in printed(truth["globals"]):
        got, want = value_of(r["globals"][n]), expect(tv, False)
        if got != want:
            bad.append(f"{n}: got {got!r}, want {want!r}")
    assert "ERROR" not in r.get("goroutine", ""), r.get("goroutine")
    for n, tv in truth["locals"].items():
        got, want = value_of(r["locals"].get(n, "<not printed>")), expect(tv, False)
        if got != want:
            bad.append(f"local {n}: got {got!r}, want {want!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("tc", cores())
def test_values_verbose(tc, results):
    """`set coretool verbose on`: slices with len/cap, channels with length,
    capacity, closed and the goroutines waiting; interfaces name their
    dynamic type."""
    r, truth = results(tc)
    bad = []
    for n, tv in printed(truth["globals"]):
        got, want = value_of(r["verbose"][n]), expect(tv, True)
        if got != want:
            bad.append(f"{n}: got {got!r}, want {want!r}")
    assert not bad, "\n".join(bad)
    # the unbuffered channel really has its blocked sender counted
    assert truth["globals"]["main.gChanUnbuf"]["sendq"] == 1


@pytest.mark.parametrize("tc", cores())
def test_len_cap_dtype(tc, results):
    """$len / $cap against Go's len() and cap() as the program recorded them;
    $dtype gives a value of the dynamic type (a field, an arithmetic)."""
    r, truth = results(tc)
    bad = []
    for n, tv in truth["globals"].items():
        if n in r["len"] and value_of(r["len"][n]) != str(tv["len"]):
            bad.append(f"$len({n}) = {r['len'][n]!r}, want {tv['len']}")
        if n in r["cap"] and value_of(r["cap"][n]) != str(tv["cap"]):
            bad.append(f"$cap({n}) = {r['cap'][n]!r}, want {tv['cap']}")
        if tv["kind"] in ("string", "slice", "chan", "map") and n not in r["len"]:
            bad.append(f"$len({n}) not run")
        if tv["kind"] in ("eface", "iface") and not tv["nil"]:
            v = tv["dvalue"]
            if tv["dtype"].startswith("*"):
                want = go_str(v["B"])
            elif isinstance(v, dict) and v.get("kind") == "chan":
                want = str(v["len"])  # $len($dtype(e))
            elif isinstance(v, dict):
                want = elem(v[sorted(v)[0]])
            elif isinstance(v, int):
                want = str(v + 1)
            else:
                want = elem(v)
            got = r["dtype"].get(n, "<not run>")
            if got.startswith("ERROR") or value_of(got) != want:
                bad.append(f"$dtype({n}): got {got!r}, want {want!r}")
    for n in ("lSlice", "lChan", "lStr"):
        got = r["len"].get("local:" + n, "<not run>")
        if got.startswith("ERROR") or value_of(got) != str(truth["locals"][n]["len"]):
            bad.append(f"$len(local {n}) = {got!r}, want {truth['locals'][n]['len']}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("tc", cores())
def test_iface_command(tc, results):
    """`iface EXPR` (Go's command of that name): `STATIC: DYNAMIC` with the
    dynamic type as the program's %T named it, `nil` for a nil interface; a
    value that is no interface is said to be none."""
    r, truth = results(tc)
    bad = []
    for n, tv in truth["globals"].items():
        if tv["kind"] not in ("eface", "iface"):
            continue
        want = f"{tv['type']}: {'nil' if tv['nil'] else tv['dtype']}"
        got = r["iface"].get(n, "<not run>").strip()
        if got != want:
            bad.append(f"iface {n}: got {got!r}, want {want!r}")
    assert r["iface"]["not:main.gStrSlice"].startswith("Not an interface: "), r["iface"]
    assert not bad, "\n".join(bad)


def _check_after_go(r, truth):
    bad = []
    want = expect(truth["globals"]["main.gChanWrap"], True)
    if value_of(r["after_go"]["verbose"]) != want:
        bad.append(f"verbose main.gChanWrap: {r['after_go']['verbose']!r}, want {want!r}")
    for n in AFTER:
        tv = truth["globals"][n]
        got, want = value_of(r["after_go"][n]), expect(tv, False)
        if got != want:
            bad.append(f"{n}: got {got!r}, want {want!r}")
        if tv["kind"] == "chan" and value_of(r["after_go"]["len:" + n]) != str(tv["len"]):
            bad.append(f"$len({n}): {r['after_go']['len:' + n]!r}")
        d = r["after_go"]["dtype:" + n]
        if tv["kind"] in ("eface", "iface") and (d.startswith("ERROR") or not d.strip()):
            bad.append(f"$dtype({n}): {d!r}")
    # Go's `iface` (which cannot read these runtimes' types) stays ours
    tv = truth["globals"]["main.gEfaceStruct"]
    if r["after_go"]["iface"].strip() != f"{tv['type']}: {tv['dtype']}":
        bad.append(f"iface after Go's script: {r['after_go']['iface']!r}")
    return bad


@pytest.mark.parametrize("tc", cores())
def test_go_script_loaded_after(tc, results):
    """Go's runtime-gdb.py sourced after coretool: coretool's printers and
    functions still answer (Go's interface printer does not recognise these
    runtimes' interface types, its $dtype fails, it has no verbose form)."""
    r, truth = results(tc)
    bad = _check_after_go(r, truth)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("tc", [t for t in toolchains()][-1:] + [t for t in toolchains()][:1])
def test_go_script_loaded_before(tc, tmp_path):
    """Go's runtime-gdb.py sourced before coretool (the first and the last
    toolchain): the same prints, in Go's format, by coretool."""
    d, truth = sample(tc)
    r = run_driver(tmp_path, d, before=[f"source {runtime_gdb(tc)}"])
    bad = []
    for n, tv in printed(truth["globals"]):
        got, want = value_of(r["globals"][n]), expect(tv, False)
        if got != want:
            bad.append(f"{n}: got {got!r}, want {want!r}")
    for n in r["dtype"]:
        if r["dtype"][n].startswith("ERROR"):
            bad.append(f"$dtype({n}): {r['dtype'][n]}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("tc", toolchains())
def test_coretool_wins_over_autoloaded_go_script(tc):
    """coretool first (-iex, as from a gdbinit), then Go's runtime-gdb.py
    auto-loaded with the executable, and in batch mode no event between them:
    $len/$cap/$dtype are still coretool's (Go's stay reachable as $go_len),
    and so are the printers (Go's have no verbose form)."""
    d, truth = sample(tc)
    tv = truth["globals"]["main.gEfaceStruct"]
    sl = truth["globals"]["main.gStrSlice"]
    argv = [GDB, "-nx", "-batch", "-iex", "set auto-load safe-path /", "-iex", f"source {ENTRY}"]
    for c in PLAIN + ["info auto-load python-scripts",
                      "print $dtype('main.gEfaceStruct').X",
                      "print $cap('main.gChanWrap')",
                      "print $go_len('main.gStrSlice')",
                      "set coretool verbose on", "print 'main.gStrSlice'"]:
        argv += ["-ex", c]
    p = subprocess.run(argv + [str(d / "exe"), str(d / "core")], capture_output=True,
                       text=True, timeout=120, env=GDB_ENV, cwd=ROOT)
    assert re.search(r"Yes\s+\S*runtime-gdb\.py", p.stdout), \
        f"Go's script was not auto-loaded:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    printed = [l for l in p.stdout.splitlines() if l.startswith("$")]
    assert printed == [f"$1 = {tv['dvalue']['X']}",
                       f"$2 = {truth['globals']['main.gChanWrap']['cap']}",
                       f"$3 = {sl['len']}",
                       f"$4 = {expect(sl, True)}"], p.stdout[-2000:] + p.stderr[-2000:]


# ---- the channel model on damaged memory (libcoretool through ctypes, no gdb) ----

def _segments(path, ptype=1):
    """(vaddr, file offset, filesz) of the PT_LOAD segments of a 64-bit ELF."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    out = []
    for i in range(phnum):
        t, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", table, i * phentsize)
        if t == ptype and filesz:
            out.append((vaddr, off, filesz))
    return out


class PatchedCore:
    """The process's memory as the core (then the executable's file) holds
    it, with some words overwritten: what a damaged process would show."""

    def __init__(self, d):
        self.files = [(open(d / "core", "rb"), _segments(d / "core")),
                      (open(d / "exe", "rb"), _segments(d / "exe"))]
        self.patches = {}
        self.reads = 0

    def read(self, addr, n):
        self.reads += 1
        for f, segs in self.files:
            for vaddr, off, size in segs:
                if vaddr <= addr and addr + n <= vaddr + size:
                    f.seek(off + addr - vaddr)
                    data = bytearray(f.read(n))
                    for a, b in self.patches.items():
                        for i, byte in enumerate(b):
                            if addr <= a + i < addr + n:
                                data[a + i - addr] = byte
                    return 0, bytes(data)
        return 1, b""

    def put(self, addr, value, size=8):
        self.patches[addr] = value.to_bytes(size, "little")


def _hchan_layout(d):
    """gChanWrap's hchan address and the offsets of hchan/waitq/sudog fields,
    as gdb reads them from the DWARF."""
    q = ("import gdb, json\n"
         "v = gdb.parse_and_eval(\"'main.gChanWrap'\")\n"
         "h = v.type.strip_typedefs().target()\n"
         "o = {f.name: f.bitpos // 8 for f in h.fields()}\n"
         "w = h['sendq'].type.strip_typedefs()\n"
         "o['waitq.first'] = w['first'].bitpos // 8\n"
         "s = w['first'].type.strip_typedefs().target()\n"
         "o['sudog.next'] = s['next'].bitpos // 8\n"
         "o['addr'] = int(v)\n"
         "print('LAYOUT ' + json.dumps(o))\n")
    p = subprocess.run([GDB, "-nx", "-batch", "-ex", "python\n" + q + "end",
                        str(d / "exe"), str(d / "core")], capture_output=True, text=True,
                       timeout=120, env=GDB_ENV)
    line = [l for l in p.stdout.splitlines() if l.startswith("LAYOUT ")]
    assert line, p.stdout[-2000:] + p.stderr[-2000:]
    return json.loads(line[0][len("LAYOUT "):])


@pytest.fixture(scope="module")
def libct_mod():
    # the binding alone (its package needs gdb's Python)
    import importlib.util
    os.environ["CORETOOL_LIB"] = str(LIB)
    spec = importlib.util.spec_from_file_location(
        "ct_libct", ROOT / "gdbext" / "coretool_gdb" / "libct.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("damage", ["qcount", "recvx", "dataqsiz", "sendq-cycle", "buf"])
def test_chan_model_on_damaged_memory(damage, libct_mod):
    """ct_chan_info on gChanWrap's real hchan with one field damaged: the
    header is reported bad (no slot is handed out) or the waiters count stops
    at its bound, and every read stays bounded. Undamaged, it matches the
    truth."""
    tc = toolchains()[-1]
    d, truth = sample(tc)
    lay = _hchan_layout(d)
    tv = truth["globals"]["main.gChanWrap"]
    mem = PatchedCore(d)
    h = libct_mod.Handle.open_memory(mem.read, str(d / "exe"), 0)
    try:
        c = libct_mod.chan_info(h, lay["addr"], "chan int")
        assert (c.qcount, c.dataqsiz, c.sendq, c.recvq, c.bad) == \
            (tv["len"], tv["cap"], 0, 0, b"")
        assert c.recvx != 0, "the sample's wrapped channel did not wrap"
        a = lay["addr"]
        if damage == "qcount":
            mem.put(a + lay["qcount"], 1 << 40)
        elif damage == "recvx":
            mem.put(a + lay["recvx"], tv["cap"] + 3)
        elif damage == "dataqsiz":
            mem.put(a + lay["dataqsiz"], 1 << 62)
            mem.put(a + lay["qcount"], 1 << 61)
        elif damage == "buf":
            mem.put(a + lay["buf"], 0)
        else:
            # a sudog that is its own successor, on the send queue
            sudog = a  # the hchan's own first words serve as the sudog
            mem.put(a + lay["sendq"] + lay["waitq.first"], sudog)
            mem.put(sudog + lay["sudog.next"], sudog)
        mem.reads = 0
        c = libct_mod.chan_info(h, a, "chan int")
        if damage == "sendq-cycle":
            assert c.waiters_partial and c.sendq == 100000, (c.sendq, c.waiters_partial)
            assert mem.reads < 100100
        else:
            assert c.bad, f"damaged {damage} not reported"
            assert libct_mod.chan_slot(c, 0) == 0
            assert mem.reads < 100
    finally:
        h.close()


@pytest.mark.parametrize("tc", toolchains()[:1] + toolchains()[-1:])
def test_values_live_process(tc, tmp_path):
    """The same prints on the live program stopped at its panic (the first
    and the last toolchain): the library reads the process through gdb."""
    d, _ = sample(tc)
    r = run_driver(tmp_path, d, live=True)
    truth = json.loads((tmp_path / "truth.json").read_text())
    bad = []
    for n, tv in printed(truth["globals"]):
        for key, verbose in (("globals", False), ("verbose", True)):
            got, want = value_of(r[key][n]), expect(tv, verbose)
            if got != want:
                bad.append(f"{key} {n}: got {got!r}, want {want!r}")
    for n, tv in truth["locals"].items():
        got, want = value_of(r["locals"].get(n, "<not printed>")), expect(tv, False)
        if got != want:
            bad.append(f"local {n}: got {got!r}, want {want!r}")
    for n, tv in truth["globals"].items():
        if n in r["len"] and value_of(r["len"][n]) != str(tv["len"]):
            bad.append(f"$len({n}) = {r['len'][n]!r}, want {tv['len']}")
    assert not bad, "\n".join(bad)


def test_chan_children_through_mi():
    """IDEs (gdb --interpreter=mi): a channel's children have unique names and
    the buffered values in queue order (the wrapped-around one)."""
    tc = toolchains()[-1]
    d, truth = sample(tc)
    tv = truth["globals"]["main.gChanWrap"]
    script = "\n".join([f'-interpreter-exec console "source {ENTRY}"', "-enable-pretty-printing",
                        "-var-create ch * 'main.gChanWrap'",
                        "-var-list-children --all-values ch", "-gdb-exit", ""])
    p = subprocess.run([GDB, "-nx", "--interpreter=mi", str(d / "exe"), str(d / "core")],
                       input=script, capture_output=True, text=True, timeout=120, env=GDB_ENV)
    created = [l for l in p.stdout.splitlines() if l.startswith('^done,name="ch"')]
    assert created and 'type="chan int"' in created[0], p.stdout[-3000:]
    listed = [l for l in p.stdout.splitlines() if l.startswith("^done,numchild=")]
    assert listed, p.stdout[-3000:]
    names = re.findall(r'child=\{name="([^"]+)"', listed[0])
    values = re.findall(r'child=\{name="[^"]+",exp="[^"]+",numchild="\d+",value="([^"]*)"',
                        listed[0])
    assert len(set(names)) == len(names) == tv["len"], listed[0]
    assert values == [str(e) for e in tv["elems"]], listed[0]
