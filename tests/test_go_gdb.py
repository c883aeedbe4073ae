"""Go's own gdb tests (runtime-gdb_test.go, runtime-gdb_unix_test.go: TestGdb*) with coretool
loaded into the gdb they run.

Each toolchain's runtime test binary (scripts/go-gdb-tests.sh: build/gotests/<go>/runtime.test,
built by that toolchain) runs `-test.run ^TestGdb` with tests/gdbwrap/gdb first on PATH; the
wrapper runs the real gdb in one of four modes (CORETOOL_GDBWRAP): `alone` (Go's runtime-gdb.py
never loaded), `coretool-first` (ours, then Go's), `go-first` (Go's, then ours) and `control`
(the real gdb untouched). Every toolchain runs in every mode: one run is ~5-15 s (the programs
the tests build come from the Go build cache after the first), ~4 min in all, one run at a time
(each with -test.parallel 2: the machine has 2 cores).

What is asserted:
- test_go_test: every TestGdb* test that PASSes in control mode PASSes in the other three. A
  SKIP counts as a failure. A test that does not PASS in control (TestGdbInfCallstack is
  arm64-only; TestGdbCoreCrashThreadBacktrace needs -flaky, set CORETOOL_GO_GDB_FLAKY=1 to run
  it) is reported as skipped with control's reason, never as passed.
- test_gdb_python_check: Go's TestGdbPython/TestGdbPythonCgo stop at their first failed check;
  here each check (which ones apply is read from that toolchain's runtime-gdb_test.go) is
  judged on its own over the gdb output the Go test logged, so that one failure does not hide
  the next, plus ours: no Python traceback from coretool's files; `goroutine all bt` gives
  each goroutine `info goroutines` lists a clean backtrace starting in the function listed and
  (not on a thread) reaching runtime.goexit; TestGdbPython's `info auto-load python-scripts`
  shows Go's script loaded in every mode but `alone`.
- test_never_ran_goroutine_bt (ours): a goroutine created and never run (saved pc = its
  function's entry) shows `#0 main.worker () at main.go:LINE`, then runtime.goexit, live and
  on a gcore of that moment, every toolchain.
- test_wrapper_argv: what each wrapper mode hands the real gdb (a fake gdb prints its argv).
Every check passes in every mode, the value format ones included (maps, slices and channels
print in Go's format: `map[string]string = {...}`, `[]string = {...}`, `chan int = {...}`).
"""
import os
import pathlib
import re
import subprocess
import tempfile

import pytest

from conftest import ROOT, TOOLCHAINS_LIST, read_list

WRAP = ROOT / "tests" / "gdbwrap"
LIB = ROOT / "build" / "libcoretool.so"
GOTESTS = ROOT / "build" / "gotests"
# samples/cores.sh: a crash whose core must land by core_pattern 'core' holds this shared.
CORE_PATTERN_LOCK = os.environ.get("CORE_PATTERN_LOCK", "/tmp/coretool-core-pattern.lock")
MODES = ("control", "alone", "coretool-first", "go-first")
CORETOOL_MODES = MODES[1:]

TOOLCHAINS = [(name, pathlib.Path(root)) for name, root, _ in read_list(TOOLCHAINS_LIST)]


def runtime_test(toolchain: str) -> pathlib.Path:
    return GOTESTS / toolchain / "runtime.test"


def go_test_names(toolchain: str):
    """The TestGdb* tests of that toolchain's runtime.test (its own -test.list)."""
    exe = runtime_test(toolchain)
    if not exe.exists():
        return []
    p = subprocess.run([str(exe), "-test.list", "^TestGdb"], capture_output=True, text=True,
                       timeout=60)
    return [l.strip() for l in p.stdout.splitlines() if l.startswith("TestGdb")]


