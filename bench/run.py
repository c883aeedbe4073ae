#!/usr/bin/env python3
"""Runs the bench tasks with coretool and the anchors on the bench cores and writes
bench/RESULTS.md (and build/bench/results.json with every measurement).

    python3 bench/run.py [--toolchains go1.26,go1.23] [--only coretool|anchors]
                         [--timeout 600] [--reps 5] [--out bench/RESULTS.md]

Each run is one process tree, timed from fork to exit (wall), with user+system CPU and peak
RSS (ru_maxrss, through GNU time). Every run is bounded by --timeout; a run that
hits it is killed (its whole process group) and recorded as "> timeout". "Cold" runs drop the page
cache first (sync; echo 3 > /proc/sys/vm/drop_caches), when the machine lets us; otherwise the
results say "warm cache". With --only, the other side's measurements are taken from the previous
build/bench/results.json, so coretool can be re-measured after a change without re-running
the anchors.
"""

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build", "bench")
CORETOOL = os.path.join(TOP, "build", "coretool")
# coretool's cache of each executable's DWARF index (coretool/cache.h), kept for the bench:
# warmed once per core, so runs see what every core after the first of a build sees. Task 1
# also runs with the cache off: the first core of a build.
BENCH_CACHE = os.path.join(TOP, "build", "bench", "cache")
CACHED = {"CORETOOL_CACHE_DIR": BENCH_CACHE}
UNCACHED = {"CORETOOL_CACHE_DIR": "off"}


def is_coretool(tool):
    return tool.startswith("coretool")
VIEWCORE = os.path.join(BUILD, "bin", "viewcore")
GRF = os.path.join(BUILD, "bin", "grf")  # goref
ANALYSIS = os.path.join(TOP, "bench", "analysis.md")

TASKS = [
    ("open1", "Open + classify one address (cold cache)"),
    ("classify100k", "Classify 100,000 addresses"),
    ("mapdump", "Dump the map (all entries)"),
    ("census", "Heap census by size class / type"),
    ("triage", "Full triage of the crash"),
    ("packed", "Triage of the core compressed with zstd (as systemd-coredump stores it)"),
    ("gdbprint", "`print` the map at a gdb prompt (coretool's printers)"),
    ("typedheap", "Typed heap: census by Go type"),
]
# tasks with targets of their own, outside the general RSS and ≥ 20× targets
OWN_TARGETS = ("typedheap",)
GDB_ENTRY = os.path.join(TOP, "gdbext", "coretool-gdb.py")


# ---------------------------------------------------------------- measuring

