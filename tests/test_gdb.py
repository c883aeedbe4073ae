"""The gdb front end (gdbext/coretool-gdb.py) on the sample cores of every
toolchain and on live sample processes: the Go map printers against the maps
each program recorded about itself, `coretool classify` and `coretool triage`
against the recorded truth and the CLI, the printers' precedence over Go's own
runtime-gdb.py in both load orders, the layout view, `print elements`, errors
as one line, and a map damaged in a live process.

gdb runs in batch mode (`gdb -nx -batch`); a driver script (Python inside gdb)
runs the commands through gdb.execute and writes what they printed to a JSON
file, except for the tests that read the real `print` output on stdout.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import textwrap

import pytest

from conftest import ROOT, all_samples, run, run_json, run_jsonl
from test_classify import check as check_address

GDB = shutil.which("gdb")
ENTRY = ROOT / "gdbext" / "coretool-gdb.py"
LIB = ROOT / "build" / "libcoretool.so"
TOOLCHAINS = ROOT / "build" / "toolchains"
SAMPLES = ROOT / "build" / "samples"


def _gdb_python_ok() -> bool:
    if not GDB:
        return False
    p = subprocess.run([GDB, "-nx", "-batch", "-ex", "python print(6*7)"],
                       capture_output=True, text=True, timeout=60)
    return "42" in p.stdout


if not _gdb_python_ok():
    pytest.skip("gdb with Python support is not installed", allow_module_level=True)

GDB_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", CORETOOL_LIB=str(LIB))
# Settings that make `print` output parseable: one line, everything shown.
PLAIN_PRINT = ["set pagination off", "set width 0", "set height 0", "set print pretty off",
               "set print elements unlimited", "set print repeats unlimited",
               "set charset UTF-8", "set confirm off"]


def maps_samples():
    return [s for s in all_samples() if s.is_go and s.scenario == "maps"]


def toolchain_ids():
    return [s.toolchain for s in maps_samples()]


def runtime_gdb(toolchain: str) -> pathlib.Path:
    return TOOLCHAINS / toolchain / "src" / "runtime" / "runtime-gdb.py"


def run_gdb(args, commands, timeout=300):
    """gdb -nx -batch -ex COMMAND... ARGS; the CompletedProcess. gdb itself
    must not crash whatever we do."""
    argv = [GDB, "-nx", "-batch"]
    for c in commands:
        argv += ["-ex", c]
    p = subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=GDB_ENV, cwd=ROOT)
    assert "Fatal signal" not in p.stderr, f"gdb crashed:\n{p.stderr[-3000:]}"
    return p


def driver(tmp_path, body: str, args, post_setup=(), timeout=300):
    """Runs `body` (Python, inside gdb, after our entry file and the commands
    post_setup) which fills the dict `R` (cmd(c) runs a gdb command and gives
    {"out"} or {"error"}); returns R, written to a file by the driver."""
    out = tmp_path / "result.json"
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""\
        import json, gdb
        R = {}
        def cmd(c):
            try:
                return {"out": gdb.execute(c, to_string=True)}
            except gdb.error as e:
                return {"error": str(e)}
        try:
        %s
        finally:
            with open(%r, "w") as f:
                json.dump(R, f)
        """) % (textwrap.indent(textwrap.dedent(body), "    "), str(out)))
    cmds = [f"source {ENTRY}"] + list(post_setup) + [f"source {script}"]
    p = run_gdb(args, cmds, timeout=timeout)
    assert out.exists(), f"the gdb driver did not finish:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    res = json.loads(out.read_text())
    res["_stdout"], res["_stderr"] = p.stdout, p.stderr
    return res


# ---- comparing values with the ground truth ----

def canon(v):
    """A hashable canonical form of a value as the truth writes it, with the
    printer's nested maps ({"to_string", "entries"}) and the truth's
    ({"addr", "count", "entries", ...}) both reduced to their entries."""
    if isinstance(v, dict) and "entries" in v and ("to_string" in v or "key_type" in v):
        return ("map", tuple(sorted(canon_entry(e) for e in v["entries"])))
    if isinstance(v, dict):
        return ("obj", tuple(sorted((k, canon(x)) for k, x in v.items())))
    if isinstance(v, list):
        return ("list", tuple(canon(x) for x in v))
    if isinstance(v, str) and v.startswith("0x"):
        return ("ptr", int(v, 16))
    if isinstance(v, bool):
        return ("bool", v)
    return ("v", repr(v))


