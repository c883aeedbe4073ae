"""Shared test helpers: the sample cores and their ground truth, and running coretool.

Ground truth is what each sample program recorded about itself (truth.json)
before it crashed; expected values never come from coretool's own output.
"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# CORETOOL=path runs the suite against another build, e.g. the sanitized one
# (`make asan`; tests/run.sh does this in its last stage).
CORETOOL = pathlib.Path(os.environ.get("CORETOOL") or ROOT / "build" / "coretool")
if not CORETOOL.is_absolute():
    CORETOOL = ROOT / CORETOOL
# A sanitizer report must fail the test that triggered it: halt at the first
# one with an exit status no verb uses, and look for the report on stderr too.
SANITIZER_EXIT = 99
for _var, _opts in (("ASAN_OPTIONS", f"halt_on_error=1:exitcode={SANITIZER_EXIT}:detect_leaks=1"),
                    ("UBSAN_OPTIONS", f"halt_on_error=1:exitcode={SANITIZER_EXIT}:print_stacktrace=1")):
    os.environ.setdefault(_var, _opts)
os.environ.setdefault("LSAN_OPTIONS", f"suppressions={ROOT / 'tests' / 'lsan.supp'}:print_suppressions=0")
# coretool caches each executable's DWARF index (coretool/cache.h). The suite
# starts from an empty cache of its own, so the first use of each sample's
# executable builds and stores the index and later uses read it back: both
# paths run under every test (test_cache.py compares them).
if "CORETOOL_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile
    _cache = tempfile.mkdtemp(prefix="coretool-test-cache-")
    os.environ["CORETOOL_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)
# Unpacked cores are cached (default: up to 32 GB); the suite unpacks every
# sample core in several formats, so its caches are kept small.
os.environ.setdefault("CORETOOL_UNPACK_CACHE_MB", "1024")
# No test asks a debuginfod server the caller's environment names (Debian's
# profile sets one): tests/test_debuginfod.py runs its own, on a private loopback.
for _k in [k for k in os.environ if k.startswith("DEBUGINFOD_")]:
    del os.environ[_k]
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


def sanitizer_report(stderr: str):
    """The first line of a sanitizer report in stderr, or None."""
    for line in stderr.splitlines():
        if any(m in line for m in SANITIZER_MARKS):
            return line
    return None


# CORETOOL_SAMPLES=DIR reads another build of the samples (a branch's own
# `SAMPLES_OUT=DIR samples/build.sh` of a changed scenario) instead.
SAMPLES = pathlib.Path(os.environ.get("CORETOOL_SAMPLES") or ROOT / "build" / "samples")
# The same scenarios cored by gdb (`gcore` at the fatal signal; `gdb -p` and Delve's
# `dump` on a running one): `make samples`, samples/build.sh with CORE_MODE=gdb.
GCORE_SAMPLES = ROOT / "build" / "samples-gcore"
TOOLCHAINS_LIST = ROOT / "build" / "toolchains" / "list"
GLIBC_LIST = ROOT / "build" / "glibc" / "list"  # other glibcs (scripts/glibc.sh)


def read_list(path):
    """The "name root version" lines of a list our scripts write, as tuples."""
    if not path.exists():
        return []
    return [tuple(l.split()) for l in path.read_text().splitlines() if len(l.split()) == 3]


def glibcs():
    """name (glibc2.41) -> root of the unpacked libc6 and libc6-dbg."""
    return {name: pathlib.Path(root) for name, root, _ in read_list(GLIBC_LIST)}


class Sample:
    def __init__(self, d: pathlib.Path):
        self.dir = d
        self.toolchain = d.parent.name
        self.scenario = d.name
        self.core = d / "core"
        self.exe = d / "exe"
        self.truth = json.loads((d / "truth.json").read_text())
        # The C program run with another glibc (c-glibc2.41): its libc6-dbg is there,
        # passed with --debug-dir; None: the machine's /usr/lib/debug.
        self.debug_dir = None
        if self.toolchain.startswith("c-glibc"):
            root = glibcs().get(self.toolchain[2:])
            self.debug_dir = root / "usr" / "lib" / "debug" if root else None

    @property
    def is_go(self) -> bool:
        return self.toolchain.startswith("go")

    def __repr__(self) -> str:
        return f"{self.toolchain}/{self.scenario}"


def all_samples(root=SAMPLES):
    """The samples under root (default: the kernel's cores)."""
    if not root.is_dir():
        return []
    out = []
    for t in sorted(root.glob("*/*/truth.json")):
        if (t.parent / "core").exists():
            out.append(Sample(t.parent))
    return out


def toolchains():
    """name -> GOVERSION, from build/toolchains/list (written by scripts/toolchains.sh)."""
    return {name: version for name, _, version in read_list(TOOLCHAINS_LIST)}


def run(args, input=None, timeout=120, check_rc=None):
    """Runs coretool; returns (rc, stdout, stderr)."""
    p = subprocess.run([str(CORETOOL)] + [str(a) for a in args], input=input,
                       capture_output=True, text=True, timeout=timeout)
    bad = sanitizer_report(p.stderr)
    assert p.returncode != SANITIZER_EXIT and bad is None, (
        f"coretool {' '.join(map(str, args))}: sanitizer report (rc {p.returncode}): {bad}\n"
        f"{p.stderr[-4000:]}")
    if check_rc is not None:
        assert p.returncode == check_rc, (
            f"coretool {' '.join(map(str, args))}: rc {p.returncode}, expected {check_rc}\n"
            f"stderr: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def run_json(args, **kw):
    rc, out, err = run(["--json"] + list(args), **kw)
    return rc, json.loads(out) if out.strip() else None, err


def run_jsonl(args, **kw):
    rc, out, err = run(["--json"] + list(args), **kw)
    return rc, [json.loads(line) for line in out.splitlines() if line.strip()], err


def samples_where(pred):
    return [s for s in all_samples() if pred(s)]


def pytest_generate_tests(metafunc):
    if "sample" in metafunc.fixturenames:
        ss = all_samples()
        metafunc.parametrize("sample", ss, ids=[repr(s) for s in ss])
    if "go_sample" in metafunc.fixturenames:
        ss = samples_where(lambda s: s.is_go)
        metafunc.parametrize("go_sample", ss, ids=[repr(s) for s in ss])