def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def run(cmd, stdin=None, stdout=None, timeout=None, env=None):
    """Runs cmd (a list) in its own process group; returns wall, cpu, maxrss_kb, rc, timed_out."""
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout else subprocess.DEVNULL
    ferr_path = (stdout + ".err") if stdout else None
    ferr = open(ferr_path, "wb") if ferr_path else subprocess.DEVNULL
    e = dict(os.environ)
    e.update(env or {})
    timed_out = threading.Event()
    # Through GNU time: Linux carries a process's peak RSS across fork+exec, so a child forked
    # straight from this (large) Python process would report Python's peak as its own. time's
    # child is forked from time, which is small.
    rfile = os.path.join(BUILD, ".rusage")
    if os.path.exists(rfile):
        os.unlink(rfile)
    cmd = ["/usr/bin/time", "-f", "%U %S %M", "-o", rfile] + list(cmd)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, start_new_session=True, env=e)

    killed_usage = {}

    def kill():
        timed_out.set()
        # time(1) dies with its child and reports nothing: take the group's CPU and peak RSS
        # from /proc first
        cpu, hwm, tick = 0.0, 0, os.sysconf("SC_CLK_TCK")
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/stat" % pid) as f:
                    st = f.read().rsplit(")", 1)[1].split()
                if int(st[2]) != p.pid:  # pgrp
                    continue
                cpu += (int(st[11]) + int(st[12])) / tick
                with open("/proc/%s/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm = max(hwm, int(line.split()[1]))
            except (OSError, IndexError, ValueError):
                continue
        killed_usage.update(cpu=cpu, maxrss=hwm)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if timer:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    for f in (fin, fout, ferr):
        if f is not subprocess.DEVNULL:
            f.close()
    cpu, maxrss = ru.ru_utime + ru.ru_stime, ru.ru_maxrss
    try:
        with open(rfile) as f:
            last = f.read().strip().splitlines()[-1].split()
        cpu, maxrss = float(last[0]) + float(last[1]), int(last[2])
    except (OSError, IndexError, ValueError):
        if killed_usage:
            cpu, maxrss = killed_usage["cpu"], killed_usage["maxrss"]
    return {
        "wall": wall,
        "cpu": cpu,
        "maxrss_kb": maxrss,
        "rc": p.returncode,
        "timed_out": timed_out.is_set(),
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- checks of what each tool printed

def read(path, limit=None):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace") if limit else f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def first_error(path):
    """The first line of a tool's output that reads like an error (for the results)."""
    rx = re.compile(r"error|exception|cannot|can't|not supported|refus|too old|unsupported|could not|failed", re.I)
    for p in (path, path + ".err"):
        for line in read(p).splitlines():
            m = rx.search(line)
            if m:
                # the words around the match: a map printer's error sits at the end of a huge line
                s = line[max(0, m.start() - 20):m.end() + 120].strip()
                return ("…" if m.start() > 20 else "") + s
    return ""


def check_map_entries(pairs, truth_count):
    """pairs: iterable of (key, value) ints; the sample stored key i*7+3 -> i."""
    n = 0
    keys = set()
    wrong = 0
    for k, v in pairs:
        n += 1
        keys.add(k)
        if k != v * 7 + 3:
            wrong += 1
    ok = n == truth_count and len(keys) == truth_count and wrong == 0
    note = "%d of %d entries" % (len(keys), truth_count)
    if n != len(keys):
        note += ", %d printed (duplicates)" % n
    if wrong:
        note += ", %d wrong" % wrong
    return ok, note


def check_coretool_map(path, truth_count):
    try:
        with open(path) as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        return False, "unparsable JSON: %s" % e
    ok, note = check_map_entries(((e["key"], e["value"]) for e in j.get("entries", [])), truth_count)
    h = j.get("health", {})
    if not h.get("ok"):
        ok = False
        note += ", health not ok"
    return ok, note


PAIR_GDB = re.compile(r"\[(-?\d+)\] = (-?\d+)")
PAIR_DLV = re.compile(r"^\s*(-?\d+): (-?\d+),?\s*$", re.M)


def check_text_map(path, rx, truth_count):
    text = read(path)
    ok, note = check_map_entries(((int(a), int(b)) for a, b in rx.findall(text)), truth_count)
    err = first_error(path)
    if err:
        note += "; " + err
    return ok, note


# ---------------------------------------------------------------- typed heap: the tools' outputs

MAX_TEXT = 64 << 20    # bound on a text output read for the typed-heap comparison
MAX_PPROF = 256 << 20  # bound on a pprof profile, compressed and decompressed


def _varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("truncated or overlong varint")
        x = b[i]
        i += 1
        v |= (x & 0x7f) << shift
        shift += 7
        if x < 0x80:
            return v, i


def _pb_fields(b):
    """(field, wire type, value) of one protobuf message: ints for varints and fixed, bytes for
    length-delimited fields."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            if n > len(b) - i:
                raise ValueError("field runs past its message")
            v, i = b[i:i + n], i + n
        elif wt in (1, 5):
            n = 8 if wt == 1 else 4
            if n > len(b) - i:
                raise ValueError("field runs past its message")
            v, i = int.from_bytes(b[i:i + n], "little"), i + n
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


def _pb_ints(wt, v):
    """A repeated integer field's values, packed or not."""
    if wt != 2:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def read_pprof(path):
    """A pprof profile (profile.proto, gzipped or not): {"types": [(type, unit)], "samples":
    [(frames leaf first, values)]}; each frame a function name, inlined ones expanded."""
    with open(path, "rb") as f:
        raw = f.read(MAX_PPROF + 1)
    if raw[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        raw = d.decompress(raw, MAX_PPROF + 1)
    if len(raw) > MAX_PPROF:
        raise ValueError("profile larger than %d bytes" % MAX_PPROF)
    strings, types, samples, locs, funcs = [], [], [], {}, {}
    for f, wt, v in _pb_fields(raw):
        if wt != 2:
            continue
        if f == 6:  # string_table
            strings.append(v.decode("utf-8", "replace"))
        elif f == 1:  # sample_type
            t = {g: x for g, w, x in _pb_fields(v) if w == 0}
            types.append((t.get(1, 0), t.get(2, 0)))
        elif f == 2:  # sample: location_id = 1, value = 2
            ids, vals = [], []
            for g, w, x in _pb_fields(v):
                if g == 1:
                    ids += _pb_ints(w, x)
                elif g == 2:
                    vals += [y - (1 << 64) if y >= 1 << 63 else y for y in _pb_ints(w, x)]
            samples.append((ids, vals))
        elif f == 4:  # location: id = 1, line = 4 (function_id = 1)
            lid, fids = 0, []
            for g, w, x in _pb_fields(v):
                if g == 1 and w == 0:
                    lid = x
                elif g == 4 and w == 2:
                    fids.append({h: y for h, wy, y in _pb_fields(x) if wy == 0}.get(1, 0))
            locs[lid] = fids
        elif f == 5:  # function: id = 1, name = 2
            fn = {g: x for g, w, x in _pb_fields(v) if w == 0}
            funcs[fn.get(1, 0)] = fn.get(2, 0)

    def st(k):
        return strings[k] if 0 <= k < len(strings) else ""

    names = {lid: [st(funcs.get(fid, 0)) for fid in fids] for lid, fids in locs.items()}
    return {"types": [(st(a), st(b)) for a, b in types],
            "samples": [([n for lid in ids for n in names.get(lid, [])], vals) for ids, vals in samples]}


GOREF_LEAF = re.compile(r"^.*?\. \((.*)\)$")  # goref's frames: "field. (type of the reference)"


def pprof_by_leaf(path, goref=False):
    """{type: [objects, bytes]} by a profile's leaf frame, and the totals. coretool's leaf is the
    object's type ("[C] ..." for C chunks: left out here, the other tools see only the Go heap);
    goref's is the reference that holds the object, "name. (T)": T without its leading '*', or a
    root variable's name, or "$sub_objects$" (objects below its depth bound, by their ancestors)."""
    p = read_pprof(path)
    ix_n = next((i for i, (t, _) in enumerate(p["types"]) if t == "inuse_objects"), 0)
    ix_b = next((i for i, (t, _) in enumerate(p["types"]) if t == "inuse_space"), 1)
    by, tot = {}, [0, 0]
    for frames, vals in p["samples"]:
        if len(vals) <= max(ix_n, ix_b):
            continue
        leaf = frames[0] if frames else "?"
        if goref:
            m = GOREF_LEAF.match(leaf)
            leaf = m.group(1).lstrip("*") if m else leaf
        elif leaf.startswith("[C]"):
            continue
        e = by.setdefault(leaf, [0, 0])
        e[0] += vals[ix_n]
        e[1] += vals[ix_b]
        tot[0] += vals[ix_n]
        tot[1] += vals[ix_b]
    return by, tot, len(p["samples"])


def coretool_bytype(path):
    with open(path, "rb") as f:
        j = json.loads(f.read(MAX_TEXT).decode("utf-8", "replace"))
    return {e["type"]: [e["objects"], e["bytes"]] for e in j.get("by_type", [])}, j


VC_HIST = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.+?)\s*$")
VC_ARRAY = re.compile(r"^\[\d+(?:\+\d+\?)?\](.*)$")  # "[4096]uint8", "[56+8?]uint8": an array by its length


def viewcore_histogram(path):
    """viewcore's histogram rows (count, size, bytes, type) summed by type, with its per-length
    array types ([N]T, [N+M?]T) folded into []T, coretool's name for a slice's backing array,
    and its unkNNN (no type known) into "(untyped)"."""
    by, rows = {}, 0
    for line in read(path, MAX_TEXT).splitlines():
        m = VC_HIST.match(line)
        if not m:
            continue
        rows += 1
        n, b, t = int(m.group(1)), int(m.group(3)), m.group(4)
        a = VC_ARRAY.match(t)
        if a:
            t = "[]" + a.group(1)
        elif re.match(r"^unk\d+$", t):
            t = "(untyped)"
        e = by.setdefault(t, [0, 0])
        e[0] += n
        e[1] += b
    return by, rows


def viewcore_breakdown(path):
    """viewcore breakdown's tree, by indentation: {"heap/in use spans/alloc": bytes, ...}, and its
    in-use spans' classes by short name ("alloc", "live", "garbage"; the order of sibling lines
    varies from run to run, and "alloc" and "free" are under two parents)."""
    out, stack = {}, []
    for line in read(path, MAX_TEXT).splitlines():
        m = re.match(r"^(\s*)([a-z][a-z ]*?)\s+(\d+)\s+[\d.]+%", line)
        if not m:
            continue
        depth = len(m.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, m.group(2)))
        out["/".join(n for _, n in stack)] = int(m.group(3))
    for k, v in list(out.items()):
        for short, tail in (("alloc", "in use spans/alloc"), ("live", "in use spans/alloc/live"),
                            ("garbage", "in use spans/alloc/garbage")):
            if k.endswith(tail):
                out[short] = v
    return out


def check_coretool_bytype(path):
    try:
        by, j = coretool_bytype(path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        return False, "unparsable JSON: %s" % e
    ok = bool(by) and j.get("objects", 0) > 0
    return ok, "%d objects (%d bytes) in %d types; unreachable %d (%d bytes)" % (
        j.get("objects", 0), j.get("bytes", 0), len(by), j.get("unreachable", {}).get("objects", 0),
        j.get("unreachable", {}).get("bytes", 0))


def check_pprof(path, goref=False):
    try:
        by, tot, n = pprof_by_leaf(path, goref)
    except (OSError, ValueError, zlib.error) as e:
        return False, "no readable profile: %s" % e
    return n > 0, "pprof: %d samples, %d Go objects (%d bytes)" % (n, tot[0], tot[1])


def check_viewcore_histogram(path):
    by, rows = viewcore_histogram(path)
    err = first_error(path)
    n, b = sum(v[0] for v in by.values()), sum(v[1] for v in by.values())
    return rows > 0 and not err, err or "%d rows: %d objects (%d bytes)" % (rows, n, b)


def check_viewcore_breakdown(path):
    bd = viewcore_breakdown(path)
    err = first_error(path)
    if err or "live" not in bd:
        return False, err or "no live line"
    return True, "alloc %d bytes: live %d, garbage %d" % (bd.get("alloc", 0), bd["live"], bd.get("garbage", 0))


# ---------------------------------------------------------------- the tasks

class Core:
    def __init__(self, tc):
        self.tc = tc
        self.dir = os.path.join(BUILD, tc)
        self.core = os.path.join(self.dir, "core")
        self.exe = os.path.join(self.dir, "exe")
        self.addrs = os.path.join(self.dir, "addrs.txt")
        with open(os.path.join(self.dir, "truth.json")) as f:
            self.truth = json.load(f)
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out, exist_ok=True)
        goroot = None
        with open(os.path.join(TOP, "build", "toolchains", "list")) as f:
            for line in f:
                w = line.split()
                if w and w[0] == tc:
                    goroot = w[1]
        self.runtime_gdb = os.path.join(goroot, "src", "runtime", "runtime-gdb.py")
        self.one_addr = next(a["addr"] for a in self.truth["addresses"] if a["what"].startswith("main.rec256"))
        st = os.stat(self.core)
        self.size = st.st_size
        self.disk = st.st_blocks * 512
        # The packed form (task "packed"), made once per core with the real zstd.
        self.core_zst = self.core + ".zst"
        if not os.path.exists(self.core_zst) or os.stat(self.core_zst).st_mtime < st.st_mtime:
            subprocess.run(["zstd", "-q", "-f", "-T0", self.core, "-o", self.core_zst], check=True)

    def gdb(self, *cmds):
        c = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
             "-ex", "set pagination off", "-ex", "source " + self.runtime_gdb]
        for x in cmds:
            c += ["-ex", x]
        return c + [self.exe, self.core]

    def dlv(self, name, *cmds):
        init = os.path.join(self.out, name + ".dlv")
        with open(init, "w") as f:
            f.write("\n".join(cmds + ("exit",)) + "\n")
        return [os.path.join(BUILD, "bin", "dlv-" + self.tc), "core", self.exe, self.core, "--init", init, "--allow-non-terminal-interactive=true"]

    def viewcore(self, *args):
        return [VIEWCORE, self.core, "--exe", self.exe] + list(args)


