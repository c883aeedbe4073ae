"""`info goroutines` and `goroutine N CMD` / `goroutine all CMD` (gdbext's
goroutine_cmds.py, over libcoretool's ct_goroutines) on every toolchain's
sample cores — the kernel's and gdb's (gcore at the crash, and of a running
process) — and on a live sample process, checked against what each program
recorded about itself (truth.json: the parked goroutine's id, wait reason and
function, the crash's Go caller and callers) and against the regular
expressions of Go's own TestGdbPython (runtime-gdb_test.go).

Also the library side the gdb commands stand on: `coretool goroutines` gives
the goroutine's own frame on a running process's gdb core and frames at all on
a live process, and a running goroutine's stack pointer is its thread's.
"""
import json
import re

import pytest

from conftest import GCORE_SAMPLES, ROOT, all_samples, run_json
from test_gdb import driver

# Go's TestGdbPython (src/runtime/runtime-gdb_test.go)
GO_INFO_GOROUTINES_RE = re.compile(r"\*\s+\d+\s+running\s+")
GO_BT_MAIN_RE = re.compile(r"(?m)^#0\s+(0x[0-9a-f]+\s+in\s+)?main\.main.+at")

SAMPLES = ROOT / "build" / "samples"


def check_clean_backtrace(text: str):
    """Go's checkCleanBacktrace: every line is `#N  ...`, N counting from 0
    (gdb's level field is two wide: `#10 ` from the tenth frame on, where
    Go's check, written for shorter backtraces, would want `#10  `)."""
    lines = text.strip().split("\n")
    assert lines and lines[0], "empty backtrace"
    for i, l in enumerate(lines):
        assert l.startswith(f"#{i:<2d} "), f"malformed backtrace at line {i}: {l!r}\n{text}"


def bt_functions(text: str):
    """The function of each `#N` line of a gdb backtrace, in order."""
    out = []
    for l in text.splitlines():
        m = re.match(r"#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", l)
        if m:
            out.append(m.group(1))
    return out


def in_order(seq, wanted):
    it = iter(seq)
    return all(any(x == w for x in it) for w in wanted)


def parked(truth):
    """The goroutine the maps scenario parked on a channel receive."""
    for a in truth["addresses"]:
        d = a.get("detail") or {}
        if a["region"] == "go-stack" and "goid" in d:
            return dict(d, addr=int(a["addr"], 16))
    raise AssertionError("the truth records no parked goroutine")


def check_local(res, want):
    """The parked goroutine's own frame (reached by walking up from its
    innermost one) holds the local variable whose address the program
    recorded: between that frame's $sp and its CFA (`info frame`'s "frame
    at"). The variable itself is <optimized out> at the parked pc (Go's
    DWARF), so its address is checked against the frame."""
    got = out(res["in_frame"][want["function"]])
    sp = re.search(r"\$\d+ = \(void \*\) (0x[0-9a-f]+)", got)
    cfa = re.search(r"frame at (0x[0-9a-f]+)", got)
    assert sp and cfa, got
    assert int(sp.group(1), 16) <= want["addr"] < int(cfa.group(1), 16), (got, hex(want["addr"]))
    assert f"in {want['function']} " in got, got


def out(r):
    assert "error" not in r, r.get("error")
    return r["out"]


def core_cases(scenarios):
    cases = []
    for root, kind in ((SAMPLES, "kernel"), (GCORE_SAMPLES, "gcore")):
        for s in all_samples(root):
            if s.is_go and s.scenario in scenarios:
                cases.append(pytest.param(s, id=f"{kind}-{s.toolchain}-{s.scenario}"))
    return cases


IN_FRAME = """
def in_frame(name, c):
    # inside `goroutine N python ...`: c in the goroutine's frame of function name
    f = gdb.selected_frame()
    while f is not None and f.name() != name:
        f = f.older()
    if f is None:
        R.setdefault("in_frame", {})[name] = {"error": "no frame " + name}
        return
    f.select()
    R.setdefault("in_frame", {})[name] = {"out": "".join(gdb.execute(x, to_string=True)
                                                         for x in c.split(";"))}


import __main__
__main__.in_frame = in_frame  # for gdb's `python` command
"""

CORE_BODY = IN_FRAME + """
R["local"] = cmd("goroutine %d python in_frame('main.parkedWorker', 'print $sp;info frame')" % GOID)
R["pc0"] = cmd("p $pc")
R["bt0"] = cmd("bt 1")
R["info"] = cmd("info goroutines")
R["parked_bt"] = cmd("goroutine %d bt" % GOID)
R["parked_frame"] = cmd("goroutine %d frame" % GOID)
R["g1_bt"] = cmd("goroutine 1 bt")
R["all_bt"] = cmd("goroutine all bt")
R["nosuch"] = cmd("goroutine 987654 bt")
R["pc1"] = cmd("p $pc")
R["bt1"] = cmd("bt 1")
R["verb"] = cmd("coretool goroutines --json")
"""