def canon_entry(e):
    return repr((canon(e["key"]), canon(e["value"])))


def assert_entries_equal(name, got_entries, truth_entries):
    got = sorted(canon_entry(e) for e in got_entries)
    want = sorted(canon_entry(e) for e in truth_entries)
    if got != want:
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        pytest.fail(f"{name}: {len(got)} entries printed, {len(want)} recorded; "
                    f"missing {missing}; unexpected {extra}")


def check_map_json(m, got):
    """A recorded map against `coretool map-json` of it."""
    name = m["name"]
    assert "error" not in got, f"{name}: {got}"
    data = json.loads(got["out"])
    # the type as Go names it (a named map type: main.Header), as Go's printer shows it
    type_name = m.get("type") or f"map[{m['key_type']}]{m['elem_type']}"
    assert data["type"] == type_name, name
    if m.get("nil"):
        assert data["to_string"] == f"{type_name} <nil>", name
        assert data["entries"] == []
        return
    assert data["to_string"] == type_name, name  # Go's format: no <len N> unless verbose
    assert "stopped" not in data and "damaged" not in data, (name, data)
    assert_entries_equal(name, data["entries"], m["entries"])


MAP_JSON_BODY = """
for name in NAMES:
    R[name] = cmd("coretool map-json " + name)
"""


# ---- the printers on the cores of every toolchain ----

@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_map_printer_children_match_truth(case, tmp_path):
    """Every recorded map, through the printer's children (gdb.Values)."""
    sample = case
    maps = sample.truth["maps"]
    names = [m["name"] for m in maps]
    res = driver(tmp_path, f"NAMES = {names!r}\n" + MAP_JSON_BODY, [sample.exe, sample.core])
    for m in maps:
        check_map_json(m, res[m["name"]])
    assert any(m["count"] >= 3000 for m in maps), "the 3000-entry map is missing"


# A parser of gdb's value syntax as `print` writes it with PLAIN_PRINT:
# "str", 12, -1.5, true, {a, b}, {F = v, G = w}, map[K]V = {[k] = v, ...} (Go's format;
# `map[K]V <len N> = ...` with `set coretool verbose on`)."
_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
        "e": "\x1b", '"': '"', "\\": "\\", "'": "'"}


class PrintParser:
    def __init__(self, text: str):
        self.s, self.i = text, 0

    def error(self, what: str):
        raise AssertionError(f"cannot parse gdb output at {self.i} ({what}): "
                             f"...{self.s[max(0, self.i - 60):self.i + 60]!r}")

    def peek(self, t: str) -> bool:
        return self.s.startswith(t, self.i)

    def eat(self, t: str):
        if not self.peek(t):
            self.error(f"expected {t!r}")
        self.i += len(t)

    def value(self):
        if self.peek('"'):
            return self.string()
        if self.peek("map["):
            return self.map_value()
        if self.peek("{"):
            return self.braces()
        for word, v in (("true", True), ("false", False)):
            if self.peek(word):
                self.i += len(word)
                return v
        m = re.compile(r"-?(0x[0-9a-f]+|\d+(\.\d+)?(e[-+]?\d+)?)").match(self.s, self.i)
        if not m:
            self.error("a value")
        self.i = m.end()
        t = m.group(0)
        return t if "0x" in t else (float(t) if "." in t or "e" in t else int(t))

    def string(self) -> str:
        self.eat('"')
        out = bytearray()
        while not self.peek('"'):
            c = self.s[self.i]
            if c == "\\":
                n = self.s[self.i + 1]
                m = re.compile(r"[0-7]{1,3}").match(self.s, self.i + 1)
                if m:
                    out.append(int(m.group(0), 8))
                    self.i = m.end()
                    continue
                out += _ESC[n].encode()
                self.i += 2
                continue
            out += c.encode()
            self.i += 1
        self.i += 1
        return out.decode("utf-8")

    def map_value(self):
        m = re.compile(r"(map\[.*?\]\S*)( <(len (\d+)|nil)>)?").match(self.s, self.i)
        if not m:
            self.error("a map header")
        self.i = m.end()
        out = {"to_string": m.group(0), "entries": []}
        if self.peek(" = {"):
            self.eat(" = ")
            self.eat("{")
            while not self.peek("}"):
                self.eat("[")
                k = self.value()
                self.eat("] = ")
                out["entries"].append({"key": k, "value": self.value()})
                if self.peek(", "):
                    self.i += 2
            self.i += 1
        return out

    def braces(self):
        self.eat("{")
        items, fields = [], {}
        while not self.peek("}"):
            m = re.compile(r"([A-Za-z_]\w*) = ").match(self.s, self.i)
            if m:
                self.i = m.end()
                fields[m.group(1)] = self.value()
            else:
                items.append(self.value())
            if self.peek(", "):
                self.i += 2
            elif not self.peek("}"):
                self.error("',' or '}'")
        self.i += 1
        if fields and items:
            self.error("fields and elements mixed")
        return fields if fields else items


