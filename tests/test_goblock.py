"""What a blocked goroutine waits on (coretool/lib/go/goblock.c), on real cores.

samples/go/gdbvalues parks goroutines on purpose (blocked.go) and records in
truth.json, per goroutine: its goid, what it blocks on (a channel's hchan as
%p prints it, or a sync object's address and size), and the wait reason
runtime.Stack printed for it; on Go 1.27 it also runs the runtime's own leak
detector (the goroutineleak profile) and records which goroutines it marked
"(leaked)". A probe (tests/probes/goblock.c, built here against
build/libcoretool.a) prints the model for every goroutine of the core; each
recorded goroutine must be classified as its operation says, with exactly the
primitives the program recorded, for every toolchain 1.22-1.27.

The cores: build/samples-gdbvalues/<toolchain> (`bash samples/gdbvalues.sh`),
or the directory GOBLOCK_SAMPLES names.
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import ROOT

SAMPLES = pathlib.Path(os.environ.get("GOBLOCK_SAMPLES", ROOT / "build" / "samples-gdbvalues"))
LIST = ROOT / "build" / "toolchains" / "list"

# The sample's operation -> the kind the model must give.
KIND = {"chan-recv": "chan", "chan-send": "chan", "select": "select", "nilchan": "nilchan",
        "select-empty": "select-empty", "mutex": "sema", "rwmutex-r": "sema",
        "waitgroup": "sema", "cond": "cond"}


def toolchains():
    if not LIST.exists():
        return ["(no build/toolchains/list)"]
    return [line.split()[0] for line in LIST.read_text().splitlines() if line.strip()]


def minor(tc):
    return int(tc.split(".")[1])


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    lib = ROOT / "build" / "libcoretool.a"
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not lib.exists() or not cc:
        pytest.skip("build/libcoretool.a or a C compiler missing")
    exe = tmp_path_factory.mktemp("goblock_probe") / "goblock"

    def make(what):
        return subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), what],
                              capture_output=True, text=True, check=True).stdout.split()
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", *make("print-inc"),
                    *make("print-cflags"), str(ROOT / "tests" / "probes" / "goblock.c"),
                    str(lib), *make("print-libs"), "-o", str(exe)], check=True, cwd=ROOT)
    return exe


def load(probe, tc):
    d = SAMPLES / tc
    for f in ("core", "truth.json"):
        assert (d / f).exists(), f"{d / f} is missing: run `bash samples/gdbvalues.sh`"
    truth = json.loads((d / "truth.json").read_text())
    if "blocked" not in truth:
        pytest.fail(f"{d}/truth.json predates blocked.go: rebuild with FORCE=1 bash samples/gdbvalues.sh")
    p = subprocess.run([str(probe), str(d / "core")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    return truth, got, {g["goid"]: g for g in got["goroutines"]}


@pytest.mark.parametrize("tc", toolchains())
def test_blocked_goroutines_match_truth(probe, tc):
    truth, got, by_goid = load(probe, tc)
    assert len(truth["blocked"]) == 10, truth["blocked"]
    bad = []
    for b in truth["blocked"]:
        g = by_goid.get(b["goid"])
        what = f"goroutine {b['goid']} ({b['what']})"
        if g is None:
            bad.append(f"{what}: not in the core's goroutines")
            continue
        if g["kind"] != KIND[b["what"]]:
            bad.append(f"{what}: kind {g['kind']}, want {KIND[b['what']]}")
        if g["reason"] != b["wait"]:
            bad.append(f"{what}: reason {g['reason']!r}, the runtime said {b['wait']!r}")
        prims = [int(p, 16) for p in g["prims"]]
        want = b["prims"] or []
        if b["what"] == "cond" and minor(tc) < 26:
            # Before 1.26 nothing links a goroutine to its Cond: it must say so.
            if prims or not g["partial"]:
                bad.append(f"{what}: prims {g['prims']} partial {g['partial']}, want [] partial")
            continue
        if g["partial"]:
            bad.append(f"{what}: partial ({g['note']})")
        if any(p["size"] == 0 for p in want):
            # channels: exactly the hchans recorded (a select: one per case, any order)
            exp = sorted(int(p["addr"], 16) for p in want)
            if sorted(prims) != exp:
                bad.append(f"{what}: prims {[hex(p) for p in prims]}, want {[hex(p) for p in exp]}")
        elif want:
            # sync: one word inside the object the program recorded
            lo, size = int(want[0]["addr"], 16), want[0]["size"]
            if len(prims) != 1 or not lo <= prims[0] < lo + size:
                bad.append(f"{what}: prims {g['prims']}, want one in [{lo:#x}, {lo + size:#x})")
        elif prims:
            bad.append(f"{what}: prims {g['prims']}, want none")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("tc", toolchains())
def test_semtable_walk_finds_the_sema_waiters(probe, tc):
    """Mutex, RWMutex.RLock and WaitGroup waiters are queued in
    runtime.semtable in every version: the treap walk must find their
    sudogs (before 1.26 it is the only way to the sema word)."""
    truth, got, _ = load(probe, tc)
    nsema = sum(1 for b in truth["blocked"] if KIND[b["what"]] == "sema")
    assert not got["sema_partial"]
    assert got["sema_sudogs"] >= nsema


@pytest.mark.parametrize("tc", toolchains())
def test_other_goroutines_are_not_candidates(probe, tc):
    """The runtime's own goroutines (GC workers, finalizer, ...) wait for
    reasons that are not leak candidates; main is running."""
    truth, got, by_goid = load(probe, tc)
    mine = {b["goid"] for b in truth["blocked"]}
    kinds = {g["goid"]: g["kind"] for g in got["goroutines"] if g["goid"] not in mine}
    assert kinds.get(1) == "none", kinds
    assert all(k in ("none", "other") for k in kinds.values()), kinds


@pytest.mark.parametrize("tc", toolchains())
def test_leaked_by_runtime_is_the_runtimes_verdict(probe, tc):
    """Where the sample ran the runtime's leak detector (Go 1.27), exactly
    the goroutines it marked "(leaked)" have status _Gleaked in the core."""
    truth, got, by_goid = load(probe, tc)
    want = {b["goid"] for b in truth["blocked"] if b.get("runtime_leaked")}
    have = {g["goid"] for g in got["goroutines"] if g["leaked_by_runtime"]}
    assert have == want
    if minor(tc) >= 27:
        # the sample's own leaked goroutines: the private channel, nil
        # channel, select {}, and the WaitGroup only the waiter holds
        assert len(want) == 4, truth["blocked"]
