"""The DWARF index cache (coretool/cache.c, dw.c): a cached open must answer
exactly as an uncached one, and a damaged, foreign or unwritable cache must
never change an answer — only cost the rebuild.

The answers themselves are checked against the samples' truth by the other
test files, which run with the cache on (conftest.py); here the cached paths
are compared with the uncached one on the same inputs.
"""
import json
import os
import pathlib
import re
import subprocess

import pytest

from conftest import CORETOOL, SANITIZER_EXIT, all_samples, sanitizer_report


def _run(args, cache):
    env = dict(os.environ, CORETOOL_CACHE_DIR=str(cache))
    p = subprocess.run([str(CORETOOL)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=300, env=env)
    bad = sanitizer_report(p.stderr)
    assert p.returncode != SANITIZER_EXIT and bad is None, f"sanitizer report: {bad}\n{p.stderr[-3000:]}"
    return p.returncode, p.stdout, p.stderr


def _build_id(exe):
    """The GNU build ID as readelf (binutils) reads it, not as coretool does."""
    out = subprocess.run(["readelf", "-n", str(exe)], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def _pick():
    """Per toolchain the maps sample (maps, many types); the C sample and the
    newest Go's c-uaf-map (C heap addresses: the malloc layout cache)."""
    out = [s for s in all_samples() if s.scenario == "maps"]
    out += [s for s in all_samples() if s.toolchain == "c" and s.scenario == "c-uaf"]
    out += [s for s in all_samples() if s.scenario == "c-uaf-map"][-1:]
    return out


CASES = _pick()


def _commands(s):
    cmds = [["info"], ["bt"], ["triage"], ["heap"] if s.is_go else ["info"]]
    addrs = [a["addr"] for a in s.truth.get("addresses", [])][:40]
    if addrs:
        cmds.append(["classify"] + addrs)
    for m in s.truth.get("maps", [])[:6]:
        if m.get("name") and not m.get("nil"):
            cmds.append(["map", m["name"]])
    return cmds


def _answers(s, cache):
    """Every command's rc and JSON output, with the cache's own fields taken out."""
    res = []
    for c in _commands(s):
        rc, out, err = _run(["--json", c[0], s.core] + c[1:], cache)
        if c[0] == "info":
            d = json.loads(out)
            d["dwarf"].pop("cache")
            d["dwarf"].pop("cache_note")
            out = json.dumps(d, sort_keys=True)
        res.append((c, rc, out))
    return res


def _state(s, cache):
    rc, out, _ = _run(["--json", "info", s.core], cache)
    d = json.loads(out)["dwarf"]
    return d["cache"], d["cache_note"]


@pytest.mark.parametrize("s", CASES, ids=[repr(s) for s in CASES])
def test_cached_answers_equal_uncached(s, tmp_path):
    cache = tmp_path / "cache"
    uncached = _answers(s, "off")
    assert not cache.exists()
    assert _state(s, cache)[0] == "stored"
    assert _state(s, cache)[0] == "hit"
    cached = _answers(s, cache)
    for (c, rc0, out0), (_, rc1, out1) in zip(uncached, cached):
        assert rc1 == rc0, c
        assert out1 == out0, f"{c}: cached answer differs"
    assert len(uncached) >= 4


@pytest.mark.parametrize("s", CASES, ids=[repr(s) for s in CASES])
def test_cache_file_named_by_build_id(s, tmp_path):
    bid = _build_id(s.exe)
    assert bid, "the samples are linked with a GNU build ID"
    state, note = _state(s, tmp_path)
    f = tmp_path / f"{bid}.dwidx"
    assert state == "stored" and note == str(f) and f.is_file()
    assert f.stat().st_mode & 0o077 == 0  # private to the user


def _damage(kind, f: pathlib.Path, other: pathlib.Path):
    b = bytearray(f.read_bytes())
    if kind == "flip":  # one bit in the middle of the payload
        b[len(b) // 2] ^= 0x10
        f.write_bytes(bytes(b))
    elif kind == "truncate":
        f.write_bytes(bytes(b[: len(b) // 3]))
    elif kind == "header":  # zero the header: not a cache file
        f.write_bytes(bytes(64) + bytes(b[64:]))
    elif kind == "empty":
        f.write_bytes(b"")
    elif kind == "foreign":  # a valid entry of another executable under this name
        f.write_bytes(other.read_bytes())
    elif kind == "garbage":
        f.write_bytes(os.urandom(len(b)))


@pytest.mark.parametrize("kind", ["flip", "truncate", "header", "empty", "foreign", "garbage"])
def test_damaged_cache_is_rebuilt(kind, tmp_path):
    go = [s for s in CASES if s.is_go]
    if len(go) < 2:
        pytest.fail("needs the maps sample of two Go toolchains")
    s, o = go[-1], go[0]
    assert _build_id(s.exe) != _build_id(o.exe)
    want = _answers(s, "off")
    assert _state(s, tmp_path)[0] == "stored"
    assert _state(o, tmp_path)[0] == "stored"
    f = tmp_path / f"{_build_id(s.exe)}.dwidx"
    good = f.read_bytes()
    _damage(kind, f, tmp_path / f"{_build_id(o.exe)}.dwidx")
    assert f.read_bytes() != good
    got = _answers(s, tmp_path)  # the first of these rebuilds and stores again
    for (c, rc0, out0), (_, rc1, out1) in zip(want, got):
        assert (rc1, out1) == (rc0, out0), f"{c} after a '{kind}' cache"
    assert f.read_bytes() == good  # the same index, rebuilt
    assert _state(s, tmp_path)[0] == "hit"


def test_unwritable_cache_still_answers(tmp_path):
    s = next(s for s in CASES if s.is_go)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    want = _answers(s, "off")
    got = _answers(s, blocker / "cache")
    assert [(rc, out) for _, rc, out in got] == [(rc, out) for _, rc, out in want]
    state, note = _state(s, blocker / "cache")
    assert state == "not stored" and "cannot create" in note


def test_cache_off_writes_nothing(tmp_path):
    s = CASES[0]
    env_home = tmp_path / "home"
    env_home.mkdir()
    env = dict(os.environ, CORETOOL_CACHE_DIR="off", HOME=str(env_home), XDG_CACHE_HOME="")
    p = subprocess.run([str(CORETOOL), "--json", "info", str(s.core)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert json.loads(p.stdout)["dwarf"]["cache"] == "off"
    assert list(env_home.rglob("*")) == []
    # Unset, it goes under $HOME/.cache/coretool.
    env.pop("CORETOOL_CACHE_DIR")
    p = subprocess.run([str(CORETOOL), "--json", "info", str(s.core)], capture_output=True,
                       text=True, env=env, timeout=120)
    d = json.loads(p.stdout)["dwarf"]
    assert d["cache"] == "stored" and d["cache_note"].startswith(str(env_home / ".cache" / "coretool") + "/")


LIBC = pathlib.Path("/lib/x86_64-linux-gnu/libc.so.6")


@pytest.mark.parametrize("kind", ["none", "flip", "garbage"])
def test_malloc_layout_cache(kind, tmp_path):
    """libc's malloc layout and main_arena, read from libc6-dbg once, then from
    the cache: C heap answers equal the uncached ones, also after damage."""
    s = next(s for s in CASES if s.scenario == "c-uaf")
    bid = _build_id(LIBC.resolve())
    assert bid, "libc6 has a build ID"
    if not pathlib.Path(f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug").exists():
        root = pathlib.Path(__file__).resolve().parent.parent
        p = subprocess.run(["bash", str(root / "scripts" / "install-libc-dbg.sh")],
                           capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, f"libc6-dbg could not be installed: {p.stderr[-500:]}"
    want = _answers(s, "off")
    assert any('"region": "c-heap"' in out or '"c-heap"' in out for c, _, out in want
               if c[0] == "classify"), "the sample has C heap addresses"
    first = _answers(s, tmp_path)
    f = tmp_path / f"{bid}.malloc"
    assert f.is_file(), "libc6-dbg is installed (scripts/install-deps.sh): the layout is cached"
    _damage(kind, f, f) if kind != "none" else None
    again = _answers(s, tmp_path)
    for (c, rc0, out0), (_, rc1, out1), (_, rc2, out2) in zip(want, first, again):
        assert (rc1, out1) == (rc0, out0), c
        assert (rc2, out2) == (rc0, out0), f"{c} with a '{kind}' malloc cache"


def test_cache_keeps_under_its_size_by_recent_use(tmp_path):
    """Storing an entry past CORETOOL_CACHE_MAX_MB deletes the least recently
    used ones; reading an entry counts as use."""
    import time
    a, b, c = [s for s in all_samples() if s.scenario == "maps"][:3]
    for s in (a, b):
        assert _state(s, tmp_path)[0] == "stored"
    fa, fb = (tmp_path / f"{_build_id(s.exe)}.dwidx" for s in (a, b))
    now = time.time()
    os.utime(fa, (now - 300, now - 300))
    os.utime(fb, (now - 200, now - 200))
    assert _state(a, tmp_path)[0] == "hit"  # a is now the most recently used
    assert fa.stat().st_mtime > now - 60
    fc = tmp_path / f"{_build_id(c.exe)}.dwidx"
    # Room for a with b or with c, not for all three: b, the oldest, goes.
    scratch = tmp_path / "scratch"
    _state(c, scratch)
    sa, sb, sc = fa.stat().st_size, fb.stat().st_size, (scratch / fc.name).stat().st_size
    mb = 1024 * 1024
    limit_mb = -(-max(sa + sb, sa + sc) // mb)
    assert limit_mb * mb < sa + sb + sc, "entries of over 1 MB each"
    env = dict(os.environ, CORETOOL_CACHE_DIR=str(tmp_path), CORETOOL_CACHE_MAX_MB=str(limit_mb))
    p = subprocess.run([str(CORETOOL), "--json", "info", str(c.core)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert json.loads(p.stdout)["dwarf"]["cache"] == "stored"
    assert fc.exists() and fa.exists() and not fb.exists()
    assert sum(f.stat().st_size for f in tmp_path.iterdir() if f.is_file()) <= limit_mb * mb