def specs(c, task, anchors_ok):
    """The runs of one task: list of dicts tool, what, cmd, stdin, same (does the anchor do the
    same job?), check (function of the output path -> (ok, note))."""
    t = c.truth
    n_map = t["map"]["count"]
    addr = c.one_addr
    out = []

    def add(tool, what, cmd, same, check, stdin=None, env=None, anchor=None, artifact=None):
        key = anchor or ("dlv-" + c.tc if tool == "dlv" else tool)  # one pinned Delve per Go version
        if is_coretool(tool) and env is None:
            env = CACHED
        if not is_coretool(tool) and anchors_ok.get(key, ("", ""))[0] != "ok":
            out.append({"tool": tool, "what": what, "unavailable": anchors_ok.get(key, ("", "not installed"))[1]})
            return
        out.append({"tool": tool, "what": what, "cmd": cmd, "same": same, "check": check, "stdin": stdin, "env": env})
        if artifact:
            out[-1]["artifact"] = artifact

    if task == "open1":
        add("coretool", "classify CORE %s (no index cache: a build's first core)" % addr,
            [CORETOOL, "classify", c.core, addr], True,
            lambda p: (("go-heap" in read(p) and "allocated" in read(p)), "go-heap allocated"), env=UNCACHED)
        add("coretool-cached", "classify CORE %s (index cached: every later core of the build)" % addr,
            [CORETOOL, "classify", c.core, addr], True,
            lambda p: (("go-heap" in read(p) and "allocated" in read(p)), "go-heap allocated"))
        add("gdb", "info symbol + x/2gx (no classification)",
            c.gdb("info symbol " + addr, "x/2gx " + addr), False,
            lambda p: (bool(re.search(r"0x[0-9a-f]+.*:\s+0x", read(p))), "memory shown, no region/state"))
        add("dlv", "examinemem (no classification)",
            c.dlv("open1", "examinemem -count 2 -size 8 " + addr), False,
            lambda p: (bool(re.search(r"0x[0-9a-f]+:", read(p))), "memory shown, no region/state"))
        add("viewcore", "reachable ADDR (object + path from a root)",
            c.viewcore("reachable", addr[2:]), True,
            lambda p: (bool(read(p).strip()), first_error(p) or "printed"))
    elif task == "classify100k":
        n = t["addrs_file"]["count"]
        add("coretool", "classify CORE - < addrs.txt", [CORETOOL, "classify", c.core, "-"], True,
            lambda p: ((sum(1 for l in read(p).splitlines() if l.startswith("0x")) == n),
                       "%d verdicts" % sum(1 for l in read(p).splitlines() if l.startswith("0x"))),
            stdin=c.addrs)
        gscript = os.path.join(c.out, "classify100k.gdb")
        with open(gscript, "w") as f:
            with open(c.addrs) as a:
                for line in a:
                    f.write("info symbol %s\n" % line.strip())
        add("gdb", "info symbol per address (symbols only, no heap)",
            c.gdb("source " + gscript), False,
            lambda p: (read(p).count("\n") >= n, "%d lines" % read(p).count("\n")))
        out.append({"tool": "dlv", "what": "-", "cannot": "no address-to-object query"})
        out.append({"tool": "viewcore", "what": "-", "cannot": "one `reachable` per address only"})
    elif task == "mapdump":
        add("coretool", "--json map CORE main.benchMap", [CORETOOL, "--json", "map", c.core, "main.benchMap"], True,
            lambda p: check_coretool_map(p, n_map))
        add("gdb", "print 'main.benchMap' (print elements unlimited)",
            c.gdb("set print elements unlimited", "set print repeats unlimited", "print 'main.benchMap'"), True,
            lambda p: check_text_map(p, PAIR_GDB, n_map))
        add("dlv", "print main.benchMap (max-array-values 2000000)",
            c.dlv("mapdump", "config max-array-values 2000000", "print main.benchMap"), True,
            lambda p: check_text_map(p, PAIR_DLV, n_map))
        out.append({"tool": "viewcore", "what": "-", "cannot": "no command prints a map's entries"})
    elif task == "census":
        add("coretool", "heap CORE", [CORETOOL, "heap", c.core], True,
            lambda p: (("live objects" in read(p)), (re.search(r"\d+ live objects \(\d+ bytes\)", read(p)) or [""])[0]))
        out.append({"tool": "gdb", "what": "-", "cannot": "no heap command in gdb or runtime-gdb.py"})
        out.append({"tool": "dlv", "what": "-", "cannot": "no heap command"})
        add("viewcore", "histogram", c.viewcore("histogram"), True,
            lambda p: (bool(read(p).strip()) and not first_error(p), first_error(p) or "printed"))
    elif task == "triage":
        add("coretool", "triage CORE", [CORETOOL, "triage", c.core], True,
            lambda p: (("class:     null-deref" in read(p)), (re.search(r"class:\s+\S+", read(p)) or [""])[0]))
        add("gdb", "bt; info registers; thread apply all bt; info goroutines; goroutine all bt",
            c.gdb("bt", "info registers", "thread apply all bt", "info goroutines", "goroutine all bt"), False,
            lambda p: (("#0" in read(p)), "backtraces printed" + ("; " + first_error(p) if first_error(p) else "")))
        add("dlv", "bt; regs; goroutines -t",
            c.dlv("triage", "bt", "regs", "goroutines -t"), False,
            lambda p: (("goroutine" in read(p).lower()), first_error(p) or "backtraces printed"))
        add("viewcore", "goroutines", c.viewcore("goroutines"), False,
            lambda p: (bool(read(p).strip()) and not first_error(p), first_error(p) or "printed"))
    elif task == "packed":
        check = lambda p: (("class:     null-deref" in read(p)), (re.search(r"class:\s+\S+", read(p)) or [""])[0])
        # First sight of the file: its unpacked copy removed before each run (the
        # DWARF index stays cached, as for every later core of a build).
        add("coretool", "triage CORE.zst (unpacked by this run)", [CORETOOL, "triage", c.core_zst], True, check)
        out[-1]["pre"] = ["rm", "-rf", os.path.join(BENCH_CACHE, "cores")]  # before each run, not timed
        add("coretool-cached", "triage CORE.zst (unpacked by an earlier run)", [CORETOOL, "triage", c.core_zst],
            True, check)
        plain = os.path.join(c.out, "zstd-d.core")
        add("zstd", "zstd -d CORE.zst -o FILE (decompression alone)",
            ["zstd", "-q", "-d", "-f", c.core_zst, "-o", plain], False,
            lambda p: ((os.path.getsize(plain) == c.size, os.remove(plain))[0], "%d bytes written" % c.size)
            if os.path.exists(plain) else (False, "no output"))
    elif task == "gdbprint":
        # the same gdb and settings as the anchor; only the printer differs
        plain = ["set print elements unlimited", "set print repeats unlimited", "set width 0",
                 "print 'main.benchMap'"]
        add("coretool-gdb", "gdb + coretool-gdb.py: print 'main.benchMap'",
            ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off", "-ex",
             "set pagination off", "-ex", "source " + GDB_ENTRY]
            + [x for cmd in plain for x in ("-ex", cmd)] + [c.exe, c.core], True,
            lambda p: check_text_map(p, PAIR_GDB, n_map))
        add("gdb", "gdb + runtime-gdb.py: print 'main.benchMap'", c.gdb(*plain), True,
            lambda p: check_text_map(p, PAIR_GDB, n_map))
    elif task == "typedheap":
        prof = os.path.join(c.out, "typedheap.coretool-pprof.pb.gz")
        add("coretool", "--json heap CORE --by-type", [CORETOOL, "--json", "heap", c.core, "--by-type"], True,
            check_coretool_bytype)
        add("coretool-pprof", "heap CORE --by-type --pprof FILE",
            [CORETOOL, "heap", c.core, "--by-type", "--pprof", prof], True,
            lambda p: check_pprof(prof), artifact=prof)
        add("viewcore", "histogram", c.viewcore("histogram"), True, check_viewcore_histogram)
        add("viewcore-breakdown", "breakdown (memory classes, no types)", c.viewcore("breakdown"), False,
            check_viewcore_breakdown, anchor="viewcore")
        gprof = os.path.join(c.out, "typedheap.grf.pb.gz")
        add("goref", "grf core EXE CORE -o FILE (pprof by reference path)",
            [GRF, "core", c.exe, c.core, "-o", gprof], True, lambda p: check_pprof(gprof, goref=True),
            anchor="grf", artifact=gprof)
    return out