@pytest.mark.parametrize("s", core_cases({"maps", "maps-running"}))
def test_goroutines_on_cores(s, tmp_path):
    """On a core (where gdb refuses `$pc`/`$sp` writes and Go's own
    `goroutine N bt` fails): the parked goroutine and goroutine 1 listed as
    the program recorded them, their backtraces clean and through their own
    code, and gdb's thread and registers as they were afterwards."""
    want = parked(s.truth)
    goid = want["goid"]
    res = driver(tmp_path, f"GOID = {goid}\n" + CORE_BODY, [s.exe, s.core])
    info = out(res["info"])
    # `  18 waiting  runtime.gopark [chan receive]  main.parkedWorker at .../scen_maps.go:216`
    assert re.search(rf"(?m)^  {goid} waiting\s+\S+ \[{re.escape(want['wait_reason'])}\]"
                     rf"\s+{re.escape(want['function'])} at \S+scen_maps\.go:\d+$", info), info
    if s.scenario == "maps":
        # the crash: goroutine 1 in the cgo call, on its thread
        assert re.search(r"(?m)^\* 1 syscall\s+", info), info
    else:
        # cored while it slept where it would have crashed (waitIfAsked)
        assert re.search(r"(?m)^  1 waiting\s+\S+ \[sleep\]\s+main\.waitIfAsked at ", info), info
    listed = {int(m.group(1)) for m in re.finditer(r"(?m)^[* ] (\d+) ", info)}
    verb = json.loads(out(res["verb"]))
    assert listed == {g["id"] for g in verb if not g["status"].startswith("dead")}

    bt = out(res["parked_bt"])
    check_clean_backtrace(bt)
    fns = bt_functions(bt)
    assert fns[0] == "runtime.gopark" and want["function"] in fns, bt
    # frame, on the goroutine's innermost frame (#1: #0 is the thread's own)
    assert "runtime.gopark" in out(res["parked_frame"]).splitlines()[0]

    bt = out(res["g1_bt"])
    check_clean_backtrace(bt)
    fns = bt_functions(bt)
    caller = s.truth["crash"]["go_caller"] if s.scenario == "maps" else "main.waitIfAsked"
    assert in_order(fns, [caller, "main.main"]), bt
    allbt = out(res["all_bt"])
    assert want["function"] in bt_functions(allbt) and "main.main" in bt_functions(allbt)
    assert "No such goroutine: 987654" in res["nosuch"]["error"]
    check_local(res, want)
    # nothing changed: the thread's frame and registers
    assert out(res["pc1"]) .split("=", 1)[1] == out(res["pc0"]).split("=", 1)[1]
    assert out(res["bt1"]) == out(res["bt0"])


@pytest.mark.parametrize("s", core_cases({"go-nil-deref"}))
def test_running_goroutine_on_cores(s, tmp_path):
    """A goroutine running on a thread at the crash: marked `*` (Go's
    regexp), and `goroutine 1 bt` goes from its thread through the panic to
    the callers the program recorded."""
    res = driver(tmp_path, 'R["info"] = cmd("info goroutines")\nR["bt"] = cmd("goroutine 1 bt")',
                 [s.exe, s.core])
    info = out(res["info"])
    assert GO_INFO_GOROUTINES_RE.search(info), info
    assert re.search(r"(?m)^\* 1 running ", info), info
    bt = out(res["bt"])
    check_clean_backtrace(bt)
    callers = [c for c in s.truth["crash"]["go_callers"] if c.startswith("main.")]
    assert callers and in_order(bt_functions(bt), callers), bt


def test_goroutines_verb_gcore_running_own_frame():
    """`coretool goroutines` on a running process cored by gdb: goroutine 1's
    frame is its own code (main.waitIfAsked, where the scenario sleeps), not
    the runtime's time.Sleep; the parked one's is the function it recorded."""
    cases = [s for s in all_samples(GCORE_SAMPLES) if s.is_go and s.scenario == "maps-running"]
    if not cases:
        pytest.skip("no gdb cores of running processes (make samples)")
    for s in cases:
        rc, gs, err = run_json(["goroutines", s.core])
        assert rc in (0, 1), err
        by_id = {g["id"]: g for g in gs}
        assert by_id[1]["frame"]["function"] == "main.waitIfAsked", (s, by_id[1])
        want = parked(s.truth)
        assert by_id[want["goid"]]["frame"]["function"] == want["function"], (s, by_id[want["goid"]])


@pytest.mark.parametrize("s", core_cases({"go-nil-deref", "concurrent-map-writes"}))
def test_goroutines_verb_crashing_goroutine_frame(s):
    """`coretool goroutines`: the goroutine running on the crashing thread
    shows the function the program recorded as crashing, though its thread
    is on the signal stack (a re-raised signal) and g.sched is stale (its
    last systemstack): the thread's walk past the signal frame onto the
    goroutine's stack, else g.sched when the thread is on g0."""
    rc, gs, err = run_json(["goroutines", s.core])
    assert rc in (0, 1), err
    crash = s.truth["crash"]
    want = crash.get("go_caller") or crash.get("go_function")
    running = [g for g in gs if g["status"] == "running" and g["thread"] is not None]
    assert running and all(g["frame"]["function"] == want for g in running), (want, running)
    if s.scenario == "go-nil-deref":
        assert [g["id"] for g in running] == [1], running


