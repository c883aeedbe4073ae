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
    # (info itself works without the executable: tests/test_hostile_misc.py)
    rc, out, err = run(["bt", d / "core", "--exe", tmp_path / "gone"])
    assert rc == FATAL
    assert "gone" in one_line(err)
    # the path the core names, looked up under a sysroot where it is not
    rc, out, err = run(["--sysroot", tmp_path, "bt", d / "core"])
    assert rc == FATAL
    line = one_line(err)
    assert "not found" in line and "--exe" in line


def test_stripped_executable(tmp_path):
    d = a_go_sample()
    stripped = tmp_path / "stripped"
    # the same binary without DWARF, as `go build -ldflags=-w` or strip leaves it
    subprocess.run(["strip", "-o", stripped, d / "exe"], check=True)
    rc, out, err = run(["bt", d / "core", "--exe", stripped])
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


def test_thousands_of_overlapping_program_headers(tmp_path):
    """A core whose program header table was replaced by 60,000 entries,
    duplicates of its own PT_LOADs (the shape damage takes in the corrupted
    corpus): coretool says the headers are damaged and keeps answering from the
    segments it could validate, instead of handing them to libdwfl, whose core
    report is quadratic in the header count."""
    import json
    import struct
    d = a_go_sample().parent / "maps"  # a sample with Go heap objects in its truth
    truth = json.loads((d / "truth.json").read_text())
    data = bytearray((d / "core").read_bytes())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    ent, num = struct.unpack_from("<HH", data, 0x36)
    phdrs = [bytes(data[phoff + i * ent:phoff + (i + 1) * ent]) for i in range(num)]
    loads = [p for p in phdrs if struct.unpack_from("<I", p, 0)[0] == 1]
    table = phdrs + [loads[i % len(loads)] for i in range(60000 - num)]
    new_phoff = len(data)
    data += b"".join(table)
    struct.pack_into("<Q", data, 0x20, new_phoff)
    struct.pack_into("<H", data, 0x38, 60000)
    core = tmp_path / "core"
    core.write_bytes(data)
    heap = [a for a in truth["addresses"] if a.get("region") == "go-heap"][:3]
    assert heap
    rc, out, err = run(["--exe", d / "exe", "--json", "classify", core] + [a["addr"] for a in heap],
                       timeout=60)
    assert rc in (0, PARTIAL), err
    assert "program headers damaged" in err, err
    got = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert [(g["region"], g["state"]) for g in got] == [(a["region"], a["state"]) for a in heap]
    rc, out, err = run(["--exe", d / "exe", "triage", core], timeout=60)
    assert rc in (0, PARTIAL) and "class:" in out, err


# ---------------------------------------------------------------- files that are not files
# A FIFO would block open() for ever (a hostile core can name one as its executable): every
# file coretool reads is opened without blocking and refused unless it is a regular file.

def test_fifo_as_core(tmp_path):
    fifo = tmp_path / "core"
    os.mkfifo(fifo)
    rc, out, err = run(["info", fifo], timeout=20)
    assert rc == FATAL and "not a regular file" in one_line(err)


def test_fifo_as_exe(tmp_path):
    d = a_go_sample()
    fifo = tmp_path / "exe"
    os.mkfifo(fifo)
    rc, out, err = run(["--exe", fifo, "bt", d / "core"], timeout=20)
    assert rc == FATAL and "not a regular file" in one_line(err)


def test_fifo_in_the_cache(tmp_path):
    d = a_go_sample()
    cache = tmp_path / "cache"
    env = dict(os.environ, CORETOOL_CACHE_DIR=str(cache))
    argv = [str(CORETOOL), "--json", "classify", str(d / "core"), "0x10"]
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    entries = [p for p in cache.iterdir() if p.is_file()]
    assert entries, "the first run stored nothing in the cache"
    for p in entries:
        p.unlink()
        os.mkfifo(p)
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=20)
    assert again.returncode == first.returncode and again.stdout == first.stdout