def parse_prints(stdout: str):
    """{$N: parsed value} of every `$N = ...` line."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r"^\$(\d+) = (.*)$", line)
        if m:
            p = PrintParser(m.group(2))
            out[int(m.group(1))] = p.value()
            assert p.i == len(p.s), f"trailing text: {m.group(2)[p.i:p.i + 80]!r}"
    return out


# The maps whose keys and values `print` renders in plain Go-like syntax (no
# pointers): ints, strings (UTF-8), bools, structs, arrays, values > 128 bytes.
PRINTABLE = ("main.bigIntMap", "main.smallMap", "main.int64StrMap", "main.strMap",
             "main.bigKVMap", "main.structMap", "main.flagMap", "main.tombMap",
             "main.growingMap", "main.emptyMap", "main.cfg.byName")


def print_commands(names):
    cmds = []
    for n in names:
        head, _, field = n.partition(".cfg.")
        cmds.append(f"print 'main.cfg'.{field}" if field else f"print '{n}'")
    return cmds


def check_printed(sample, stdout, names):
    got = parse_prints(stdout)
    maps = {m["name"]: m for m in sample.truth["maps"]}
    assert len(got) == len(names), stdout[-2000:]
    for i, name in enumerate(names, 1):
        m, v = maps[name], got[i]
        assert v["to_string"] == (m.get("type") or f"map[{m['key_type']}]{m['elem_type']}")
        assert_entries_equal(name, v["entries"], m["entries"])


@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_print_command_output_matches_truth(case):
    """The real `print` output: the 3000-entry map (several Swiss tables) in
    full, strings, structs, and keys and values > 128 bytes."""
    sample = case
    names = [n for n in PRINTABLE if any(m["name"] == n for m in sample.truth["maps"])]
    p = run_gdb([sample.exe, sample.core],
                [f"source {ENTRY}"] + PLAIN_PRINT + print_commands(names))
    check_printed(sample, p.stdout, names)
    assert "Traceback" not in p.stderr and "Python Exception" not in p.stderr, p.stderr[-2000:]


@pytest.mark.parametrize("order", ["go-first", "ours-first"])
@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_ours_win_over_runtime_gdb(case, order):
    """Go's runtime-gdb.py sourced before or after ours: our printer prints
    the maps (Go's own fails on multi-table Swiss maps)."""
    sample = case
    go = runtime_gdb(sample.toolchain)
    assert go.exists(), go
    ours = f"source {ENTRY}"
    first = [f"source {go}", ours] if order == "go-first" else [ours, f"source {go}"]
    names = ["main.bigIntMap", "main.bigKVMap", "main.smallMap"]
    p = run_gdb([sample.exe, sample.core],
                first + PLAIN_PRINT + print_commands(names) + ["info pretty-printer"])
    assert "Loading Go Runtime support" in p.stderr + p.stdout
    check_printed(sample, p.stdout, names)
    # our printer is first in the executable's list, where Go's lives
    listing = p.stdout[p.stdout.index("objfile "):]
    assert re.search(r"pretty-printers:\n  coretool\n", listing), listing


@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_print_elements_limit(case):
    """`print elements` bounds the walk: N children shown, then '...'."""
    sample = case
    p = run_gdb([sample.exe, sample.core],
                [f"source {ENTRY}", "set print elements 10", "print 'main.bigIntMap'",
                 "set print elements 1", "print 'main.smallMap'"])
    lines = [l for l in p.stdout.splitlines() if l.startswith("$")]
    assert len(lines) == 2, p.stdout
    assert lines[0].startswith("$1 = map[int]int = {") and lines[0].endswith("...}")
    assert len(re.findall(r"\[-?\d+\] = -?\d+", lines[0])) == 5, lines[0]
    # one child: the first key (its string cut to one character too), no value
    assert re.search(r' = \{\["\w"\.\.\.\] = \.\.\.\}$', lines[1]), lines[1]


@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_verbose_adds_len(case):
    """Go's format by default (`map[K]V = {...}`, as runtime-gdb_test.go
    expects); `set coretool verbose on` adds the recorded count as <len N>."""
    sample = case
    names = ["main.smallMap", "main.bigIntMap"]
    p = run_gdb([sample.exe, sample.core],
                [f"source {ENTRY}"] + PLAIN_PRINT + print_commands(names)
                + ["set coretool verbose on"] + print_commands(names))
    got = parse_prints(p.stdout)
    maps = {m["name"]: m for m in sample.truth["maps"]}
    for i, name in enumerate(names):
        m = maps[name]
        t = f"map[{m['key_type']}]{m['elem_type']}"
        assert got[i + 1]["to_string"] == t, p.stdout[-2000:]
        assert got[i + 1 + len(names)]["to_string"] == f"{t} <len {m['count']}>"
        for v in (got[i + 1], got[i + 1 + len(names)]):
            assert_entries_equal(name, v["entries"], m["entries"])


@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_layout_view(case, tmp_path):
    """`set coretool map-layout on`: every bucket/group the CLI's --layout
    lists, each followed by its live entries, and the entries are the map's."""
    sample = case
    rc, cli, err = run_json(["map", sample.core, "main.bigIntMap", "--layout"])
    assert rc == 0, err
    if cli["impl"] == "swiss":
        units = sum(len(t["groups"]) for t in cli["tables"]) + len(cli["tables"]) * 2
    else:
        units = len(cli["buckets"])
    body = """
gdb.execute("set coretool map-layout on")
gdb.execute("set print elements unlimited")
pp = gdb.default_visualizer(gdb.parse_and_eval("'main.bigIntMap'"))
R["to_string"] = pp.to_string()
kids = list(pp.children())
R["keys"] = [k if isinstance(k, str) else int(k) for _, k in kids[0::2]]
R["values"] = [v if isinstance(v, str) else int(v) for _, v in kids[1::2]]
R["show"] = cmd("show coretool map-layout")
"""
    res = driver(tmp_path, body, [sample.exe, sample.core])
    assert "is on" in res["show"]["out"]
    labels = [k for k in res["keys"] if isinstance(k, str)]
    assert len(labels) == units, labels[:10]
    entries = [{"key": k, "value": v} for k, v in zip(res["keys"], res["values"])
               if not isinstance(k, str)]
    m = next(m for m in sample.truth["maps"] if m["name"] == "main.bigIntMap")
    assert_entries_equal("main.bigIntMap", entries, m["entries"])
    kind = "group" if cli["impl"] == "swiss" else "bucket"
    assert any(l.startswith(kind) for l in labels)
    desc = next(v for k, v in zip(res["keys"], res["values"])
                if isinstance(k, str) and k.startswith(kind))
    assert re.match(r"(ctrl|tophash) ([0-9a-f]{2}|--|__|\.\.|DD|eX|eY|e_) ", desc), desc
    # every bucket's/group's slot marks are the CLI's (one legend, the library's)
    text = run(["map", sample.core, "main.bigIntMap", "--layout"])[1]
    cli_marks = {int(a, 16): m.strip() for a, m in re.findall(
        r"(0x[0-9a-f]+) +(?:ctrl|tophash) ((?:\S\S )+) ", text)}
    seen = 0
    for k, v in zip(res["keys"], res["values"]):
        m = isinstance(k, str) and re.match(r"(?:old )?(?:group|bucket) .*?(0x[0-9a-f]+)$", k)
        if m:
            marks = re.match(r"(?:ctrl|tophash) ((?:\S\S )+) ", v).group(1).strip()
            assert marks == cli_marks[int(m.group(1), 16)], (k, v)
            seen += 1
    assert seen == len(cli_marks) > 0


def test_disable_pretty_printer():
    """`disable pretty-printer global coretool;map` gives gdb's own view back;
    `info pretty-printer` lists our subprinters."""
    s = maps_samples()[-1]
    p = run_gdb([s.exe, s.core],
                [f"source {ENTRY}", "info pretty-printer", "print 'main.smallMap'",
                 "disable pretty-printer global coretool;map", "print 'main.smallMap'",
                 "enable pretty-printer global coretool;map", "print 'main.smallMap'"])
    assert re.search(r"  coretool\n    chan\n    interface\n    map\n    slice\n    string", p.stdout)
    printed = [l for l in p.stdout.splitlines() if l.startswith("$")]
    assert printed[0].startswith("$1 = map[string]int = {")
    assert re.match(r"\$2 = \(map\[string\]int\) 0x[0-9a-f]+$", printed[1]), printed[1]
    assert printed[2].startswith("$3 = map[string]int = {")


# ---- commands: classify and triage against the truth and the CLI ----

_SAMPLE_RUNS = {}


def sample_commands(sample):
    """One gdb run per sample core: `coretool classify --json` of every
    recorded address and `coretool triage` (JSON and text), cached for the
    tests below."""
    key = str(sample.dir)
    if key not in _SAMPLE_RUNS:
        addrs = [a["addr"] for a in sample.truth.get("addresses", [])]
        body = f"""
for a in {addrs!r}:
    R[a] = cmd("coretool classify --json " + a)
R["triage"] = cmd("coretool triage --json")
R["triage_text"] = cmd("coretool triage")
"""
        tmp = pathlib.Path(tempfile.mkdtemp(prefix="test_gdb_"))
        try:
            _SAMPLE_RUNS[key] = driver(tmp, body, [sample.exe, sample.core])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _SAMPLE_RUNS[key]


def classify_cases():
    return [pytest.param(s, id=repr(s)) for s in all_samples() if s.truth.get("addresses")]


@pytest.mark.parametrize("case", classify_cases())
def test_classify_matches_truth_and_cli(case):
    """`coretool classify` on every recorded address: the CLI's verdict, and
    the recorded region and state."""
    sample = case
    truths = sample.truth["addresses"]
    res = sample_commands(sample)
    rc, cli, err = run_jsonl(["classify", sample.core] + [a["addr"] for a in truths])
    errs = []
    for t, c in zip(truths, cli):
        got = res[t["addr"]]
        assert "error" not in got, (t["addr"], got)
        g = json.loads(got["out"])
        assert g == c, f"{t['addr']}: gdb and the CLI disagree:\n{g}\n{c}"
        errs += check_address(t, g)
    assert not errs, "\n".join(errs)


def triage_cases():
    return [pytest.param(s, id=repr(s)) for s in all_samples() if s.truth.get("crash")]


@pytest.mark.parametrize("case", triage_cases())
def test_triage_same_as_cli(case):
    """`coretool triage`: the CLI's class (the recorded one), signature and verdict."""
    sample = case
    res = sample_commands(sample)
    assert "error" not in res["triage"], res["triage"]
    got = json.loads(res["triage"]["out"])
    rc, cli, err = run_json(["triage", sample.core])
    assert got["class"] == cli["class"] == sample.truth["crash"]["class"]
    assert got["signature"] == cli["signature"]
    assert got["verdict"] == cli["verdict"]
    assert res["triage_text"]["out"].startswith("core:")


def test_other_verbs_same_as_cli(tmp_path):
    """maps, map, heap (by size class and by type), info, goroutines (and
    --leaks), bt, cgocheck, retain: the CLI's JSON, as is."""
    s = maps_samples()[-1]
    verbs = {"maps": ["maps"], "heap": ["heap", "--top", "5"], "info": ["info"],
             "goroutines": ["goroutines"], "bt": ["bt"], "cgocheck": ["cgocheck"],
             "map": ["map", "main.cfg.byName", "--limit", "2"],
             "heap_by_type": ["heap", "--by-type", "--top", "5"],
             "leaks": ["goroutines", "--leaks"]}
    # a map header the program recorded: retain of it in gdb and in the CLI
    header = next(m["addr"] for m in s.truth["maps"] if m.get("addr") and m.get("count"))
    verbs["retain"] = ["retain", header]
    body = "\n".join(f'R[{k!r}] = cmd("coretool " + {" ".join(v)!r} + " --json")'
                     for k, v in verbs.items())
    run_json(["info", s.core])  # the DWARF cache warm for both (info says hit or stored)
    res = driver(tmp_path, body, [s.exe, s.core])
    for k, v in verbs.items():
        rc, cli, err = run_json([v[0], s.core] + v[1:])
        if k == "cgocheck" and rc == 64:  # the library has no such verb yet
            assert "not available" in res[k]["error"]
            continue
        assert "error" not in res[k], (k, res[k])
        assert json.loads(res[k]["out"]) == cli, k


# ---- errors: one line, never a traceback ----

def test_errors_are_one_line(tmp_path):
    s = maps_samples()[-1]
    bad = ["coretool classify nosuch.variable", "coretool classify 'main.cfg'",
           "coretool classify 1 +", "coretool map 'main.smallMap' --limit x",
           "coretool map 42", "coretool map --bogus 'main.smallMap'", "coretool heap extra",
           "coretool nosuchverb", "coretool map-json 'main.mapNames'"]
    body = f"""
for c in {bad!r}:
    R[c] = cmd(c)
"""
    res = driver(tmp_path, body, [s.exe, s.core])
    for c in bad:
        assert "error" in res[c], (c, res[c])
        msg = res[c]["error"]
        assert "\n" not in msg.strip() and msg.strip(), (c, msg)
    for stream in ("_stdout", "_stderr"):
        assert "Traceback" not in res[stream] and "Python Exception" not in res[stream], \
            res[stream][-2000:]
    # no target at all
    res = driver(tmp_path, 'R["maps"] = cmd("coretool maps")\n'
                           'R["print"] = cmd("help coretool")\n', [])
    assert "no process and no core file" in res["maps"]["error"]
    assert "coretool map EXPR" in res["print"]["out"]


# ---- a live process (ct_open_memory over gdb's reads) ----

LIVE_BODY = """
import struct
gdb.execute("run")
R["frame"] = gdb.selected_frame().name()
for name in NAMES:
    R[name] = cmd("coretool map-json " + name)
# this run's addresses: its truth.json is written before the breakpoint
T = json.load(open(TRUTH))
big = next(m for m in T["maps"] if m["name"] == "main.bigIntMap")
R["classify"] = cmd("coretool classify --json " + big["addr"])
R["maps"] = cmd("coretool maps --json")
R["map"] = cmd("coretool map main.smallMap")
R["triage"] = cmd("coretool triage")
gdb.execute("set print elements unlimited")
pp = gdb.default_visualizer(gdb.parse_and_eval("'main.bigIntMap'"))
R["big_to_string"] = pp.to_string()
R["big_children"] = sum(1 for _ in pp.children()) // 2
# Damage the map in the live process: a wild pointer where the walk must go
# through (the third table of the Swiss directory, or a bucket's overflow
# pointer; the test knows these fields from gdb's view of the map's DWARF).
h = gdb.parse_and_eval("'main.bigIntMap'").dereference()
fields = [f.name for f in h.type.strip_typedefs().fields()]
if "dirPtr" in fields:
    slot = int(h["dirPtr"]) + 8 * 2
else:  # the first bucket with an overflow bucket: that one's entries are lost
    i = 0
    while int((h["buckets"] + i).dereference()["overflow"]) == 0:
        i += 1
    slot = int((h["buckets"] + i).dereference()["overflow"].address)
gdb.selected_inferior().write_memory(slot, struct.pack("<Q", 0x7ead0000))
pp = gdb.default_visualizer(gdb.parse_and_eval("'main.bigIntMap'"))
kids = list(pp.children())
# the children `print` gets: ints rendered by the library as text, then the
# <stopped> mark and its reason
import re
def num(x):
    if isinstance(x, str):
        return int(x) if re.fullmatch(r"-?[0-9]+", x) else x
    return int(x)
R["damaged_keys"] = [num(k) for _, k in kids[0::2]]
R["damaged_values"] = [num(v) for _, v in kids[1::2]]
gdb.execute("kill")
"""


def live_cases():
    out = []
    for s in maps_samples():
        exe = SAMPLES / s.toolchain / "bin" / "crasher"
        for go_printers in ("none", "runtime-gdb.py"):
            out.append(pytest.param(s, exe, go_printers, id=f"{s.toolchain}-{go_printers}"))
    return out


@pytest.mark.parametrize("case,exe,go_printers", live_cases())
def test_live_process(case, exe, go_printers, tmp_path):
    """The sample crasher stopped right before its crash: the printers and the
    memory-capable verbs work through gdb's reads of the live process, with
    Go's runtime-gdb.py loaded after ours or not at all; a map damaged in
    place prints what is readable and where the walk stopped."""
    sample = case
    outdir = tmp_path / "out"
    outdir.mkdir()
    names = [m["name"] for m in sample.truth["maps"]]
    setup = ["set pagination off", "set confirm off", "set startup-with-shell off",
             "handle SIGPIPE SIGURG SIGPROF nostop noprint pass",
             "break maps_release_and_crash",
             f"python TRUTH = {str(outdir / 'truth.json')!r}"]
    if go_printers != "none":
        setup.append(f"source {runtime_gdb(sample.toolchain)}")
    res = driver(tmp_path, f"NAMES = {names!r}\n" + LIVE_BODY,
                 ["--args", exe, "maps", outdir], post_setup=setup)
    if "ptrace" in res["_stderr"] and "Operation not permitted" in res["_stderr"]:
        pytest.skip("ptrace is not permitted here")
    assert res.get("frame") == "maps_release_and_crash", res["_stderr"][-2000:]
    truth = json.loads((outdir / "truth.json").read_text())
    for m in truth["maps"]:
        check_map_json(m, res[m["name"]])
    big = next(m for m in truth["maps"] if m["name"] == "main.bigIntMap")
    assert res["big_to_string"] == "map[int]int"
    assert res["big_children"] == big["count"] == 3000
    g = json.loads(res["classify"]["out"])
    assert g["region"] == "go-heap" and g["state"] == "allocated", g
    found = {m["path"]: m for m in json.loads(res["maps"]["out"])["maps"]}
    assert int(found["main.bigIntMap"]["addr"], 16) == int(big["addr"], 16)
    assert '"five": 5' in res["map"]["out"] and "health: ok" in res["map"]["out"]
    assert "needs a core file" in res["triage"]["error"]
    # the damaged map: what was readable, then where the walk stopped
    keys, values = res["damaged_keys"], res["damaged_values"]
    marks = [(k, v) for k, v in zip(keys, values) if isinstance(k, str)]
    assert marks and marks[-1][0] in ("<stopped>", "<damaged>"), marks
    assert "7ead0000" in marks[-1][1], marks
    entries = [(k, v) for k, v in zip(keys, values) if not isinstance(k, str)]
    recorded = {(e["key"], e["value"]) for e in big["entries"]}
    assert 0 < len(entries) < 3000 and set(entries) <= recorded


def test_debug_file_directory_is_used():
    """gdb's `set debug-file-directory` reaches libcoretool: the C sample run with
    glibc 2.41 (stripped libc.so.6) gets libc's static functions named from that
    glibc's libc6-dbg, as the CLI does with --debug-dir; without it, the frame
    says its offset in libc.so.6."""
    ss = [s for s in all_samples() if s.toolchain.startswith("c-glibc") and s.scenario == "c-uaf"]
    assert ss, "scripts/glibc.sh and samples/build.sh make c-glibc2.41"
    s = ss[0]
    rc, cli, err = run(["--debug-dir", s.debug_dir, "bt", s.core])
    named = [l.strip() for l in cli.splitlines() if "__libc_start_call_main" in l]
    assert named, cli
    with_dir = run_gdb([s.exe, s.core], [f"source {ENTRY}", f"set debug-file-directory {s.debug_dir}",
                                         "coretool bt"]).stdout
    assert named[0] in [l.strip() for l in with_dir.splitlines()], with_dir
    without = run_gdb([s.exe, s.core], [f"source {ENTRY}", "coretool bt"]).stdout
    assert "__libc_start_call_main" not in without and "?? (libc.so.6+0x" in without, without
