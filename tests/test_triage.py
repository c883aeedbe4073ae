"""coretool triage on every crash sample: the class and the facts the program
recorded about its own crash (fault address, C function, Go caller, holder,
Go's fatal message, glibc's abort message)."""
import pytest

from conftest import all_samples, run_json, run_jsonl, run


def crash_samples():
    return [pytest.param(s, id=repr(s)) for s in all_samples() if s.truth.get("crash")]


@pytest.mark.parametrize("case", crash_samples())
def test_triage_matches_truth(case):
    check_triage(case)


def check_triage(sample):
    """triage of sample's core against its truth (also for gdb's cores: test_gcore.py);
    returns the report."""
    crash = sample.truth["crash"]
    rc, rep, err = run_json(["triage", sample.core])
    assert rc in (0, 1), err
    assert rep["class"] == crash["class"], rep["verdict"]
    if crash.get("signal"):
        assert rep["signal"]["name"] == crash["signal"], rep["signal"]
    if crash.get("core_signal"):
        assert rep["signal"]["core_signal"] == crash["core_signal"]
    if crash.get("source"):
        assert rep["signal"]["source"] == crash["source"]
    elif sample.is_go and crash.get("signal") == "SIGSEGV":
        # the core says SIGABRT; the SIGSEGV came out of Go's signal frame
        assert rep["signal"]["source"] == "signal-frame"
    if crash.get("fault_addr"):
        assert rep["signal"]["addr"] == crash["fault_addr"]
    if crash.get("c_function") and crash.get("class") == "go-panic" and rep["c_function"] is None:
        # A panic in a Go callback: Go's deferred unwindm puts g0's stack
        # pointer back, and the crash runs over the C frames. The report
        # must say so rather than leave the gap unexplained.
        assert "callback" in (rep["backtrace_stop"] or ""), rep["backtrace_stop"]
    elif crash.get("c_function"):
        assert rep["c_function"] == crash["c_function"], rep["backtrace"][:4]
        assert any(f["function"] == crash["c_function"] for f in rep["backtrace"])
    if crash.get("go_caller"):
        gc = rep["go_caller"] or ""
        assert gc == crash["go_caller"] or gc.startswith(crash["go_caller"] + ".func"), \
            (gc, [f["function"] for f in rep["backtrace"]])
        # the Go frames follow the C frames across the cgo switch
        assert any(f["lang"] == "go" and (f["function"] or "").startswith(crash["go_caller"])
                   for f in rep["backtrace"])
    if crash.get("go_callers"):
        # After the frame the fault was in, the goroutine's callers, in the
        # order the program's own runtime.Callers saw them (through sigpanic:
        # the unwinder must go on from the faulting instruction itself).
        # (ELF names Go's assembly functions with their ABI: runtime.goexit.abi0.)
        funcs = [(f["function"] or "").removesuffix(".abi0") for f in rep["backtrace"]]
        i = next(i for i, f in enumerate(funcs) if (f or "").startswith(crash["go_caller"]))
        want = crash["go_callers"]
        assert funcs[i + 1:i + 1 + len(want)] == want, (funcs, want)
    if crash.get("fatal_msg"):
        assert rep["go_fatal"] and crash["fatal_msg"] in rep["go_fatal"]
    if crash.get("class") == "concurrent-map-write" and crash.get("map"):
        assert rep["fatal_map"] and rep["fatal_map"]["name"] == crash["map"]
        assert int(rep["fatal_map"]["addr"], 16) == int(crash["map_addr"], 16)
        assert crash["map"] in rep["verdict"]
    if crash.get("abort_msg"):
        assert rep["abort_msg"] == crash["abort_msg"]
    holder = crash.get("holder") or {}
    if holder.get("map"):
        wheres = [h["where"] for h in rep["holders"]]
        assert any(holder["map"] in w and holder["key"] in w for w in wheres), wheres
        assert holder["map"] in rep["verdict"]
    if holder.get("global"):
        held = (rep.get("victim") or {}).get("held_by", []) + [h["where"] for h in rep["holders"]]
        assert any(w.startswith(holder["global"] + "+") for w in held), held
    if crash.get("victim"):
        assert rep["victim"] and int(rep["victim"]["object"], 16) == int(crash["victim"], 16)
    assert len(rep["signature"]) == 16
    check_instruction_facts(crash, rep)
    return rep


