"""coretool cgocheck on the cgocheck sample of every toolchain: the Go pointers C
keeps (unpinned, dangling, pinned) and the freed C pointers a Go map keeps, as the
program recorded them; nothing for the cgo.Handle or the chunk of pointer-looking
integers (false positives matter as much as misses)."""
import pytest

from conftest import all_samples, run_json

CASES = [pytest.param(s, id=repr(s)) for s in all_samples() if s.scenario == "cgocheck"]


def test_every_toolchain_has_the_sample():
    from conftest import toolchains
    assert {s.values[0].toolchain for s in CASES} == set(toolchains())


@pytest.mark.parametrize("case", CASES)
def test_cgocheck_matches_truth(case):
    truth = case.truth["extra"]["cgocheck"]
    rc, rep, err = run_json(["cgocheck", case.core])
    assert rc == 1, err  # something dangles
    findings = rep["findings"]
    by_at = {int(f["at"], 16): f for f in findings}
    for want in truth["c_holds_go"]:
        f = by_at.get(int(want["holder_addr"], 16))
        assert f, f"no finding for C global {want['holder']}: {findings}"
        assert f["kind"] == "c-holds-go"
        assert f["verdict"] == want["verdict"], f
        assert f["holder"].startswith(want["holder"] + "+0x0"), f["holder"]
        assert int(f["value"], 16) == int(want["target"], 16)
    for want in truth["go_holds_freed_c"]:
        hits = [f for f in findings if f["kind"] == "go-holds-freed-c"
                and int(f["value"], 16) == int(want["target"], 16) and f["place"] == "map"]
        assert hits, f"freed C chunk {want} not reported"
        assert hits[0]["holder"].startswith(f'{want["map"]}["{want["key"]}"]'), hits[0]["holder"]
        assert hits[0]["verdict"] == "dangling" and not hits[0]["conservative"]
    # the handle is an integer: never a finding, and its object is never a target
    handle = truth["handle"]
    assert int(handle["holder_addr"], 16) not in by_at
    assert all(int(f["value"], 16) != int(handle["object"], 16) for f in findings)
    # 20,000 pointer-looking integers in a C chunk: none of them points into the Go heap
    lo = int(truth["noise_chunk"], 16)
    hi = lo + truth["noise_bytes"]
    assert not [f for f in findings if lo <= int(f["at"], 16) < hi]
    # exactly the recorded C-held Go pointers: no other C memory is reported
    c_side = [f for f in findings if f["kind"] == "c-holds-go"]
    assert len(c_side) == len(truth["c_holds_go"]), c_side
    s = rep["summary"]
    assert s["unpinned"] == 1 and s["ok"] == 1
    assert s["dangling"] == 1 + len(truth["go_holds_freed_c"]) + len(
        [f for f in findings if f["conservative"]])


def test_nothing_dangling_exit_zero():
    """A core where C keeps no Go pointer and no map holds a freed chunk: exit 0."""
    ss = [s for s in all_samples() if s.scenario == "c-null-deref"]
    assert ss
    rc, rep, err = run_json(["cgocheck", ss[0].core])
    assert rep["summary"]["dangling"] == 0, rep["findings"]
    assert rc == 0