LIVE_BODY = IN_FRAME + """
gdb.execute("run")
R["where1"] = gdb.selected_frame().name()
R["info1"] = cmd("info goroutines")
R["g1_bt1"] = cmd("goroutine 1 bt")
R["all_bt1"] = cmd("goroutine all bt")
gdb.execute("continue")
R["where2"] = gdb.selected_frame().name()
T = json.load(open(TRUTH))
goid = [a["detail"]["goid"] for a in T["addresses"] if a["region"] == "go-stack"][0]
R["goid"] = goid
R["regs0"] = cmd("info registers rip rsp rbp")
R["parked_bt"] = cmd("goroutine %d bt" % goid)
R["parked_local"] = cmd("goroutine %d python in_frame('main.parkedWorker', 'print $sp;info frame')" % goid)
R["regs1"] = cmd("info registers rip rsp rbp")
R["sp"] = int(gdb.parse_and_eval("$sp"))
R["classify_sp"] = cmd("coretool classify --json $sp")
R["verb"] = cmd("coretool goroutines --json")
gdb.execute("kill")
"""


def live_cases():
    out = []
    for s in all_samples(SAMPLES):
        if s.is_go and s.scenario == "maps":
            out.append(pytest.param(s, SAMPLES / s.toolchain / "bin" / "crasher", id=s.toolchain))
    return out


@pytest.mark.parametrize("case,exe", live_cases())
def test_live_process(case, exe, tmp_path):
    """The sample crasher run under gdb: at main.main, Go's TestGdbPython
    regexps on `info goroutines`, `goroutine 1 bt` and `goroutine all bt`;
    at main.finishMaps (the truth written), the parked goroutine's backtrace
    from its saved state without a register of the process written, and the
    library's goroutines with frames, goroutine 1's stack pointer the
    thread's."""
    outdir = tmp_path / "out"
    outdir.mkdir()
    setup = ["set pagination off", "set confirm off", "set startup-with-shell off",
             "handle SIGPIPE SIGURG SIGPROF nostop noprint pass",
             "break main.main", "break main.finishMaps",
             f"python TRUTH = {str(outdir / 'truth.json')!r}"]
    res = driver(tmp_path, LIVE_BODY, ["--args", exe, "maps", outdir], post_setup=setup)
    if "ptrace" in res["_stderr"] and "Operation not permitted" in res["_stderr"]:
        pytest.skip("ptrace is not permitted here")
    assert res.get("where1") == "main.main", res["_stderr"][-2000:]
    info = out(res["info1"])
    assert GO_INFO_GOROUTINES_RE.search(info), info
    bt = out(res["g1_bt1"])
    check_clean_backtrace(bt)
    assert GO_BT_MAIN_RE.search(bt), bt
    assert GO_BT_MAIN_RE.search(out(res["all_bt1"]))

    assert res["where2"] == "main.finishMaps"
    truth = json.loads((outdir / "truth.json").read_text())
    want = parked(truth)
    bt = out(res["parked_bt"])
    check_clean_backtrace(bt)
    assert want["function"] in bt_functions(bt), bt
    check_local(res, want)
    assert out(res["regs1"]) == out(res["regs0"])  # nothing written
    gs = {g["id"]: g for g in json.loads(out(res["verb"]))}
    assert gs[1]["status"] == "running" and gs[1]["frame"]["function"] == "main.finishMaps", gs[1]
    g = gs[want["goid"]]
    assert (g["status"], g["wait_reason"], g["frame"]["function"]) == \
        ("waiting", want["wait_reason"], want["function"]), g
    c = json.loads(out(res["classify_sp"]))
    assert c["region"] == "go-stack" and c["detail"]["goid"] == 1, c
    assert int(c["detail"]["sp"], 16) == res["sp"], c


def order_cases():
    out = []
    for s in all_samples(GCORE_SAMPLES):
        if s.is_go and s.scenario == "maps-running":
            for order in ("go-first", "go-last"):
                out.append(pytest.param(s, order, id=f"{s.toolchain}-{order}"))
    return out


@pytest.mark.parametrize("s,order", order_cases())
def test_ours_win_over_runtime_gdb(s, order):
    """With Go's runtime-gdb.py sourced before or after ours, `goroutine 1
    bt` and `info goroutines` are ours: on this core Go's fail ("You can't
    do that without a process to debug")."""
    from test_gdb import ENTRY, run_gdb, runtime_gdb
    go, ours = f"source {runtime_gdb(s.toolchain)}", f"source {ENTRY}"
    first = [go, ours] if order == "go-first" else [ours, go]
    p = run_gdb([s.exe, s.core], ["set pagination off", "set width 0"] + first +
                ["goroutine 1 bt", "info goroutines"])
    assert "without a process" not in p.stdout + p.stderr, p.stderr[-2000:]
    assert in_order(bt_functions(p.stdout), ["main.waitIfAsked", "main.main"]), p.stdout
    assert re.search(r"(?m)^  1 waiting\s+\S+ \[sleep\]", p.stdout), p.stdout