def measure(c, task, spec, reps, timeout, cold):
    path = os.path.join(c.out, "%s.%s.out" % (task, spec["tool"]))
    runs = []
    for i in range(reps):
        if spec.get("pre"):
            subprocess.run(spec["pre"], check=False)
        dropped = drop_caches() if cold else False
        r = run(spec["cmd"], stdin=spec.get("stdin"), stdout=path, timeout=timeout, env=spec.get("env"))
        r["cold"] = dropped
        runs.append(r)
        if r["timed_out"]:
            break
    ok, note = spec["check"](path)
    if runs[-1]["timed_out"]:
        ok, note = False, "killed at the time bound, having printed: " + note
    if not ok and not runs[-1]["timed_out"]:
        err = first_error(path)
        if err and err not in note:
            note += "; " + err
        if runs[-1]["rc"] not in (0, 1):
            note += " (exit %d)" % runs[-1]["rc"]
    walls = [r["wall"] for r in runs]
    return {
        "tool": spec["tool"], "what": spec["what"], "same": spec["same"],
        "runs": runs, "wall": statistics.median(walls), "wall_min": min(walls),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "maxrss_kb": max(r["maxrss_kb"] for r in runs),
        "timed_out": runs[-1]["timed_out"], "ok": ok, "note": note,
        "cold": all(r["cold"] for r in runs), "output": os.path.relpath(path, TOP),
        "artifact": os.path.relpath(spec["artifact"], TOP) if spec.get("artifact") else None,
        "load": loadavg(), "when": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


# ---------------------------------------------------------------- report

def fmt_s(s):
    if s is None:
        return "-"
    if s < 1:
        return "%.0f ms" % (s * 1000)
    if s < 100:
        return "%.2f s" % s
    return "%.0f s" % s


def fmt_mb(kb):
    return "%.0f MB" % (kb / 1024) if kb is not None else "-"


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    return {"nproc": os.cpu_count(), "mem_gib": mem / 1048576, "cpu": cpu,
            "kernel": platform.release(), "load_start": loadavg()}


TARGETS = [
    ("open1", "open + classify one address, cold, multi-GiB core", "≤ 30 ms"),
    ("classify100k", "classify 100,000 addresses", "≤ 0.5 s"),
    ("mapdump", "dump the 1.2M-entry map", "≤ 0.5 s"),
    ("census", "heap census throughput", "≥ 2 GiB of heap per second"),
    ("rss", "peak RSS (every task but the typed heap)", "≤ 5% of the core's size + 50 MB"),
    ("ratio", "vs the fastest anchor that does the same task", "≥ 20× faster"),
    ("typedheap", "typed heap by Go type (`heap --by-type`) vs the fastest of viewcore `histogram` and goref; "
     "its peak RSS", "≥ 10× faster; peak RSS < 20% of the core"),
    ("packed", "triage of the zstd-compressed core, first time",
     "< 3× the raw core's triage + `zstd -d`'s time; peak RSS < 100 MB"),
]


def typedheap_compare(cr):
    """The typed-heap task's outputs side by side: per type and in total, where the tools agree."""
    rows = {r["tool"]: r for r in cr["tasks"].get("typedheap", []) if "wall" in r}
    L = []

    def path(tool, key="output"):
        r = rows.get(tool)
        return os.path.join(TOP, r[key]) if r and r.get(key) else None

    try:
        ct, j = coretool_bytype(path("coretool"))
    except (OSError, ValueError, KeyError, TypeError):
        return L
    if "(untyped)" not in ct and j.get("untyped", {}).get("objects"):
        ct["(untyped)"] = [j["untyped"]["objects"], j["untyped"].get("bytes", 0)]
    vc = vbd = gr = cp = None
    if path("viewcore") and rows["viewcore"]["ok"]:
        vc = viewcore_histogram(path("viewcore"))[0]
    if path("viewcore-breakdown") and rows["viewcore-breakdown"]["ok"]:
        vbd = viewcore_breakdown(path("viewcore-breakdown"))
    for tool in ("goref", "coretool-pprof"):
        p = path(tool, "artifact")
        if p and rows[tool]["ok"]:
            try:
                got = pprof_by_leaf(p, goref=tool == "goref")
            except (OSError, ValueError, zlib.error):
                continue
            if tool == "goref":
                gr = got
            else:
                cp = got

    def cell(d, t):
        e = d.get(t) if d is not None else None
        return ("{:,}".format(e[0]), "{:,}".format(e[1])) if e else ("—", "—")

    def delta(e, ref):
        if not e or not ref:
            return "—"
        if e == ref:
            return "same"
        return "%+d objects, %+d bytes" % (e[0] - ref[0], e[1] - ref[1])

    L.append("What the tools counted (objects, bytes). coretool's types are its `--json` by_type; "
             "viewcore's histogram rows are summed by type, its per-length arrays (`[4096]uint8`, "
             "`[56+8?]uint8`) folded into coretool's `[]T` and its `unkNNN` into `(untyped)`; goref "
             "counts by reference path: its column is the profile's leaf frames `field. (T)` summed by "
             "`T` without the `*`, so an object appears under its type only when goref's path to it "
             "stopped there (the rest of a long chain is under `$sub_objects$`, in the totals).\n")
    L.append("| type | coretool objects | coretool bytes | viewcore objects | viewcore bytes | viewcore − coretool "
             "| goref objects | goref bytes |")
    L.append("|---|---:|---:|---:|---:|---|---:|---:|")
    types = [t for t, _ in sorted(ct.items(), key=lambda kv: -kv[1][1])][:12]
    for extra in ("(untyped)", "map internals"):
        if extra not in types and (extra in ct or (vc and extra in vc)):
            types.append(extra)
    if vc:
        types += [t for t, _ in sorted(vc.items(), key=lambda kv: -kv[1][1]) if t not in types][:3]
    for t in types:
        a, v, g = cell(ct, t), cell(vc, t), cell(gr[0] if gr else None, t)
        L.append("| `%s` | %s | %s | %s | %s | %s | %s | %s |" % (
            t.replace("|", "\\|"), a[0], a[1], v[0], v[1], delta(vc.get(t) if vc else None, ct.get(t)), g[0], g[1]))
    typed, untyped, unr = j.get("typed", {}), j.get("untyped", {}), j.get("unreachable", {})
    reached = [typed.get("objects", 0) + untyped.get("objects", 0), typed.get("bytes", 0) + untyped.get("bytes", 0)]
    vtot = [sum(x[0] for x in vc.values()), sum(x[1] for x in vc.values())] if vc else None
    L.append("| **reached from the roots** | %s | %s | %s | %s | %s | %s | %s |" % (
        "{:,}".format(reached[0]), "{:,}".format(reached[1]),
        "{:,}".format(vtot[0]) if vtot else "—", "{:,}".format(vtot[1]) if vtot else "—", delta(vtot, reached),
        "{:,}".format(gr[1][0]) if gr else "—", "{:,}".format(gr[1][1]) if gr else "—"))
    L.append("| **unreachable (garbage)** | %s | %s | — | %s | %s | — | — |" % (
        "{:,}".format(unr.get("objects", 0)), "{:,}".format(unr.get("bytes", 0)),
        "{:,}".format(vbd["garbage"]) if vbd and "garbage" in vbd else "—",
        "%+d bytes" % (vbd["garbage"] - unr.get("bytes", 0)) if vbd and "garbage" in vbd else "—"))
    L.append("| **allocated (all heap objects)** | %s | %s | — | %s | %s | — | — |" % (
        "{:,}".format(j.get("objects", 0)), "{:,}".format(j.get("bytes", 0)),
        "{:,}".format(vbd["alloc"]) if vbd and "alloc" in vbd else "—",
        "%+d bytes" % (vbd["alloc"] - j.get("bytes", 0)) if vbd and "alloc" in vbd else "—"))
    L.append("")
    notes = []
    if vbd and "live" in vbd:
        notes.append("viewcore's breakdown: live %s bytes, garbage %s bytes" % (
            "{:,}".format(vbd["live"]), "{:,}".format(vbd.get("garbage", 0))))
    if vtot and vtot != reached:
        notes.append("viewcore reached %s fewer bytes (%s fewer objects) than coretool" % (
            "{:,}".format(reached[1] - vtot[1]), "{:,}".format(reached[0] - vtot[0])))
    mi = ct.get("map internals")
    if vtot and mi and abs((reached[1] - vtot[1]) - mi[1]) <= 0.01 * mi[1]:
        notes.append("that is, within 1%%, coretool's `map internals` (the maps' tables, groups or "
                     "buckets): %s bytes in %s objects, which viewcore did not reach" % (
                         "{:,}".format(mi[1]), "{:,}".format(mi[0])))
    if cp:
        same = cp[1] == reached
        notes.append("coretool's pprof profile (`--pprof`, C chunks left out) %s its JSON: %s objects, %s bytes" % (
            "matches" if same else "does not match", "{:,}".format(cp[1][0]), "{:,}".format(cp[1][1])))
    if gr:
        sub = gr[0].get("$sub_objects$")
        notes.append("goref: %s objects (%s bytes) in total, %s of them under `$sub_objects$`" % (
            "{:,}".format(gr[1][0]), "{:,}".format(gr[1][1]), "{:,}".format(sub[0]) if sub else "none"))
    if notes:
        L.append("; ".join(notes) + ".\n")
    return L


def report(res, out_path):
    L = []
    m = res["machine"]
    L.append("# coretool bench results\n")
    L.append("Generated by `make bench` (bench/run.py) on %s. Do not edit: rerun. "
             "What is measured and how: bench/README.md.\n" % res["date"])
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    L.append("| CPU | %s, %d CPUs (nproc) |" % (m["cpu"], m["nproc"]))
    L.append("| RAM | %.1f GiB |" % m["mem_gib"])
    L.append("| kernel | Linux %s |" % m["kernel"])
    L.append("| load average | %s at the start, %s at the end (1/5/15 min) |" % (m["load_start"], res.get("load_end", "?")))
    L.append("| page cache | %s |" % ("dropped before every cold run (`echo 3 > /proc/sys/vm/drop_caches` works here)"
                                      if res["can_drop"] else "could not be dropped: every number is **warm cache**"))
    for a in res["anchors"]:
        L.append("| %s | %s: %s |" % (a, res["anchors"][a][0], res["anchors"][a][1]))
    L.append("| coretool | %s |" % res["coretool_version"])
    L.append("")
    whens = {}
    for cr in res["cores"].values():
        for rows in cr["tasks"].values():
            for r in rows:
                if "wall" in r:
                    side = "coretool" if is_coretool(r["tool"]) else "anchors"
                    whens.setdefault(side, set()).add(r.get("when", "an earlier run (time not recorded)"))
    for side in ("coretool", "anchors"):
        if side in whens:
            w = sorted(whens[side])
            L.append("%s runs measured: %s%s." % (
                "coretool's" if side == "coretool" else "The anchors'",
                w[0] if len(w) == 1 else "%s to %s" % (w[0], w[-1]),
                " (kept from an earlier full run: `run.py --only coretool` re-measures coretool alone)"
                if side == "anchors" and "coretool" in whens and w[-1] < min(whens["coretool"]) else ""))
    L.append("")
    L.append("The machine is shared: other jobs ran during the bench (see the load average); "
             "wall times are what a user would have felt at that moment, CPU (user+sys) is "
             "the work itself. coretool's times are the median of %d runs (min in brackets); anchors "
             "ran %s.\n" % (res["reps"], "once per task (three times, cold, for task 1)"))
    for tc, cr in res["cores"].items():
        t = cr["truth"]
        L.append("## %s core (%s, %s maps)\n" % (tc, t["go_version"], t["map_impl"]))
        gh = t["go_heap"]
        L.append("core `build/bench/%s/core`: %.2f GiB (%.2f GiB on disk); live Go heap %.2f GiB in %s objects "
                 "(runtime.MemStats after a full GC); `main.benchMap` map[int]int with %s entries; "
                 "C heap: %s malloc'd chunks, %s freed; %d goroutines.\n" % (
                     tc, cr["size"] / 2**30, cr["disk"] / 2**30, gh["heap_alloc"] / 2**30,
                     "{:,}".format(gh["heap_objects"]), "{:,}".format(t["map"]["count"]),
                     "{:,}".format(t["c_heap"]["chunks"]), "{:,}".format(t["c_heap"]["freed"]), t["goroutines"]))
        for task, title in TASKS:
            rows = cr["tasks"].get(task)
            if not rows:
                continue
            L.append("### %s\n" % title)
            L.append("| tool | what it ran | wall | CPU | peak RSS | anchor ÷ coretool: wall (CPU) | result |")
            L.append("|---|---|---:|---:|---:|---:|---|")
            ct = next((r for r in rows if r["tool"] == "coretool" and "wall" in r), None)
            for r in rows:
                if "cannot" in r:
                    L.append("| %s | — | — | — | — | — | cannot: %s |" % (r["tool"], r["cannot"]))
                    continue
                if "unavailable" in r:
                    L.append("| %s | `%s` | — | — | — | — | not installed (see Machine) |" % (r["tool"], r["what"]))
                    continue
                wall = fmt_s(r["wall"])
                if is_coretool(r["tool"]) and len(r["runs"]) > 1:
                    wall += " [%s]" % fmt_s(r["wall_min"])
                if r["timed_out"]:
                    wall = "> %s (killed)" % fmt_s(r["wall"])
                ratio = "—"
                if not is_coretool(r["tool"]) and ct:
                    x = r["wall"] / ct["wall"]
                    xc = r["cpu"] / ct["cpu"] if ct["cpu"] else 0
                    ratio = "%s%s× (%s×)" % (">" if r["timed_out"] else "", ("%.1f" if x < 10 else "%.0f") % x,
                                             ("%.1f" if xc < 10 else "%.0f") % xc)
                    if not r["same"]:
                        ratio += " (lesser task)"
                    elif not r["ok"]:
                        ratio += " (failed)"
                res_txt = ("ok: " if r["ok"] else "**FAILED**: ") + r["note"]
                if r.get("warm_runs"):
                    res_txt += "; warm: %s [%s]" % (fmt_s(r["warm_runs"]["wall"]), fmt_s(r["warm_runs"]["wall_min"]))
                L.append("| %s | `%s` | %s | %s | %s | %s | %s |" % (
                    r["tool"], r["what"].replace("|", "\\|"), wall, fmt_s(r["cpu"]), fmt_mb(r["maxrss_kb"]), ratio,
                    res_txt.replace("|", "\\|")))
            L.append("")
            if task == "typedheap":
                L += typedheap_compare(cr)
    # targets
    L.append("## Targets\n")
    L.append("| target | goal | %s | met? |" % " | ".join(res["cores"].keys()))
    L.append("|---|---|%s---|" % ("---:|" * len(res["cores"])))
    for key, name, goal in TARGETS:
        vals, mets = [], []
        for tc, cr in res["cores"].items():
            v, met = target_value(key, cr)
            vals.append(v + ("" if met is None else " ✓" if met else " ✗"))
            mets.append(met)
        verdict = ("yes" if all(x is True for x in mets) else "no" if all(x is False for x in mets)
                   else "n/a" if all(x is None for x in mets) else "partly")
        L.append("| %s | %s | %s | %s |" % (name, goal, " | ".join(vals), verdict))
    L.append("")
    if os.path.exists(ANALYSIS):
        with open(ANALYSIS) as f:
            L.append(f.read().rstrip() + "\n")
    with open(out_path, "w") as f:
        f.write("\n".join(L))


def target_value(key, cr):
    tasks = cr["tasks"]

    def ct(task):
        return next((r for r in tasks.get(task, []) if r["tool"] == "coretool" and "wall" in r), None)

    if key == "open1":
        r = ct("open1")
        rc = next((x for x in tasks.get("open1", []) if x["tool"] == "coretool-cached" and "wall" in x), None)
        if not r:
            return ("-", None)
        v = "%s (CPU %s)" % (fmt_s(r["wall"]), fmt_s(r["cpu"]))
        if rc:
            v += "; index cached: %s (CPU %s)" % (fmt_s(rc["wall"]), fmt_s(rc["cpu"]))
        return (v, r["wall"] <= 0.030)
    if key in ("classify100k", "mapdump"):
        r = ct(key)
        return ("%s (CPU %s)" % (fmt_s(r["wall"]), fmt_s(r["cpu"])), r["wall"] <= 0.5) if r else ("-", None)
    if key == "census":
        r = ct("census")
        if not r:
            return ("-", None)
        gibs = cr["truth"]["go_heap"]["heap_alloc"] / 2**30 / r["wall"]
        return ("%.1f GiB/s" % gibs, gibs >= 2)
    if key == "rss":
        limit_kb = (cr["size"] * 0.05 + 50e6) / 1024
        worst = max((r for k, t in tasks.items() if k not in OWN_TARGETS for r in t if is_coretool(r["tool"]) and "wall" in r),
                    key=lambda r: r["maxrss_kb"], default=None)
        if worst is None:
            return ("-", None)
        worst_task = next(k for k, t in tasks.items() if worst in t)
        return ("%s max (%s), limit %s" % (fmt_mb(worst["maxrss_kb"]), worst_task, fmt_mb(limit_kb)),
                worst["maxrss_kb"] <= limit_kb)
    if key == "typedheap":
        r = ct("typedheap")
        if not r:
            return ("-", None)
        anchors = [x for x in tasks.get("typedheap", []) if not is_coretool(x["tool"]) and "wall" in x
                   and x["same"] and (x["ok"] or x["timed_out"])]
        share = r["maxrss_kb"] * 1024 / cr["size"]
        v = "%s (CPU %s), peak RSS %s = %.0f%% of the core" % (fmt_s(r["wall"]), fmt_s(r["cpu"]),
                                                             fmt_mb(r["maxrss_kb"]), 100 * share)
        if not anchors:
            return (v + "; no anchor did the task", None)
        best = min(anchors, key=lambda x: x["wall"])
        x = best["wall"] / r["wall"]
        xc = best["cpu"] / r["cpu"] if r["cpu"] else 0
        v += "; %s%.1f× wall, %.1f× CPU (%s)" % (">" if best["timed_out"] else "", x, xc, best["tool"])
        return (v, x >= 10 and share < 0.2)
    if key == "packed":
        r, raw = ct("packed"), ct("triage")
        z = next((x for x in tasks.get("packed", []) if x["tool"] == "zstd" and "wall" in x), None)
        if not r or not raw or not z:
            return ("-", None)
        bound = 3 * raw["wall"] + z["wall"]
        return ("%s, peak RSS %s (bound %s = 3 × %s + zstd -d %s)" % (
            fmt_s(r["wall"]), fmt_mb(r["maxrss_kb"]), fmt_s(bound), fmt_s(raw["wall"]), fmt_s(z["wall"])),
            r["wall"] < bound and r["maxrss_kb"] < 100 * 1024)
    if key == "ratio":
        parts, mets = [], []
        for task, _ in TASKS:
            c = ct(task)
            if task in OWN_TARGETS:
                continue
            anchors = [r for r in tasks.get(task, []) if not is_coretool(r["tool"]) and "wall" in r
                       and r["same"] and (r["ok"] or r["timed_out"])]
            if not c or not anchors:
                continue
            best = min(anchors, key=lambda r: r["wall"])
            x = best["wall"] / c["wall"]
            xc = best["cpu"] / c["cpu"] if c["cpu"] else 0
            parts.append("%s %s%s× wall, %s× CPU (%s)" % (task, ">" if best["timed_out"] else "",
                                                         ("%.1f" if x < 10 else "%.0f") % x,
                                                         ("%.1f" if xc < 10 else "%.0f") % xc, best["tool"]))
            mets.append(x >= 20)
        if not parts:
            return ("no anchor did a task", None)
        return ("; ".join(parts), all(mets))
    return ("-", None)


# ---------------------------------------------------------------- main

def recheck(out_path):
    with open(os.path.join(BUILD, "results.json")) as f:
        res = json.load(f)
    anchors = res.get("anchors", {})
    for tc, cr in res["cores"].items():
        c = Core(tc)
        for task, rows in cr["tasks"].items():
            by_tool = {s["tool"]: s for s in specs(c, task, anchors)}
            for r in rows:
                s = by_tool.get(r["tool"])
                if "wall" not in r or not s or "check" not in s:
                    continue
                path = os.path.join(TOP, r["output"])
                r["ok"], r["note"] = s["check"](path)
                if r["timed_out"]:
                    r["ok"], r["note"] = False, "killed at the time bound, having printed: " + r["note"]
                    continue
                if not r["ok"]:
                    err = first_error(path)
                    if err and err not in r["note"]:
                        r["note"] += "; " + err
    with open(os.path.join(BUILD, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    report(res, out_path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--toolchains", default=os.environ.get("BENCH_TOOLCHAINS", "go1.26 go1.23").replace(",", " "))
    ap.add_argument("--only", choices=["coretool", "anchors"])
    ap.add_argument("--tasks", default=",".join(t for t, _ in TASKS))
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("BENCH_TIMEOUT", 600)))
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", 5)))
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "RESULTS.md"))
    ap.add_argument("--recheck", action="store_true",
                    help="no runs: re-check the last run's outputs and re-render the results")
    a = ap.parse_args()
    tasks = a.tasks.split(",")
    if a.recheck:
        recheck(a.out)
        return

    anchors = {}
    try:
        with open(os.path.join(BUILD, "anchors.txt")) as f:
            for line in f:
                name, st, detail = line.rstrip("\n").split("\t", 2)
                anchors[name] = (st, detail)
    except OSError:
        pass
    # The reference for the packed task: the real zstd's own decompression.
    zv = subprocess.run(["zstd", "--version"], capture_output=True, text=True)
    anchors["zstd"] = ("ok", zv.stdout.strip()) if zv.returncode == 0 else ("unavailable", "zstd not installed")
    prev = {}
    try:
        with open(os.path.join(BUILD, "results.json")) as f:
            prev = json.load(f)
    except (OSError, ValueError):
        pass

    res = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M %Z"), "reps": a.reps,
           "anchors": anchors, "cores": {}, "can_drop": drop_caches(),
           "coretool_version": subprocess.run(["git", "-C", TOP, "log", "-1", "--format=%h %s"],
                                              capture_output=True, text=True).stdout.strip()[:80]
           + (" (+ uncommitted changes)" if subprocess.run(["git", "-C", TOP, "status", "--porcelain", "coretool"],
                                                          capture_output=True, text=True).stdout.strip() else "")}
    for tc in a.toolchains.replace(",", " ").split():
        c = Core(tc)
        cr = {"truth": c.truth, "size": c.size, "disk": c.disk, "tasks": {}}
        if a.only != "anchors":  # warm the index cache (and the page cache) once
            run([CORETOOL, "info", c.core], env=CACHED)
        old = prev.get("cores", {}).get(tc, {}).get("tasks", {})
        for task in [t for t, _ in TASKS]:
            rows = []
            for spec in specs(c, task, anchors):
                side = "coretool" if is_coretool(spec["tool"]) else "anchors"
                if task not in tasks or (a.only and a.only != side):
                    keep = next((r for r in old.get(task, []) if r["tool"] == spec["tool"]), None)
                    if keep:
                        rows.append(keep)
                    continue
                if "cmd" not in spec:
                    rows.append(spec)
                    continue
                cold = task == "open1"
                reps = a.reps if is_coretool(spec["tool"]) else (3 if cold else 1)
                sys.stderr.write("bench: %s %s %s ... " % (tc, task, spec["tool"]))
                sys.stderr.flush()
                r = measure(c, task, spec, reps, a.timeout, cold)
                if cold and is_coretool(spec["tool"]):
                    w = measure(c, task, spec, reps, a.timeout, False)
                    r["warm_runs"] = {"wall": w["wall"], "wall_min": w["wall_min"], "cpu": w["cpu"]}
                sys.stderr.write("%s%s, cpu %s, rss %s, %s\n" % ("> " if r["timed_out"] else "", fmt_s(r["wall"]),
                                                                 fmt_s(r["cpu"]), fmt_mb(r["maxrss_kb"]),
                                                                 ("ok" if r["ok"] else "FAILED") + ": " + r["note"]))
                rows.append(r)
            cr["tasks"][task] = rows
        res["cores"][tc] = cr
    res["load_end"] = loadavg()
    # toolchains not run this time keep their last results (in the usual order)
    merged = {}
    for tc in list(prev.get("cores", {})) + list(res["cores"]):
        if tc in res["cores"]:
            merged[tc] = res["cores"][tc]
        elif tc in prev.get("cores", {}):
            merged[tc] = prev["cores"][tc]
    order = ["go1.26", "go1.23"]
    res["cores"] = dict(sorted(merged.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
    for tc, cr in res["cores"].items():
        for rows in cr["tasks"].values():
            for r in rows:
                r.pop("check", None)
                r.pop("cmd", None)
    with open(os.path.join(BUILD, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    report(res, a.out)
    sys.stderr.write("bench: wrote %s\n" % os.path.relpath(a.out, TOP))


if __name__ == "__main__":
    main()