_HEADER = re.compile(r"^=== (?:RUN|CONT|NAME|PAUSE)\s+(\S+)")
_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \(")


class GoRun:
    """One `runtime.test -test.run ^TestGdb -test.v` in one mode: each test's status and the
    lines it logged (t.Logf, indented by four spaces under its === header)."""

    def __init__(self, toolchain: str, goroot: pathlib.Path, mode: str) -> None:
        self.toolchain, self.mode = toolchain, mode
        env = dict(os.environ, GOROOT=str(goroot), GOTOOLCHAIN="local", CGO_ENABLED="1",
                   PATH=f"{WRAP}:{goroot}/bin:{os.environ.get('PATH', '')}",
                   CORETOOL_GDBWRAP=mode, CORETOOL_LIB=str(LIB),
                   LC_ALL="C.UTF-8", LANG="C.UTF-8")
        env.pop("GOFLAGS", None)
        argv = [str(runtime_test(toolchain)), "-test.run", "^TestGdb", "-test.v",
                "-test.parallel", "2", "-test.count", "1", "-test.timeout", "5m"]
        if os.environ.get("CORETOOL_GO_GDB_FLAKY"):
            argv.append("-flaky")
        with tempfile.TemporaryDirectory(prefix="go-gdb-") as cwd:
            p = subprocess.run(["flock", "-s", "-w", "600", CORE_PATTERN_LOCK] + argv,
                               capture_output=True, text=True, timeout=420, env=env, cwd=cwd)
        self.rc = p.returncode
        self.output = p.stdout + p.stderr
        self.status, self.log = {}, {}
        cur = None
        for line in p.stdout.splitlines():
            m = _HEADER.match(line)
            if m:
                cur = m.group(1)
                continue
            m = _RESULT.match(line)
            if m:
                self.status[m.group(2)] = m.group(1)
                continue
            if cur and line.startswith("    "):
                self.log.setdefault(cur, []).append(line[4:])

    def text(self, test: str) -> str:
        return "\n".join(self.log.get(test, []))

    def gdb_output(self, test: str) -> str:
        """What gdb printed, as the Go test logged it (`gdb output:` then lines indented by 4)."""
        lines = self.log.get(test, [])
        for i, l in enumerate(lines):
            if re.match(r"^\S+\.go:\d+: gdb output:$", l):
                out = []
                for k in lines[i + 1:]:
                    if not k.startswith("    ") and k.strip():
                        break
                    out.append(k[4:])
                return "\n".join(out)
        return ""


_runs = {}


def go_run(toolchain: str, goroot: pathlib.Path, mode: str) -> GoRun:
    key = (toolchain, mode)
    if key not in _runs:
        _runs[key] = GoRun(toolchain, goroot, mode)
    return _runs[key]


def test_toolchains_and_binaries():
    """Every toolchain has its runtime.test (a missing one would silently drop its tests)."""
    assert TOOLCHAINS, f"no toolchains in {TOOLCHAINS_LIST} (make toolchains)"
    missing = [t for t, _ in TOOLCHAINS if not runtime_test(t).exists()]
    assert not missing, f"no runtime.test for {missing}: bash scripts/go-gdb-tests.sh"
    for t, _ in TOOLCHAINS:
        names = go_test_names(t)
        assert "TestGdbPython" in names and "TestGdbPythonCgo" in names, (t, names)


def _go_test_params():
    out = []
    for t, root in TOOLCHAINS:
        for mode in CORETOOL_MODES:
            for name in go_test_names(t):
                out.append(pytest.param(t, root, mode, name, id=f"{t}-{mode}-{name}"))
    return out


@pytest.mark.parametrize("toolchain,goroot,mode,name", _go_test_params())
def test_go_test(toolchain, goroot, mode, name):
    control = go_run(toolchain, goroot, "control")
    want = control.status.get(name)
    if want != "PASS":
        pytest.skip(f"{name} is {want} in control mode too (the machine's, not coretool's): "
                    f"{control.text(name)[-600:]}")
    r = go_run(toolchain, goroot, mode)
    got = r.status.get(name)
    ours = _coretool_tracebacks(r.text(name))
    assert not ours, f"{toolchain} {mode} {name}: Python traceback in coretool:\n" \
                     f"{r.text(name)[-4000:]}"
    if got == "PASS":
        return
    raise AssertionError(f"{toolchain} {mode}: {name} {got} (PASS in control)\n"
                         f"{r.text(name)[-6000:]}")


def _coretool_tracebacks(text: str):
    return [m.group(0) for m in re.finditer(r'File "[^"]*/(gdbext|pretty-printers)/[^"]*".*',
                                            text)]


# ---- TestGdbPython's checks one by one, over the gdb output it logged ----

def _blocks(out: str):
    return {m.group(1): m.group(2)
            for m in re.finditer(r"(?ms)^BEGIN ([^\n]*)\n(.*?)\nEND", out)}


def _clean_bt(bl: str) -> bool:
    lines = bl.strip().split("\n")
    return bool(bl.strip()) and all(l.startswith(f"#{i}  ") for i, l in enumerate(lines))


_STR = r'(0x[0-9a-f]+\s+)?"{}"'


def _kv(k, v):
    return r"\[" + _STR.format(k) + r"\] = " + _STR.format(v)


_MAIN_AT = re.compile(r"(?m)^#0\s+(0x[0-9a-f]+\s+in\s+)?main\.main.+at")


def _check(check: str, bl: str) -> bool:
    flat = bl.replace("  ", " ")
    slices = [('["a"] = []string = {"b", "c", "d"}', '["e"] = []string = {"f", "g", "h"}')]
    if check == "info goroutines":
        return re.search(r"\*\s+\d+\s+running\s+", bl) is not None
    if check == "print smallmapvar":
        return re.fullmatch(r"\$\d+ = map\[string\]string = \{" + _kv("abc", "def") + r"\}",
                            bl) is not None
    if check == "print mapvar":
        a, b = _kv("abc", "def"), _kv("ghi", "jkl")
        return any(re.fullmatch(r"\$\d+ = map\[string\]string = \{" + x + ", " + y + r"\}", bl)
                   for x, y in ((a, b), (b, a)))
    if check == "print slicemap":
        return any(flat.endswith("map[string][]string = {" + x + ", " + y + "}")
                   for a, b in slices for x, y in ((a, b), (b, a)))
    if check == "print chanint":
        return flat.endswith("chan int = {99, 11}")
    if check == "print chanstr":
        return flat.endswith('chan string = {"spongepants", "squarebob"}')
    if check == "print strvar":
        return re.fullmatch(r"\$\d+ = " + _STR.format("abc"), bl) is not None
    if check == "info locals":
        return all(v in bl for v in ("slicevar", "mapvar", "strvar"))
    if check in ("goroutine 1 bt", "goroutine 1 bt at the end"):
        return _clean_bt(bl) and _MAIN_AT.search(bl) is not None
    if check == "goroutine all bt":
        return _MAIN_AT.search(bl) is not None
    raise ValueError(check)


PY_CHECKS = ("info goroutines", "print smallmapvar", "print mapvar", "print slicemap",
             "print strvar", "print chanint", "print chanstr", "info locals",
             "goroutine 1 bt", "goroutine all bt", "goroutine 1 bt at the end")


def _go_checks(goroot: pathlib.Path):
    """The BEGIN blocks that toolchain's TestGdbPython asks gdb for (Go 1.22 has no
    smallmapvar)."""
    src = (goroot / "src" / "runtime" / "runtime-gdb_test.go").read_text()
    return [c for c in PY_CHECKS if f'"echo BEGIN {c}\\n"' in src]


def _py_check_params():
    out = []
    for t, root in TOOLCHAINS:
        checks = _go_checks(root)
        for mode in CORETOOL_MODES:
            for test in ("TestGdbPython", "TestGdbPythonCgo"):
                extra = ["every goroutine's bt", "no coretool traceback"]
                if test == "TestGdbPython":  # the one that runs `info auto-load python-scripts`
                    extra.append("Go's script loaded as the mode says")
                for c in checks + extra:
                    out.append(pytest.param(t, root, mode, test, c,
                                            id=f"{t}-{mode}-{test}-{re.sub(r'[^A-Za-z0-9]+', '_', c)}"))
    return out


def _check_every_bt(blocks):
    """Ours, beyond Go's: `goroutine all bt` gives every goroutine `info goroutines` lists a
    well-formed backtrace, and each one not on a thread (its saved state, through coretool's
    unwinder) reaches runtime.goexit, where every goroutine starts (Go's newproc1 puts
    goexit's address under the goroutine's first frame). Go's own check only looks for
    main.main somewhere in the block."""
    listed = [l for l in blocks["info goroutines"].splitlines() if re.match(r"^[* ]\s*\d+ ", l)]
    bts = re.split(r"(?m)^(?=#0  )", blocks["goroutine all bt"].strip())
    bts = [b for b in bts if b.strip()]
    assert len(bts) == len(listed), f"{len(listed)} goroutines listed, {len(bts)} backtraces:\n" \
        + blocks["info goroutines"] + "\n" + blocks["goroutine all bt"]
    # `goroutine all` goes in the order `info goroutines` lists them
    for line, bt in zip(listed, bts):
        assert _clean_bt(bt), f"{line}: malformed backtrace:\n{bt}"
        # its innermost frame is the function `info goroutines` names: gdb, unwinding from
        # the goroutine's own state, agrees with the library's model
        func = line[1:].split()[2]
        top = re.match(r"#0\s+(?:0x[0-9a-f]+\s+in\s+)?(\S+) \(", bt)
        # the model names a function by its ELF symbol, gdb by its DWARF name: an
        # assembly function's symbol carries its ABI (runtime.systemstack_switch.abi0)
        assert top and top.group(1) == func.removesuffix(".abi0"), \
            f"{line}: bt starts elsewhere:\n{bt}"
        if not line.startswith("*"):
            last = bt.strip().splitlines()[-1]
            assert re.search(r"\bruntime\.goexit\b", last), f"{line}: does not reach " \
                f"runtime.goexit:\n{bt}"


@pytest.mark.parametrize("toolchain,goroot,mode,test,check", _py_check_params())
def test_gdb_python_check(toolchain, goroot, mode, test, check):
    r = go_run(toolchain, goroot, mode)
    out = r.gdb_output(test)
    assert out, f"{toolchain} {mode} {test}: no gdb output logged ({r.status.get(test)})\n" \
                f"{r.text(test)[-3000:]}"
    if check == "no coretool traceback":
        assert not _coretool_tracebacks(out), f"Python traceback in coretool:\n{out[-4000:]}"
        return
    if check == "Go's script loaded as the mode says":
        loaded = re.search(r"^Yes\s+\S*/runtime-gdb\.py\s*$", out, re.M) is not None
        assert loaded == (mode != "alone"), f"{mode}: Go's runtime-gdb.py loaded: {loaded}\n" \
                                            f"{out[:2000]}"
        return
    blocks = _blocks(out)
    if check == "every goroutine's bt":
        _check_every_bt(blocks)
        return
    assert check in blocks, f"no `{check}` block in the gdb output:\n{out[-4000:]}"
    assert _check(check, blocks[check]), f"{toolchain} {mode} {test}: {check}:\n{blocks[check]}"


# ---- Ours, beyond Go's tests: a goroutine that never ran, live and in a gcore of it ----

# GOMAXPROCS(1) and no blocking between `go worker(c)` and the breakpoint: worker is created
# (runnable, in the P's runnext) and has not run, so its saved pc is worker's first
# instruction (Go's newproc1/gostartcall), which gdb, taking it for a return address, would
# look up at pc - 1, in the function before.
RUNNABLE_SRC = """package main

import "runtime"

var c = make(chan int)

// No arguments: `go worker()` starts worker itself (with arguments Go 1.22+ starts a
// wrapper closure, main.main.gowrap1).
//
//go:noinline
func worker() { // WORKER
	c <- 1
}

func main() {
	runtime.GOMAXPROCS(1)
	go worker()
	runtime.KeepAlive(c) // BREAK
	<-c
}
"""


def _line_of(src: str, mark: str) -> int:
    return next(i for i, l in enumerate(src.splitlines(), 1) if mark in l)


def _worker_bt(out: str, where: str):
    blocks = _blocks(out)
    assert "info goroutines" in blocks and "goroutine all bt" in blocks, f"{where}:\n{out[-4000:]}"
    _check_every_bt(blocks)
    listed = [l for l in blocks["info goroutines"].splitlines() if re.match(r"^[* ]\s*\d+ ", l)]
    mine = [l[1:].split() for l in listed if l[1:].split()[2] == "main.worker"]
    assert len(mine) == 1 and mine[0][1] == "runnable", \
        f"{where}: want one runnable goroutine in main.worker:\n{blocks['info goroutines']}"
    return mine[0][0]


@pytest.mark.parametrize("toolchain,goroot", [pytest.param(t, r, id=t) for t, r in TOOLCHAINS])
def test_never_ran_goroutine_bt(toolchain, goroot, tmp_path):
    """`goroutine N bt` of a goroutine that never ran: #0 is its function at its first line
    (the source's), then runtime.goexit; live (coretool alone, through the wrapper) and on a
    gcore'd core of that same moment."""
    (tmp_path / "main.go").write_text(RUNNABLE_SRC)
    env = dict(os.environ, GOROOT=str(goroot), GOTOOLCHAIN="local", CGO_ENABLED="0",
               PATH=f"{WRAP}:{goroot}/bin:{os.environ.get('PATH', '')}", GO111MODULE="off",
               CORETOOL_GDBWRAP="alone", CORETOOL_LIB=str(LIB), LC_ALL="C.UTF-8")
    env.pop("GOFLAGS", None)
    b = subprocess.run([str(goroot / "bin" / "go"), "build", "-o", "a.exe", "main.go"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert b.returncode == 0, b.stderr
    worker_line = _line_of(RUNNABLE_SRC, "WORKER")
    core = tmp_path / "core"

    def gdb(args, cmds):
        argv = ["gdb", "-nx", "-batch"]
        for c in cmds:
            argv += ["-ex", c]
        p = subprocess.run(argv + args, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
        return p.stdout + p.stderr

    def show():
        return ["echo BEGIN info goroutines\\n", "info goroutines", "echo END\\n",
                "echo BEGIN goroutine all bt\\n", "goroutine all bt", "echo END\\n"]

    live = gdb(["a.exe"], ["set startup-with-shell off", "set print thread-events off",
                           f"break main.go:{_line_of(RUNNABLE_SRC, 'BREAK')}", "run"] + show()
               + [f"gcore {core}", "kill"])
    for where, out in (("live", live),
                       ("core", gdb(["a.exe", str(core)], show()) if core.exists() else "")):
        assert out, f"no core written:\n{live[-3000:]}"
        goid = _worker_bt(out, where)
        bt = re.split(r"(?m)^(?=#0  )", _blocks(out)["goroutine all bt"].strip())
        mine = [b for b in bt if re.match(r"#0\s+(0x[0-9a-f]+\s+in\s+)?main\.worker \(", b)]
        assert len(mine) == 1, f"{where}: goroutine {goid}: no bt in main.worker:\n{out[-4000:]}"
        lines = mine[0].strip().splitlines()
        assert re.search(rf"main\.go:{worker_line}$", lines[0]), f"{where}: {lines[0]}"
        assert len(lines) == 2 and re.search(r"\bruntime\.goexit \(", lines[1]), \
            f"{where}:\n{mine[0]}"


# ---- The wrapper itself: what each mode hands the real gdb ----

def _wrapped_argv(mode, args, tmp_path):
    fake = tmp_path / "fake-gdb"
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n")
    fake.chmod(0o755)
    p = subprocess.run([str(WRAP / "gdb")] + args, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, CORETOOL_GDBWRAP=mode, CORETOOL_REAL_GDB=str(fake)))
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


GO_AUTOLOAD_ARGS = ["-nx", "-q", "--batch", "-iex", "add-auto-load-safe-path /go/src/runtime",
                    "-ex", "set startup-with-shell off", "-ex", "info auto-load python-scripts",
                    "-ex", "run", "/tmp/a.exe"]
GO_SOURCE_ARGS = ["-nx", "-q", "--batch", "-iex", "add-auto-load-safe-path /go/src/runtime",
                  "-ex", "set startup-with-shell off",
                  "-ex", "source /go/src/runtime/runtime-gdb.py", "-ex", "run", "/tmp/a.exe"]


def _without(argv, *values):
    """argv without the (flag, value) pairs whose value is one of values."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in ("-ex", "-iex") and i + 1 < len(argv) and argv[i + 1] in values:
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


@pytest.mark.parametrize("style", ["autoload", "source"])
@pytest.mark.parametrize("mode", MODES)
def test_wrapper_argv(mode, style, tmp_path):
    """Each mode's arguments to the real gdb, for Go's two ways of loading its script
    (auto-load; TestGdbPythonCgo's `-ex source`): the caller's own, in order, plus ours where
    the mode says (alone: Go's `source` turned into a no-op)."""
    args = GO_AUTOLOAD_ARGS if style == "autoload" else GO_SOURCE_ARGS
    got = _wrapped_argv(mode, args, tmp_path)
    src = f"source {ROOT / 'gdbext' / 'coretool-gdb.py'}"
    go_src = "source /go/src/runtime/runtime-gdb.py"
    noop = "set $gdbwrap_not_loaded_go_script = 1"
    if mode == "control":
        assert got == args
        return
    assert got.count(src) == 1, got
    at = got.index(src)
    if mode == "alone":
        assert got[:4] == ["-iex", "set auto-load python-scripts off", "-iex", src], got
        assert go_src not in got, got
        assert _without(got, src, "set auto-load python-scripts off", noop) == \
            _without(args, go_src), got
        return
    assert _without(got, src) == args, got
    if mode == "coretool-first":
        assert got[:2] == ["-iex", src], got
    elif style == "source":
        assert got[at - 1] == "-ex" and got[at - 2] == go_src, got  # right after Go's
    else:
        assert got[at - 1] == "-ex" and at - 1 == got.index("-ex"), got  # the first -ex


def test_wrapper_passes_version_through(tmp_path):
    """`gdb --version` (Go's checkGdbVersion) reaches the real gdb untouched."""
    assert _wrapped_argv("alone", ["--version"], tmp_path) == ["--version"]