def check_instruction_facts(crash, rep):
    """What the faulting instruction says, against what the program knew."""
    ptr = rep["pointer"] or {}
    if crash.get("addr_source"):
        assert rep["signal"]["addr_source"] == crash["addr_source"]
        assert rep["signal"]["code_name"] == "SI_KERNEL"  # a #GP: the kernel gave no address
    if crash.get("access"):
        access = rep["instruction"]["access"]
        assert access == crash["access"], rep["instruction"]
    if crash.get("pointer") and crash.get("access") != "call":
        # the object pointer the instruction went through
        assert ptr.get("value") == crash["pointer"], (ptr, rep["instruction"])
        if crash.get("field_offset") is not None and crash.get("addr_source") is None:
            assert int(rep["signal"]["addr"], 16) - int(ptr["value"], 16) == crash["field_offset"]
    if crash.get("pointer") and crash.get("access") == "call":
        assert rep["instruction"]["bad_pc"] and rep["signal"]["addr"] == crash["pointer"]
    if crash.get("loaded_from"):
        lf = ptr.get("loaded_from") or {}
        assert lf.get("addr") == crash["loaded_from"], ptr
        # the word was read out of the freed object itself
        assert lf["verdict"]["region"] == "c-heap" and lf["verdict"]["state"] == "free", lf
        if crash.get("object"):
            assert int(lf["verdict"]["detail"]["user"], 16) == int(crash["object"], 16), lf
    if crash.get("non_canonical"):
        addr = int(rep["signal"]["addr"], 16)
        assert addr >> 47 not in (0, 0x1ffff)
    if crash.get("panic_msg"):
        assert rep["panic"] and rep["panic"]["message"] == crash["panic_msg"], rep["panic"]
        assert rep["panic"]["message_exact"]
        assert crash["panic_msg"] in rep["verdict"]
        if crash.get("goid") is not None:
            assert rep["panic"]["goroutine"] == crash["goid"]
        if crash.get("go_function"):
            assert any((f["function"] or "") == crash["go_function"] for f in rep["backtrace"])
    if crash.get("freed_ptr"):
        assert rep["freed_ptr"] and int(rep["freed_ptr"]["addr"], 16) == int(crash["freed_ptr"], 16)
        assert crash["freed_ptr"][2:].lstrip("0") in rep["verdict"]
    holder = crash.get("holder") or {}
    if holder.get("map") and rep["class"] != "go-use-after-free":
        # the verdict names the best holder: the map entry
        assert holder["map"] in (rep["best_holder"] or ""), rep["best_holder"]


def test_one_bug_one_signature_across_toolchains():
    """The program's own frames, normalized (closures, cgo wrappers), give one
    signature per scenario whatever the Go version."""
    by_scenario = {}
    for s in all_samples():
        if s.truth.get("crash") and s.is_go:
            rc, rep, err = run_json(["triage", s.core])
            by_scenario.setdefault(s.truth["scenario"], {})[s.toolchain] = rep["signature"]
    assert len(by_scenario) >= 15
    split = {sc: sigs for sc, sigs in by_scenario.items() if len(set(sigs.values())) != 1}
    assert not split, split
    # and different bugs do not collapse into one
    firsts = [next(iter(sigs.values())) for sigs in by_scenario.values()]
    assert len(set(firsts)) == len(firsts)


def test_batch_groups_copies_and_reports_errors(tmp_path):
    """A batch over the crash cores plus copies: the copies share a signature; a
    truncated core and a non-core come out as error objects, the rest succeed."""
    ss = [s for s in all_samples() if s.truth.get("crash")]
    assert ss
    cores = [str(s.core) for s in ss]
    copy = tmp_path / "copy.core"
    copy.write_bytes(ss[0].core.read_bytes())
    bogus = tmp_path / "bogus.core"
    bogus.write_text("not a core\n")
    cut = tmp_path / "cut.core"
    cut.write_bytes(ss[0].core.read_bytes()[:600])  # headers only: no notes, no memory
    cores += [str(copy), str(bogus), str(cut)]
    rc, lines, err = run_jsonl(["triage", "--jobs", "2"] + cores, timeout=600)
    by_core = {l["core"]: l for l in lines}
    assert len(lines) == len(cores), err
    assert "error" in by_core[str(bogus)]
    assert "error" in by_core[str(cut)]
    ok = [l for l in lines if "error" not in l]
    assert len(ok) == len(cores) - 2
    assert by_core[str(copy)]["signature"] == by_core[str(ss[0].core)]["signature"]
    assert rc == 1  # one core failed


def test_summary_groups():
    ss = [s for s in all_samples() if s.truth.get("crash")][:4]
    cores = [str(s.core) for s in ss] * 2
    rc, out, err = run(["triage", "--summary"] + cores, timeout=600)
    assert "summary: %d cores" % len(cores) in out
    # every distinct signature shows up with a count of at least 2
    counts = [int(l.split()[0]) for l in out.split("summary:")[1].splitlines()[1:]
              if l.strip() and l.strip()[0].isdigit()]
    assert counts and all(c >= 2 for c in counts), out


