"""Bad input: one clear line on stderr and the documented exit code."""
import os
import shutil
import subprocess

import pytest

from conftest import CORETOOL, SAMPLES, run

USAGE, FATAL, PARTIAL = 64, 2, 1


def a_go_sample():
    for tc in ("go1.26", "go1.27", "go1.24", "go1.23", "go1.22"):
        d = SAMPLES / tc / "c-null-deref"
        if (d / "core").exists():
            return d
    pytest.fail("no go sample core (run `make samples`)")


def one_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) >= 1
    assert lines[0].startswith("coretool: "), err
    return lines[0]


def test_missing_file(tmp_path):
    rc, out, err = run(["info", tmp_path / "nope"])
    assert rc == FATAL
    assert "No such file" in one_line(err)


def test_not_elf(tmp_path):
    p = tmp_path / "text"
    p.write_text("hello, this is not a core\n" * 10)
    rc, out, err = run(["info", p])
    assert rc == FATAL
    assert "not an ELF file" in one_line(err)


def test_empty_file(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    rc, out, err = run(["info", p])
    assert rc == FATAL
    assert "not an ELF file" in one_line(err)


def test_elf_not_core():
    d = a_go_sample()
    rc, out, err = run(["info", d / "exe"])
    assert rc == FATAL
    assert "not a core file" in one_line(err)


def test_core_without_executable(tmp_path):
    d = a_go_sample()
    rc, out, err = run(["info", d / "core", "--exe", tmp_path / "gone"])
    assert rc == FATAL
    assert "gone" in one_line(err)
    # the path the core names, looked up under a sysroot where it is not
    rc, out, err = run(["--sysroot", tmp_path, "info", d / "core"])
    assert rc == FATAL
    line = one_line(err)
    assert "not found" in line and "--exe" in line


def test_stripped_executable(tmp_path):
    d = a_go_sample()
    stripped = tmp_path / "stripped"
    # the same binary without DWARF, as `go build -ldflags=-w` or strip leaves it
    subprocess.run(["strip", "-o", stripped, d / "exe"], check=True)
    rc, out, err = run(["info", d / "core", "--exe", stripped])
    assert rc == FATAL
    line = one_line(err)
    assert "no DWARF" in line and "stripped" in line


def test_json_error_object(tmp_path):
    rc, out, err = run(["--json", "info", tmp_path / "nope"])
    assert rc == FATAL
    import json
    obj = json.loads(out)
    assert "No such file" in obj["error"]


def test_truncated_core(tmp_path):
    d = a_go_sample()
    cut = tmp_path / "core"
    size = os.path.getsize(d / "core")
    with open(d / "core", "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(size // 2))
    rc, out, err = run(["info", cut, "--exe", d / "exe"])
    assert rc == PARTIAL, err
    assert "truncated" in err


@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["info"], ["info", "a", "b"], ["classify", "core"],
    ["--exe"],
])
def test_usage(args):
    rc, out, err = run(args)
    assert rc == USAGE
    assert err.strip()


def test_classify_bad_address():
    d = a_go_sample()
    rc, out, err = run(["classify", d / "core", "0xzz"])
    assert rc == USAGE
    assert "'0xzz' is not an address" in err


def test_help_lists_exit_codes():
    rc, out, err = run(["--help"])
    assert rc == 0
    for code in ("0 ", "1 ", "2 ", "64"):
        assert code in out
    for verb in ("info", "classify"):
        rc, out, err = run([verb, "--help"])
        assert rc == 0 and f"coretool {verb}" in out
