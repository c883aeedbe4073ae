"""Cores written by gdb (`gcore`, `gdb -p`) and by Delve (`dump`) as input: the
sample scenarios cored by gdb at the signal that kills them
(build/samples-gcore/, samples/build.sh with CORE_MODE=gdb) must give the
answers the kernel's cores give, checked against their own truth.json with the
kernel cores' checks (test_triage, test_classify, test_info, test_maps), then
against the kernel core of the same scenario on what must not differ. gdb
leaves read-only file mappings out of its cores altogether (no program header):
coretool reads them from the files NT_FILE names, so Go's string literals, type
names and wait reasons are there as in a kernel core.

maps-running: the maps scenario waiting where it would crash, cored by
`gdb -p`; maps-delve: the same, dumped by Delve (no NT_FILE, no siginfo, only
the pid of the process). Their truth was written before the wait: the C heap
plan is not released yet (maps_release_and_crash does it), so the C chunks the
truth says are free are still allocated, and nothing crashed.
"""
import json

import pytest

from conftest import GCORE_SAMPLES, SAMPLES, all_samples, run_json, run_jsonl, toolchains
from test_classify import check, check_fault_address_region, check_recorded_addresses
from test_info import check_info_go, check_info_process
from test_maps import check_map_dump, check_maps_found
from test_samples import C_SCENARIOS, GO_SCENARIOS
from test_triage import check_triage

RUNNING = ("maps-running", "maps-delve")
KERNEL = all_samples(SAMPLES)
GCORES = [s for s in all_samples(GCORE_SAMPLES) if s.scenario not in RUNNING]
CRASHES = [s for s in GCORES if s.truth.get("crash")]
GO_GCORES = [s for s in GCORES if s.is_go]
MAPS = [s for s in GO_GCORES if s.truth.get("maps")]
RUN_GDB = [s for s in all_samples(GCORE_SAMPLES) if s.scenario == "maps-running"]
RUN_DELVE = [s for s in all_samples(GCORE_SAMPLES) if s.scenario == "maps-delve"]


def ids(ss):
    return [repr(s) for s in ss]


def kernel_twin(s):
    """The kernel's core of the same scenario and toolchain, if there is one."""
    d = SAMPLES / s.toolchain / s.scenario
    return next((k for k in KERNEL if k.dir == d), None)


def test_every_scenario_has_a_gcore():
    missing = []
    for tc in toolchains():
        for sc in GO_SCENARIOS + ["maps-running", "maps-delve"]:
            d = GCORE_SAMPLES / tc / sc
            if not (d / "core").exists() or not (d / "truth.json").exists():
                missing.append(f"{tc}/{sc}")
    for sc in C_SCENARIOS:
        d = GCORE_SAMPLES / "c" / sc
        if not (d / "core").exists() or not (d / "truth.json").exists():
            missing.append(f"c/{sc}")
    assert not missing, f"gdb/Delve sample cores missing (run `make samples`): {missing}"


@pytest.mark.parametrize("s", GCORES + RUN_GDB, ids=ids(GCORES + RUN_GDB))
def test_gdb_core_recognised_and_files_read(s):
    """info says gdb wrote the core, and that the bytes gdb left out came from the
    files: all of them (the samples' files are all on this machine)."""
    rc, info, err = run_json(["info", s.core])
    assert rc == 0, err
    core = info["core"]
    assert core["writer"] == "gdb" and core["nt_file"], core
    # gdb leaves out at least libc's read-only segments (and a Go program's rodata)
    assert core["bytes_unlisted"] > 0, core
    ff = info["from_files"]
    assert ff["bytes_not_saved"] >= core["bytes_unlisted"]
    assert ff["bytes_read"] == ff["bytes_not_saved"], ff
    # the signalled thread's siginfo, not the last thread's (gdb writes one per thread)
    if s.truth.get("crash", {}).get("signal") and s.scenario not in RUNNING:
        assert info["signal"]["name"] in ("SIGABRT", "SIGSEGV", "SIGBUS"), info["signal"]


@pytest.mark.parametrize("s", CRASHES, ids=ids(CRASHES))
def test_gcore_triage_matches_truth(s):
    check_triage(s)


@pytest.mark.parametrize("s", [s for s in GCORES if s.truth.get("addresses")],
                         ids=ids([s for s in GCORES if s.truth.get("addresses")]))
def test_gcore_recorded_addresses(s):
    check_recorded_addresses(s)


@pytest.mark.parametrize("s", [s for s in CRASHES if s.truth["crash"].get("fault_addr")],
                         ids=ids([s for s in CRASHES if s.truth["crash"].get("fault_addr")]))
def test_gcore_fault_address_region(s):
    check_fault_address_region(s)


@pytest.mark.parametrize("s", GO_GCORES, ids=ids(GO_GCORES))
def test_gcore_info_go_version(s):
    check_info_go(s)


@pytest.mark.parametrize("s", GCORES, ids=ids(GCORES))
def test_gcore_info_process(s):
    check_info_process(s)


