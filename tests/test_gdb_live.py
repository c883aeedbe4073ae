"""gdb on live processes: the sample crasher stopped right before its crash
(tests/test_gdb.py's live fixture) and the bench sample's big heap.

- Mappings and modules handed to libcoretool (ct_open_process): every address
  the program recorded in its truth.json classifies as it does on a core of
  that same process (`gcore`, read by the CLI), and as the truth says; the
  image of $pc, libc's text, the thread stack of $sp, C chunks found through
  glibc's arena in libc's module; modules and permissions as /proc/PID/maps
  gives them.
- No expression calls into the debuggee: a breakpoint on malloc is never hit.
- Ctrl-C (a real SIGINT to gdb) during a long command stops it early with one
  line, and the next command gives the whole answer.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT, run_jsonl
from test_classify import check
from test_gdb import SAMPLES, TOOLCHAINS, driver, maps_samples

SETUP = ["set pagination off", "set confirm off", "set startup-with-shell off",
         "handle SIGPIPE SIGURG SIGPROF nostop noprint pass"]


def live_samples():
    return [pytest.param(s, id=s.toolchain) for s in maps_samples()]


def _maps(pid_maps: str):
    out = []
    for line in pid_maps.splitlines():
        f = line.split(None, 5)
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        out.append((lo, hi, f[1], f[5].strip() if len(f) > 5 else ""))
    return out


CLASSIFY_BODY = """
gdb.execute("run")
pid = gdb.selected_inferior().pid
R["proc_maps"] = open(f"/proc/{pid}/maps").read()
T = json.load(open(TRUTH))
R["addrs"] = [a["addr"] for a in T["addresses"]]
libc_text = next(l.split("-")[0] for l in R["proc_maps"].splitlines()
                 if "libc.so.6" in l and " r-xp " in l)
R["extra"] = {"pc": hex(int(gdb.parse_and_eval("$pc"))),
              "sp": hex(int(gdb.parse_and_eval("$sp"))),
              "libc": hex(int(libc_text, 16) + 0x100),
              "malloc": hex(int(gdb.parse_and_eval("(long)&malloc")))}
R["live"] = {a: cmd("coretool classify --json " + a)
             for a in R["addrs"] + list(R["extra"].values())}
