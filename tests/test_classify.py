"""coretool classify on every address each sample recorded: the recorded region
and state, and the recorded details (size, bin, goroutine, reason)."""
import pytest

from conftest import all_samples, run_jsonl

NO_STATE = {"image", "mapped", "unmapped"}  # regions without an allocation state


def cases():
    out = []
    for s in all_samples():
        addrs = s.truth.get("addresses", [])
        if addrs:
            out.append(pytest.param(s, id=repr(s)))
    return out


def check(truth, got):
    errs = []
    where = f"{truth['addr']} ({truth.get('what', '')})"
    if got["region"] != truth["region"]:
        return [f"{where}: region {got['region']} (state {got['state']}), expected "
                f"{truth['region']}/{truth.get('state')}; detail {got['detail']}"]
    if truth["region"] not in NO_STATE and truth.get("state") and got["state"] != truth["state"]:
        errs.append(f"{where}: state {got['state']}, expected {truth['state']}; detail {got['detail']}")
    td, gd = truth.get("detail", {}) or {}, got["detail"]
    if truth["region"] == "go-heap" and "elemsize" in td and "span" in gd:
        if gd["span"]["elemsize"] != td["elemsize"]:
            errs.append(f"{where}: elemsize {gd['span']['elemsize']}, expected {td['elemsize']}")
    if truth["region"] == "go-heap" and "base" in td and "slot" in gd:
        if int(gd["slot"]["base"], 16) != int(td["base"], 16):
            errs.append(f"{where}: slot base {gd['slot']['base']}, expected {td['base']}")
    if truth["region"] == "c-heap":
        if truth.get("state") == "free" and td.get("bin") and gd.get("bin") != td["bin"]:
            errs.append(f"{where}: bin {gd.get('bin')}, expected {td['bin']}")
        if "mmapped" in td and gd.get("mmapped") is not None and gd["mmapped"] != td["mmapped"]:
            errs.append(f"{where}: mmapped {gd['mmapped']}, expected {td['mmapped']}")
        if (td.get("arena") in ("main", "thread") and "main_arena" in gd
                and not td.get("mmapped")):
            if gd["main_arena"] != (td["arena"] == "main"):
                errs.append(f"{where}: main_arena {gd['main_arena']}, expected arena {td['arena']}")
    if truth["region"] == "go-stack" and "goid" in td:
        if gd.get("goid") != td["goid"]:
            errs.append(f"{where}: goroutine {gd.get('goid')}, expected {td['goid']}")
    if truth["region"] == "unmapped" and td.get("reason"):
        if gd.get("reason") != td["reason"]:
            errs.append(f"{where}: reason {gd.get('reason')}, expected {td['reason']}")
    return errs


@pytest.mark.parametrize("case", cases())
def test_recorded_addresses(case):
    check_recorded_addresses(case)


def check_recorded_addresses(sample):
    """classify every address sample recorded (also for gdb's cores: test_gcore.py)."""
    truths = sample.truth["addresses"]
    rc, got, err = run_jsonl(["classify", sample.core] + [a["addr"] for a in truths])
    assert rc in (0, 1), err
    assert len(got) == len(truths), err
    errs = []
    for t, g in zip(truths, got):
        assert int(g["addr"], 16) == int(t["addr"], 16)
        errs += check(t, g)
    assert not errs, "\n".join(errs)


@pytest.mark.parametrize("case", [pytest.param(s, id=repr(s)) for s in all_samples()
                                    if s.truth.get("crash", {}).get("fault_addr")])
def test_fault_address_region(case):
    check_fault_address_region(case)


def check_fault_address_region(sample):
    """The fault address each crash recorded is classified as the crash implies;
    returns the verdict."""
    crash = sample.truth["crash"]
    rc, got, err = run_jsonl(["classify", sample.core, crash["fault_addr"]])
    v = got[0]
    cls = crash["class"]
    if cls == "null-deref" and crash.get("field_offset", 0) >= 0x10000:
        # NULL plus a field offset past the null page: unmapped, but no longer
        # the null page; the class comes from the instruction's base (0)
        assert v["region"] == "unmapped" and v["detail"]["reason"] == "plain", v
    elif cls == "null-deref":
        assert v["region"] == "unmapped" and v["detail"]["reason"] == "null-page", v
    elif cls == "stack-overflow":
        assert v["region"] == "unmapped" and v["detail"]["reason"] == "stack-guard", v
    elif cls in ("c-use-after-free", "go-use-after-free"):
        # freed C memory: a chunk in a bin, or unmapped (a large chunk free() munmapped)
        assert (v["region"], v["state"]) in (("c-heap", "free"), ("unmapped", "n/a"),
                                             ("go-heap", "free")), v
    return v


def test_stdin_and_json_lines():
    ss = [s for s in all_samples() if s.is_go and s.truth.get("addresses")]
    assert ss, "no Go sample with recorded addresses"
    s = ss[0]
    addrs = [a["addr"] for a in s.truth["addresses"]][:5]
    rc, got, err = run_jsonl(["classify", s.core, "-"], input="\n".join(addrs) + "\n")
    assert [int(g["addr"], 16) for g in got] == [int(a, 16) for a in addrs]
    for g in got:
        assert set(g) == {"addr", "region", "state", "detail"}
