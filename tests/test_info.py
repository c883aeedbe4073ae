"""coretool info on every sample core: the Go version the toolchain prints, the
map implementation the program was built with, the process and its signal."""
import signal

from conftest import run_json, toolchains

CLASSIC = {"go1.19", "go1.20", "go1.21", "go1.22", "go1.23"}


def test_info_go_version_and_maps(go_sample):
    check_info_go(go_sample)


def check_info_go(go_sample):
    """info's Go version and map implementation (also for gdb's cores: test_gcore.py)."""
    rc, info, err = run_json(["info", go_sample.core])
    assert rc == 0, err
    go = info["go"]
    # the version the toolchain itself prints (`go env GOVERSION`), and the one the
    # program recorded from runtime.Version()
    assert go["version"] == toolchains()[go_sample.toolchain]
    assert go["version"] == go_sample.truth["go_version"]
    # the map implementation the program was built with (its build tags)
    assert go["map_impl"] == go_sample.truth["map_impl"]
    expected = "classic" if go_sample.toolchain in CLASSIC else "swiss"
    assert go["map_impl"] == expected
    assert info["dwarf"]["present"] and info["dwarf"]["compressed"]
    return info


def test_info_process(sample):
    check_info_process(sample)


def check_info_process(sample):
    rc, info, err = run_json(["info", sample.core])
    assert rc == 0, err
    if "pid" in sample.truth:
        assert info["process"]["pid"] == sample.truth["pid"]
    assert info["threads"], "no threads"
    assert info["executable"]["build_id_match"] == "matches"
    names = [m["name"] for m in info["modules"]]
    assert any("libc.so.6" in n for n in names), names
    sig = info["signal"]
    if sample.is_go and sample.truth.get("crash", {}).get("signal") == "SIGSEGV":
        # Go caught the SIGSEGV and re-raised SIGABRT: the core's own siginfo says so
        assert sig["signo"] == signal.SIGABRT
    if not sample.is_go and sample.truth.get("crash", {}).get("signal") == "SIGSEGV":
        assert sig["signo"] == signal.SIGSEGV
        assert sig["addr"] == sample.truth["crash"]["fault_addr"]
    return info