gdb.execute("gcore " + GCORE)
gdb.execute("kill")
"""


@pytest.mark.parametrize("case", live_samples())
def test_live_classify_as_on_a_core(case, tmp_path):
    """Every recorded address, $pc, $sp and libc's text classify live as the
    CLI classifies them on a gcore of the same stopped process, and as the
    truth says (the C heap plan is not released yet: its chunks are all
    allocated, as test_gcore's running checks say)."""
    sample = case
    outdir = tmp_path / "out"
    outdir.mkdir()
    gcore = tmp_path / "gcore"
    exe = SAMPLES / sample.toolchain / "bin" / "crasher"
    res = driver(tmp_path, f"TRUTH = {str(outdir / 'truth.json')!r}\nGCORE = {str(gcore)!r}\n"
                 + CLASSIFY_BODY, ["--args", exe, "maps", outdir],
                 post_setup=SETUP + ["break maps_release_and_crash"])
    if "ptrace" in res["_stderr"] and "Operation not permitted" in res["_stderr"]:
        pytest.skip("ptrace is not permitted here")
    assert "live" in res, res["_stderr"][-2000:]
    truth = json.loads((outdir / "truth.json").read_text())
    live = {}
    for a, r in res["live"].items():
        assert "out" in r, (a, r)
        live[a] = json.loads(r["out"])
    addrs = list(res["live"])
    rc, on_core, err = run_jsonl(["classify", str(gcore)] + addrs)
    assert rc in (0, 1), err
    core = dict(zip(addrs, on_core))
    # the same verdict as on the core (the mapping's "saved" is the core's own business)
    for a in addrs:
        lv, cv = live[a], core[a]
        assert (lv["region"], lv["state"]) == (cv["region"], cv["state"]), (a, lv, cv)
        # a library by the path the mappings name (/usr/lib/...) or the link map's (/lib/...)
        if "module" in cv["detail"]:
            assert os.path.realpath(lv["detail"]["module"]) == \
                os.path.realpath(cv["detail"]["module"]), (a, lv, cv)
        for k in ("symbol", "section", "tid", "goid", "chunk", "user_size", "bin",
                  "main_arena", "mmapped", "reason", "perms", "start", "end", "file"):
            assert lv["detail"].get(k) == cv["detail"].get(k), (a, k, lv, cv)
    # ... and as the truth says
    errs = []
    for t in truth["addresses"]:
        g = live[t["addr"]]
        if t["region"] == "c-heap":
            assert (g["region"], g["state"]) == ("c-heap", "allocated"), (t, g)
            assert g["detail"].get("mmapped") == t["detail"]["mmapped"], (t, g)
        else:
            errs += check(t, g)
        if t["region"] == "image":
            assert g["detail"].get("symbol") == t["detail"]["symbol"], (t, g)
        if t["region"] == "mapped" and t["detail"].get("perms"):
            assert g["detail"]["perms"] == t["detail"]["perms"][:3], (t, g)
    assert not errs, "\n".join(errs)
    # $pc: the breakpoint's function in the executable; $sp: the main thread's
    # stack as /proc/PID/maps has it; libc's text: libc's module, loaded where
    # its first mapping is
    maps = _maps(res["proc_maps"])
    pc, sp, libc = (live[res["extra"][k]] for k in ("pc", "sp", "libc"))
    assert pc["region"] == "image" and pc["detail"]["symbol"] == "maps_release_and_crash", pc
    assert pc["detail"]["module"].endswith("/crasher"), pc
    stack = next(m for m in maps if m[3] == "[stack]")
    assert sp["region"] == "thread-stack", sp
    assert (int(sp["detail"]["lo"], 16), int(sp["detail"]["hi"], 16)) == stack[:2], (sp, stack)
    libc_lo = min(m[0] for m in maps if m[3].endswith("/libc.so.6"))
    assert libc["region"] == "image" and libc["detail"]["module"].endswith("libc.so.6"), libc
    assert any(m[0] <= int(res["extra"]["libc"], 16) < m[1] and m[3].endswith("/libc.so.6")
               for m in maps if m[0] >= libc_lo)
    # libc's load bias: the address gdb gives malloc is malloc's start for the library
    malloc = live[res["extra"]["malloc"]]
    assert malloc["region"] == "image" and malloc["detail"]["module"].endswith("libc.so.6"), malloc
    assert malloc["detail"]["symbol"] in ("malloc", "__libc_malloc", "__GI___libc_malloc"), malloc
    assert malloc["detail"]["symbol_offset"] == 0, malloc


NO_CALLS_BODY = """
gdb.execute("run")
bp = gdb.Breakpoint("malloc")
R["errors"] = {e: cmd("coretool classify " + e) for e in EXPRS}
R["ok"] = cmd("coretool classify 'main.bigIntMap'")
R["malloc_hits"] = bp.hit_count
R["frame"] = gdb.selected_frame().name()
R["may_call"] = gdb.parameter("may-call-functions")
gdb.execute("kill")
"""

CALLING_EXPRS = ['"abc"', 'strlen("abc")', "{1, 2}", "((unsigned long (*)(const char *))strlen)(0)",
                 "malloc(16)"]


def test_expressions_never_call_into_the_process(tmp_path):
    """String and array literals and function calls are refused with one line
    saying what to give instead; the debuggee's malloc is never entered (its
    breakpoint is never hit, the process stays where it stopped) and the user's
    may-call-functions setting is left as it was."""
    sample = maps_samples()[-1]
    outdir = tmp_path / "out"
    outdir.mkdir()
    exe = SAMPLES / sample.toolchain / "bin" / "crasher"
    res = driver(tmp_path, f"EXPRS = {CALLING_EXPRS!r}\n" + NO_CALLS_BODY,
                 ["--args", exe, "maps", outdir], post_setup=SETUP + ["break maps_release_and_crash"])
    assert "errors" in res, res["_stderr"][-2000:]
    for e, r in res["errors"].items():
        assert "error" in r, (e, r)
        msg = r["error"]
        assert "\n" not in msg.strip() and "never runs code in the debuggee" in msg, (e, msg)
        assert "give an address, a variable" in msg, msg
    assert res["malloc_hits"] == 0
    assert res["frame"] == "maps_release_and_crash"
    assert res["may_call"] is True
    assert "go-heap" in res["ok"]["out"]


# ---- Ctrl-C ----

@pytest.fixture(scope="module")
def bigheap(tmp_path_factory):
    """The bench sample (bench/sample), built with the machine's newest
    toolchain: a big heap and a 1.2M-entry map at scale 1."""
    go = sorted(TOOLCHAINS.glob("go1.*/bin/go"))
    if not go:
        pytest.skip("no Go toolchain under build/toolchains")
    out = tmp_path_factory.mktemp("bigheap") / "bigheap"
    env = dict(os.environ, CGO_ENABLED="1", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    subprocess.run([str(go[-1]), "build", "-o", str(out), "."], cwd=ROOT / "bench" / "sample",
                   env=env, check=True, capture_output=True, timeout=600)
    return out


INTERRUPT_BODY = """
import os, time
gdb.execute("run")
t = time.time()
full = gdb.execute("coretool map main.benchMap", to_string=True)
R["full_s"] = time.time() - t
R["full_lines"] = len(full.splitlines())
open(MARK, "w").write(str(os.getpid()))
t = time.time()
R["interrupted"] = cmd("coretool map main.benchMap")
R["interrupted_s"] = time.time() - t
t = time.time()
again = gdb.execute("coretool map main.benchMap", to_string=True)
R["again_s"] = time.time() - t
R["again_same"] = again == full
gdb.execute("kill")
"""


def test_ctrl_c_stops_a_long_command(bigheap, tmp_path):
    """A real SIGINT to gdb while `coretool map` walks a 240,000-entry map of a
    live process: the command ends early with one line ("interrupted"), no
    traceback, no entries, no "partial result"; the next one gives the whole map."""
    outdir = tmp_path / "out"
    outdir.mkdir()
    mark = tmp_path / "started"
    script = tmp_path / "driver.py"
    env_setup = SETUP + ["break bigc_crash"]
    import threading

    def interrupt():
        for _ in range(3000):
            if mark.exists() and mark.read_text():
                break
            time.sleep(0.05)
        else:
            return
        time.sleep(0.3)
        os.kill(int(mark.read_text()), signal.SIGINT)

    th = threading.Thread(target=interrupt, daemon=True)
    th.start()
    res = driver(tmp_path, f"MARK = {str(mark)!r}\n" + INTERRUPT_BODY,
                 ["--args", bigheap, "-scale", "0.2", outdir], post_setup=env_setup, timeout=600)
    th.join(5)
    assert "interrupted" in res, res["_stderr"][-2000:]
    assert res["full_lines"] > 240000, res
    assert res["interrupted"] == {"error": "coretool map: interrupted"}, res["interrupted"]
    # stopped early: a fraction of the whole walk's time
    assert res["interrupted_s"] < res["full_s"] / 2, res
    noise = res["_stdout"] + res["_stderr"]
    for bad in ("Traceback", "partial result", "<unmapped", "Exception ignored"):
        assert bad not in noise, (bad, noise[-2000:])
    assert res["again_same"], "the map after the interrupt is not the whole map"
