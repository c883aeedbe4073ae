"""The sample cores exist for every toolchain: a missing core must fail the suite,
never silently shrink it."""
from conftest import SAMPLES, all_samples, toolchains

GO_SCENARIOS = ["c-uaf-map", "go-uaf", "map-grow-stale", "concurrent-map-writes",
                "c-double-free", "c-null-deref", "c-stack-overflow", "maps", "cgocheck", "go-nil-deref",
                # issue 14: faults the instruction explains
                "c-null-field-far", "c-uaf-mmap-field", "c-uaf-mmap-write", "c-noncanonical",
                "c-freelist-small", "c-freelist-key", "c-call-freed-fnptr", "c-stack-overflow-main",
                "go-panic-callback", "go-panic-error"]
C_SCENARIOS = ["c-uaf", "null-deref"]


def test_toolchains_listed():
    tcs = toolchains()
    # both map implementations: classic (<= 1.23) and Swiss (>= 1.24)
    assert {"go1.22", "go1.23"} & set(tcs), tcs
    assert {"go1.26", "go1.27"} <= set(tcs), tcs


def test_every_scenario_has_a_core():
    missing = []
    for tc in toolchains():
        for sc in GO_SCENARIOS:
            d = SAMPLES / tc / sc
            if not (d / "core").exists() or not (d / "truth.json").exists():
                missing.append(f"{tc}/{sc}")
    for sc in C_SCENARIOS:
        d = SAMPLES / "c" / sc
        if not (d / "core").exists() or not (d / "truth.json").exists():
            missing.append(f"c/{sc}")
    assert not missing, f"sample cores missing (run `make samples`): {missing}"
    assert len(all_samples()) >= len(toolchains()) * len(GO_SCENARIOS) + len(C_SCENARIOS)