@pytest.mark.parametrize("s", MAPS, ids=ids(MAPS))
def test_gcore_maps_and_entries(s):
    check_maps_found(s)
    for m in s.truth["maps"]:
        check_map_dump(s, m["name"])


# ---------------------------------------------------------------- against the kernel's core

TWINS = [(s, kernel_twin(s)) for s in GCORES if kernel_twin(s)]


def run_free(entry) -> str:
    """A map entry as JSON without what differs between two runs of the same
    program: a slice value's backing array address ({"len", "cap", "ptr"})."""
    def strip(v):
        if isinstance(v, dict):
            if set(v) == {"len", "cap", "ptr"}:
                return {"len": v["len"], "cap": v["cap"]}
            return {k: strip(x) for k, x in v.items()}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    return json.dumps(strip(entry), sort_keys=True)


@pytest.mark.parametrize("s,k", TWINS, ids=ids([s for s, _ in TWINS]))
def test_same_answers_as_the_kernel_core(s, k):
    """What must not differ between gdb's core and the kernel's of the same scenario
    (another run of the same program: addresses may differ, the bug may not)."""
    if s.truth.get("crash"):
        _, g, _ = run_json(["triage", s.core])
        _, c, _ = run_json(["triage", k.core])
        assert (g["class"], g["rule"], g["signature"]) == (c["class"], c["rule"], c["signature"]), \
            (g["verdict"], c["verdict"])
        fa_s, fa_k = s.truth["crash"].get("fault_addr"), k.truth["crash"].get("fault_addr")
        if fa_s and fa_k:
            _, gv, _ = run_jsonl(["classify", s.core, fa_s])
            _, kv, _ = run_jsonl(["classify", k.core, fa_k])
            assert (gv[0]["region"], gv[0]["state"]) == (kv[0]["region"], kv[0]["state"]), (gv, kv)
    if s.is_go:
        _, gi, _ = run_json(["info", s.core])
        _, ki, _ = run_json(["info", k.core])
        assert gi["go"]["version"] == ki["go"]["version"] and gi["go"]["version"]
    if s.scenario == "maps":
        # maps whose recorded entries are the same in both runs have the same entries
        kt = {m["name"]: m for m in k.truth["maps"]}
        same = [m["name"] for m in s.truth["maps"]
                if m["name"] in kt and json.dumps(m["entries"], sort_keys=True)
                == json.dumps(kt[m["name"]]["entries"], sort_keys=True)]
        assert same, "no map recorded alike in both runs"
        for name in same:
            _, gm, _ = run_json(["map", s.core, name])
            _, km, _ = run_json(["map", k.core, name])
            assert sorted(map(run_free, gm["entries"])) == \
                sorted(map(run_free, km["entries"])), name


# ---------------------------------------------------------------- running processes

def running_checks(s):
    """A process cored while it ran, at the point it would crash: the maps and the
    addresses the truth recorded, except the C chunks maps_release_and_crash would
    have freed (still allocated)."""
    check_info_go(s)
    check_maps_found(s)
    for m in s.truth["maps"]:
        check_map_dump(s, m["name"])
    truths = [a for a in s.truth["addresses"] if a["region"] != "c-heap"]
    rc, got, err = run_jsonl(["classify", s.core] + [a["addr"] for a in truths])
    assert rc in (0, 1), err
    errs = [e for t, g in zip(truths, got) for e in check(t, g)]
    assert not errs, "\n".join(errs)
    rc, gs, err = run_json(["goroutines", s.core])
    assert rc in (0, 1), err
    by_id = {g["id"]: g for g in gs}
    # the parked worker the truth recorded, with its wait reason (a string in rodata:
    # gdb leaves it out of its cores)
    for a in s.truth["addresses"]:
        d = a.get("detail") or {}
        if a["region"] == "go-stack" and "goid" in d:
            g = by_id[d["goid"]]
            assert (g["status"], g["wait_reason"]) == ("waiting", d["wait_reason"]), g
    # the main goroutine sleeps where the scenario would have crashed (waitIfAsked)
    assert (by_id[1]["status"], by_id[1]["wait_reason"]) == ("waiting", "sleep"), by_id[1]


@pytest.mark.parametrize("s", RUN_GDB, ids=ids(RUN_GDB))
def test_running_process_cored_by_gdb(s):
    running_checks(s)
    rc, info, err = run_json(["info", s.core])
    assert info["process"]["pid"] == s.truth["pid"]


@pytest.mark.parametrize("s", RUN_DELVE, ids=ids(RUN_DELVE))
def test_running_process_dumped_by_delve(s):
    running_checks(s)
    rc, info, err = run_json(["info", s.core])
    core = info["core"]
    # Delve writes no NT_FILE and no siginfo: said, not made up
    assert core["writer"] == "delve" and not core["nt_file"], core
    assert info["signal"] is None or not info["signal"].get("present", True), info["signal"]
    assert info["process"]["pid"] == s.truth["pid"]
    assert info["executable"]["build_id_match"] == "matches"
    names = [m["name"] for m in info["modules"]]
    assert any("libc.so.6" in n for n in names), names