def test_sarif_one_result_per_signature():
    import json
    ss = [s for s in all_samples() if s.truth.get("crash")][:5]
    cores = [str(s.core) for s in ss] + [str(ss[0].core)]
    rc, lines, err = run_jsonl(["triage", "--jobs", "2"] + cores, timeout=600)
    sigs = {l["signature"]: l["class"] for l in lines if "signature" in l}
    rc, out, err = run(["triage", "--sarif"] + cores, timeout=600)
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert {r["partialFingerprints"]["coretoolSignature/v1"] for r in results} == set(sigs)
    for r in results:
        assert r["ruleId"] == sigs[r["partialFingerprints"]["coretoolSignature/v1"]]
    assert sum(r["properties"]["count"] for r in results) == len(cores)
    assert log["$schema"].endswith("sarif-2.1.0.json")
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rules
    assert {"go-panic", "null-deref", "c-use-after-free", "wild-pointer"} <= rules


def test_sarif_location_is_the_programs_own_frame():
    """A crash inside glibc (a double free) and a Go panic in a callback: the
    result points at the program's own code, not at libc or the runtime."""
    import json
    want = {"c-double-free": ("crasher.c", "release_twice"),
            "go-panic-error": ("scen_panic.go", "main.openConfigPanics")}
    ss = [s for s in all_samples() if s.toolchain == "go1.26" and s.scenario in want]
    assert len(ss) == len(want)
    rc, out, err = run(["triage", "--sarif"] + [str(s.core) for s in ss], timeout=600)
    results = json.loads(out)["runs"][0]["results"]
    assert len(results) == len(want)
    for r in results:
        loc = r["locations"][0]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        func = loc["logicalLocations"][0]["fullyQualifiedName"]
        assert (uri.rsplit("/", 1)[-1], func) in want.values(), (uri, func)


def test_frames_in_a_library_without_symbols():
    """The C sample run with glibc 2.41, whose libc.so.6 is stripped: a frame in
    a static libc function has no symbol and says its offset in the library;
    with that glibc's debug files (--debug-dir, relative here) it has the name
    binutils' nm reads from the debug file at that offset."""
    import os
    import pathlib
    import re
    import subprocess
    ss = [s for s in all_samples() if s.toolchain.startswith("c-glibc") and s.scenario == "c-uaf"]
    assert ss, "scripts/glibc.sh and samples/build.sh make c-glibc2.41"
    s = ss[0]
    rc, info, err = run_json(["info", s.core])
    libc = next(m for m in info["modules"] if m["name"].endswith("libc.so.6"))
    rc, bts, err = run_json(["bt", s.core])
    frames = bts[0]["frames"]
    nosym = [f for f in frames if f["module"] and f["module"].endswith("libc.so.6") and not f["function"]]
    assert nosym, frames
    f = nosym[0]
    assert int(f["pc"], 16) - int(libc["start"], 16) == f["offset"]
    rc, out, err = run(["bt", s.core])
    assert f"?? (libc.so.6+0x{f['offset']:x})" in out
    # With the debug files: nm's symbol that holds the call (pc - 1).
    dbg = pathlib.Path(s.debug_dir) / ".build-id" / libc["build_id"][:2] / f"{libc['build_id'][2:]}.debug"
    nm = subprocess.run(["nm", "-S", "--defined-only", str(dbg)], capture_output=True, text=True).stdout
    want = None
    for line in nm.splitlines():
        m = re.match(r"([0-9a-f]+) ([0-9a-f]+) [tTwW] (\S+)$", line)
        if m and int(m[1], 16) <= f["offset"] - 1 < int(m[1], 16) + int(m[2], 16):
            want = (m[3], f["offset"] - int(m[1], 16))
    assert want, f"nm: no symbol at 0x{f['offset']:x}"
    rel = os.path.relpath(s.debug_dir)
    rc, bts, err = run_json(["--debug-dir", rel, "bt", s.core])
    g = next(x for x in bts[0]["frames"] if x["pc"] == f["pc"])
    assert (g["function"], g["offset"]) == want


@pytest.mark.parametrize("case", [pytest.param(s, id=repr(s)) for s in all_samples()
                                  if s.truth.get("scenario") in ("c-null-field-far", "c-noncanonical",
                                                                 "c-double-free")])
def test_frame_variables_hold_the_recorded_pointers(case):
    """The faulting C function's parameter (DWARF location, frame base from the
    unwound CFA) holds the pointer the program recorded; the verdict names it,
    and the member at the offset from its type."""
    crash = case.truth["crash"]
    rc, rep, err = run_json(["triage", case.core])
    want = crash.get("freed_ptr") or crash["pointer"]
    fn = crash["c_function"]
    frames = [fv for fv in rep["frame_vars"] if fv["function"] == fn]
    assert frames, [fv["function"] for fv in rep["frame_vars"]]
    params = [v for v in frames[0]["vars"] if v["param"]]
    assert any(v["state"] == "ok" and int(v["value"], 16) == int(want, 16) for v in params), params
    name = next(v["name"] for v in params if v["state"] == "ok" and int(v["value"], 16) == int(want, 16))
    assert f"{name} = " in rep["verdict"]
    if case.truth["scenario"] == "c-null-field-far":
        assert f"{name}->refs" in rep["verdict"]  # the member at 0x493e0, from the DWARF type
