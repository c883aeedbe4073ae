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
  the next, plus one of ours: no Python traceback from coretool's files.
Checks that fail only by the value FORMAT, which other slices of issue 17 change (maps: slice A,
gomap.py; slices/chans: slice C, govalues.py), are xfail(strict=True) with the reason
"format: slice A/C": when the format is fixed they XPASS and fail, and the mark is removed.
The whole-test xfail of TestGdbPython/Cgo only accepts Go failing on such a check (raises=).
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


class FormatPending(AssertionError):
    """A check that fails only because of the printed format (issue 17, slices A and C)."""


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


# Go's checks whose failure is only the format another slice changes: per mode.
def _format_pending(check: str, mode: str) -> str:
    if check in ("print smallmapvar", "print mapvar"):
        return "format: slice A/C (maps: `<len N>`)"
    if check == "print slicemap":
        return "format: slice A/C (maps `<len N>`, slices `len N cap N`)"
    if check in ("print chanint", "print chanstr") and mode == "alone":
        return "format: slice A/C (no channel printer without Go's script)"
    return ""


def _go_test_params():
    out = []
    for t, root in TOOLCHAINS:
        for mode in CORETOOL_MODES:
            for name in go_test_names(t):
                marks = []
                if name in ("TestGdbPython", "TestGdbPythonCgo"):
                    marks.append(pytest.mark.xfail(strict=True, raises=FormatPending,
                                                   reason="format: slice A/C"))
                out.append(pytest.param(t, root, mode, name, marks=marks,
                                        id=f"{t}-{mode}-{name}"))
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
    if got == "PASS":
        return
    msg = f"{toolchain} {mode}: {name} {got} (PASS in control)\n{r.text(name)[-6000:]}"
    if got == "FAIL" and name in ("TestGdbPython", "TestGdbPythonCgo"):
        # Go stops at its first failed check: pending only if that one is a format check.
        failed = re.findall(r"^\S+_test\.go:\d+: (.+?) failed:", r.text(name), re.M)
        if failed and all(_format_pending(c, mode) for c in failed):
            raise FormatPending(msg)
    raise AssertionError(msg)


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
                for c in checks + ["no coretool traceback"]:
                    reason = _format_pending(c, mode)
                    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                    out.append(pytest.param(t, root, mode, test, c, marks=marks,
                                            id=f"{t}-{mode}-{test}-{c.replace(' ', '_')}"))
    return out


@pytest.mark.parametrize("toolchain,goroot,mode,test,check", _py_check_params())
def test_gdb_python_check(toolchain, goroot, mode, test, check):
    r = go_run(toolchain, goroot, mode)
    out = r.gdb_output(test)
    assert out, f"{toolchain} {mode} {test}: no gdb output logged ({r.status.get(test)})\n" \
                f"{r.text(test)[-3000:]}"
    if check == "no coretool traceback":
        ours = [m.group(0) for m in re.finditer(r'File "[^"]*(gdbext|pretty-printers)/[^"]*"'
                                                r'.*', out)]
        assert not ours, f"Python traceback in coretool:\n{out[-4000:]}"
        return
    blocks = _blocks(out)
    assert check in blocks, f"no `{check}` block in the gdb output:\n{out[-4000:]}"
    assert _check(check, blocks[check]), f"{toolchain} {mode} {test}: {check}:\n{blocks[check]}"
