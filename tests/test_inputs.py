"""Cores as users keep them: compressed (zstd, lz4, xz, gzip) or in a Kubernetes
core collector's zip, read directly (lib/base/unpack.c, origin.c).

The bar: a packed core gives the same answers, byte for byte apart from the
core's path and the "input" record, as the raw kernel core it was made from.
The packed files are made here with the real compressors (zstd, lz4, xz, gzip
and Python's zipfile, in the layout IBM's core-dump-handler writes); the answers
compared are coretool's on the raw core, and the metadata expected is what the
test itself wrote into the zip or the file's attributes.
"""
import json
import os
import pathlib
import shutil
import subprocess
import zipfile

import pytest

from conftest import CORETOOL, SANITIZER_EXIT, all_samples, sanitizer_report

OK, PARTIAL, FATAL = 0, 1, 2
COMPRESSORS = {
    "zst": ["zstd", "-q", "-T2", "-c"],
    "lz4": ["lz4", "-q", "-c"],
    "xz": ["xz", "-0", "-T2", "-c"],
    "gz": ["gzip", "-1", "-c"],
}


def run(args, env=None, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([str(CORETOOL)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e)
    assert p.returncode != SANITIZER_EXIT and not sanitizer_report(p.stderr), p.stderr[-3000:]
    return p.returncode, p.stdout, p.stderr


def answers(stdout):
    """The triage/info JSON without what names the file read."""
    d = json.loads(stdout)
    d.pop("input", None)
    if isinstance(d.get("core"), dict):
        d["core"].pop("path", None)
    else:
        d.pop("core", None)
    return d


def pack(src, dst, kind):
    with open(dst, "wb") as out:
        subprocess.run(COMPRESSORS[kind] + [str(src)], stdout=out, check=True)
    return dst


def sample_args(s):
    args = ["--exe", s.exe]
    if s.debug_dir:
        args += ["--debug-dir", s.debug_dir]
    return args


SAMPLES = all_samples()
# Under the sanitizers (tests/run.sh's last stage) one toolchain's cores stand
# for all: the unpacking code is the same for every core.
SANITIZED = "asan" in str(CORETOOL)
PACKED = [s for s in SAMPLES if not SANITIZED or s.toolchain in ("go1.26", "c")]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.mark.parametrize("s", PACKED, ids=repr)
def test_every_sample_core_packed_triages_the_same(s, tmp_path, cache):
    env = {"CORETOOL_CACHE_DIR": str(cache)}
    rc, raw, err = run(["triage", "--json"] + sample_args(s) + [s.core], env=env)
    want = answers(raw)
    assert want.get("class"), raw[:500]
    for kind in ("zst", "lz4", "xz"):
        p = pack(s.core, tmp_path / ("core." + kind), kind)
        rc2, out, err2 = run(["triage", "--json"] + sample_args(s) + [p], env=env)
        assert rc2 == rc, (kind, err2)
        d = json.loads(out)
        name = {"zst": "zstd", "lz4": "lz4", "xz": "xz"}[kind]
        assert d["input"]["format"] == name and d["input"]["size"] == s.core.stat().st_size, d["input"]
        assert answers(out) == want, kind


@pytest.mark.parametrize("s", [s for s in SAMPLES if s.scenario == "maps"], ids=repr)
def test_packed_maps_and_info_are_the_same(s, tmp_path, cache):
    env = {"CORETOOL_CACHE_DIR": str(cache)}
    p = pack(s.core, tmp_path / "core.gz", "gz")
    for verb in (["maps", "--json"], ["info", "--json"]):
        rc, raw, _ = run(verb + sample_args(s) + [s.core], env=env)
        rc2, out, _ = run(verb + sample_args(s) + [p], env=env)
        assert rc == rc2
        if verb[0] == "maps":  # JSON Lines, one map each, no core path in them
            assert out == raw and out.count("\n") >= 3
        else:
            assert answers(out) == answers(raw)


def go_sample():
    for s in SAMPLES:
        if s.toolchain == "go1.26" and s.scenario == "c-uaf-map":
            return s
    return next((s for s in SAMPLES if s.is_go), None)


@pytest.fixture(scope="module")
def g():
    s = go_sample()
    if s is None:
        pytest.fail("no Go sample core: run make samples")
    return s


def test_unpacked_core_is_sparse_and_cached(g, tmp_path):
    cache = tmp_path / "cache"
    p = pack(g.core, tmp_path / "c.zst", "zst")
    env = {"CORETOOL_CACHE_DIR": str(cache)}
    rc, out, _ = run(["info", "--json", p], env=env)
    first = json.loads(out)["input"]
    assert first["cached"] is False and first["unpacked_to"]
    kept = pathlib.Path(first["unpacked_to"])
    assert kept.parent == cache / "cores" and kept.stat().st_size == g.core.stat().st_size
    # Holes where the core has zero pages: no more on disk than the kernel's own sparse core.
    assert kept.stat().st_blocks * 512 <= g.core.stat().st_blocks * 512 + (1 << 20)
    assert kept.read_bytes() == g.core.read_bytes()
    rc, out, _ = run(["info", "--json", p], env=env)
    again = json.loads(out)["input"]
    assert again["cached"] is True and again["unpacked_to"] == first["unpacked_to"]
    # Another file (another inode) is another entry, even with the same bytes.
    q = tmp_path / "d.zst"
    shutil.copy(p, q)
    rc, out, _ = run(["info", "--json", q], env=env)
    assert json.loads(out)["input"]["cached"] is False


def test_cache_keeps_at_most_half_of_its_disk(g, tmp_path):
    """On a small disk the cache of unpacked cores keeps at most half of what it
    could have (its files plus the free space), least recently used out first,
    whatever CORETOOL_UNPACK_CACHE_MB allows. The cores directory is a tmpfs room
    for three cores, in a private mount namespace: the second core stored leaves
    one core's room free, so the first one goes."""
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed")
    cores = tmp_path / "cache" / "cores"
    cores.mkdir(parents=True)
    one = g.core.stat().st_blocks * 512  # a sparse unpacked core holds as much (test above)
    p1 = pack(g.core, tmp_path / "a.zst", "zst")
    p2 = pack(g.core, tmp_path / "b.zst", "zst")
    o1, o2, left = tmp_path / "o1", tmp_path / "o2", tmp_path / "left"
    script = (f"mount -t tmpfs -o size={3 * one + (256 << 10)} none {cores} && "
              f"{CORETOOL} info --json {p1} > {o1} && {CORETOOL} info --json {p2} > {o2} && "
              f"ls {cores} > {left}")
    env = dict(os.environ, CORETOOL_CACHE_DIR=str(tmp_path / "cache"), CORETOOL_UNPACK_CACHE_MB="100000")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert not sanitizer_report(p.stderr), p.stderr[-3000:]
    first = json.loads(o1.read_text())["input"]
    second = json.loads(o2.read_text())["input"]
    assert first["unpacked_to"] and second["unpacked_to"] and first["unpacked_to"] != second["unpacked_to"]
    assert left.read_text().split() == [pathlib.Path(second["unpacked_to"]).name]


def test_cache_off_leaves_nothing_behind(g, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = pack(g.core, tmp_path / "c.lz4", "lz4")
    rc, out, _ = run(["triage", "--json", p], env={"CORETOOL_CACHE_DIR": "off", "TMPDIR": str(tmp)})
    d = json.loads(out)
    assert d["input"]["unpacked_to"] is None and d["class"]
    assert list(tmp.iterdir()) == []


def test_told_by_magic_not_by_name(g, tmp_path):
    z = pack(g.core, tmp_path / "core", "zst")  # zstd data named "core"
    rc, out, _ = run(["info", "--json", z], env={"CORETOOL_CACHE_DIR": "off"})
    assert json.loads(out)["input"]["format"] == "zstd"
    r = tmp_path / "core.xz"  # a raw core named .xz
    shutil.copy(g.core, r)
    rc, out, _ = run(["info", "--json", r], env={"CORETOOL_CACHE_DIR": "off"})
    assert "input" not in json.loads(out)


@pytest.mark.parametrize("kind", ["zst", "lz4", "xz", "gz"])
def test_cut_short_is_partial_not_fatal(g, tmp_path, kind):
    p = pack(g.core, tmp_path / ("c." + kind), kind)
    data = p.read_bytes()
    cut = tmp_path / ("cut." + kind)
    cut.write_bytes(data[: len(data) // 2])
    rc, out, err = run(["info", "--json", cut], env={"CORETOOL_CACHE_DIR": str(tmp_path / "cache")})
    assert rc == PARTIAL, err
    assert "cut short" in err or "ends early" in err, err
    d = json.loads(out)
    assert d["core"]["truncated"] is True and d["input"]["size"] < g.core.stat().st_size
    # A cut file is not kept: the next run says it again.
    assert d["input"]["unpacked_to"] is None


@pytest.mark.parametrize("kind", ["zst", "lz4", "xz", "gz"])
def test_size_a_power_of_two_is_whole(g, tmp_path, kind):
    """A core whose size is a power of two (a sample's main-thread stack
    overflow came out at exactly 128 MiB): zstd's last frame ends exactly as
    the decoder's output buffer fills, and the whole core must be read as
    whole, not as cut short (it was: the call made to flush asked for the next
    frame's header). The sample's core, zero-padded to the next power of two."""
    raw = tmp_path / "core"
    size = g.core.stat().st_size
    with open(g.core, "rb") as src, open(raw, "wb") as out:
        shutil.copyfileobj(src, out)
        out.truncate(1 << (size - 1).bit_length())
    rc, want, err = run(["info", "--json", raw], env={"CORETOOL_CACHE_DIR": "off"})
    assert rc in (OK, PARTIAL), err
    p = pack(raw, tmp_path / ("c." + kind), kind)
    rc2, out, err2 = run(["info", "--json", p], env={"CORETOOL_CACHE_DIR": "off"})
    assert rc2 == rc and "cut short" not in err2 and "ends early" not in err2, err2
    d = json.loads(out)
    assert d["core"]["size"] == raw.stat().st_size and d["core"]["truncated"] is False, d["core"]


@pytest.mark.parametrize("kind", ["zst", "lz4", "xz", "gz"])
def test_corrupt_data_is_said_where(g, tmp_path, kind):
    p = pack(g.core, tmp_path / ("c." + kind), kind)
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = bytes(b ^ 0x5A for b in data[mid:mid + 64])
    bad = tmp_path / ("bad." + kind)
    bad.write_bytes(bytes(data))
    rc, out, err = run(["triage", "--json", bad], env={"CORETOOL_CACHE_DIR": "off"})
    # Either the damage is found (said, with where) or the codec cannot see it
    # (lz4 and zstd without checksums): never a crash.
    assert rc in (OK, PARTIAL, FATAL), err
    if rc == PARTIAL and "near byte" in err:
        assert "packed data" in err


def test_not_a_core_anywhere(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a core\n" * 100)
    junk = tmp_path / "junk.zst"
    pack(text, junk, "zst")
    rc, out, err = run(["info", junk], env={"CORETOOL_CACHE_DIR": "off"})
    assert rc == FATAL and "not an ELF file" in err
    z = tmp_path / "nocore.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a-dump-info.json", "{}")
        zf.writestr("readme.txt", "no core here")
    rc, out, err = run(["info", z], env={"CORETOOL_CACHE_DIR": "off"})
    assert rc == FATAL and "holds no core" in err


def test_bomb_is_bounded(tmp_path):
    bomb = tmp_path / "bomb.zst"
    # 2 GiB: an ELF header, then zeros (sparse, cheap to write, tiny packed)
    with open(bomb, "wb") as out:
        p = subprocess.Popen(["zstd", "-q", "-c", "-"], stdin=subprocess.PIPE, stdout=out)
        p.stdin.write(b"\x7fELF" + bytes(1 << 20))
        zero = bytes(1 << 24)
        for _ in range(128):
            p.stdin.write(zero)
        p.stdin.close()
        p.wait()
    rc, out, err = run(["info", bomb], env={"CORETOOL_CACHE_DIR": "off", "CORETOOL_UNPACK_MAX_GB": "1"})
    assert rc == FATAL and "would exceed 1 GiB" in err


# IBM core-dump-handler's zip (core-dump-composer): NAME.core and its JSON
# files, deflated; NAME = {uuid}-dump-{timestamp}-{hostname}-{exe}-{pid}-{signal}.
K8S_UUID = "3927906d-5b6d-4ff8-8a61-937bcada155b"


def k8s_zip(g, path, core_member=None, core_bytes=None):
    name = f"{K8S_UUID}-dump-1643657577-crasher-7d9f-exe-4242-6"
    dump_info = {"uuid": K8S_UUID, "dump_file": name + ".core", "timestamp": "1643657577",
                 "hostname": "crasher-7d9f", "exe": "exe", "real_pid": "4242", "signal": "6",
                 "node_hostname": "node-1", "path": "/app/crasher"}
    pod = {"id": "5e1f", "metadata": {"name": "crasher-7d9f", "uid": "a1b2", "namespace": "payments",
                                      "attempt": 0}, "state": "SANDBOX_READY"}
    ps = {"containers": [{"id": "c0ffee", "metadata": {"name": "crasher"},
                          "image": {"image": "registry.local/crasher:1.2"}, "imageRef": "sha256:feed"}]}
    image = {"status": {"id": "sha256:feed", "repoTags": ["registry.local/crasher:1.2"],
                        "repoDigests": ["registry.local/crasher@sha256:beef"]}}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name + "-dump-info.json", json.dumps(dump_info))
        if core_bytes is not None:
            z.writestr(core_member or name + ".core", core_bytes)
        else:
            z.write(g.core, name + ".core")
        z.writestr(name + "-pod-info.json", json.dumps(pod))
        z.writestr(name + "-runtime-info.json", "{}")
        z.writestr(name + "-ps-info.json", json.dumps(ps))
        z.writestr(name + "-0-image-info.json", json.dumps(image))
        z.writestr(name + "-0.log", "starting\n")
    return name


def test_core_dump_handler_zip(g, tmp_path):
    env = {"CORETOOL_CACHE_DIR": "off"}
    rc, raw, _ = run(["triage", "--json", "--exe", g.exe, g.core], env=env)
    z = tmp_path / "dump.zip"
    name = k8s_zip(g, z)
    rc2, out, err = run(["triage", "--json", "--exe", g.exe, z], env=env)
    assert rc2 == rc, err
    d = json.loads(out)
    got = answers(out)
    got.pop("origin")
    assert got == answers(raw)
    assert d["input"]["format"] == "zip" and d["input"]["member"] == name + ".core"
    o = d["origin"]
    assert o["collector"] == "core-dump-handler"
    want = {"uuid": K8S_UUID, "pod": "crasher-7d9f", "namespace": "payments", "container": "crasher",
            "image": "registry.local/crasher:1.2", "image_digest": "registry.local/crasher@sha256:beef",
            "node": "node-1", "pid": "4242", "signal": "6", "exe": "/app/crasher",
            "time": "2022-01-31T19:32:57Z"}
    assert {k: o.get(k) for k in want} == want
    rc, text, _ = run(["triage", "--exe", g.exe, z], env=env)
    assert "origin:    core-dump-handler:" in text and "namespace=payments" in text


def test_zip_with_a_compressed_core_member(g, tmp_path):
    zst = subprocess.run(["zstd", "-q", "-c", str(g.core)], capture_output=True, check=True).stdout
    z = tmp_path / "dump.zip"
    k8s_zip(g, z, core_member="x.core.zst", core_bytes=zst)
    env = {"CORETOOL_CACHE_DIR": "off"}
    rc, raw, _ = run(["triage", "--json", "--exe", g.exe, g.core], env=env)
    rc2, out, err = run(["triage", "--json", "--exe", g.exe, z], env=env)
    d = json.loads(out)
    assert d["input"]["member"] == "x.core.zst" and d["input"]["member_format"] == "zstd"
    got = answers(out)
    got.pop("origin")
    assert got == answers(raw)


def test_systemd_coredump_attributes(g, tmp_path):
    boot = "0123456789abcdef0123456789abcdef"
    p = tmp_path / f"core.crasher.0.{boot}.4242.1764680000000000.zst"
    pack(g.core, p, "zst")
    attrs = {"pid": "4242", "uid": "0", "gid": "0", "signal": "6", "timestamp": "1764680000000000",
             "comm": "crasher", "exe": "/usr/bin/crasher", "hostname": "web-3"}
    try:
        for k, v in attrs.items():
            os.setxattr(p, "user.coredump." + k, v.encode())
    except OSError as e:
        pytest.fail(f"this file system takes no user xattrs ({e}): systemd-coredump needs them")
    rc, out, err = run(["info", "--json", "--exe", g.exe, p], env={"CORETOOL_CACHE_DIR": "off"})
    o = json.loads(out)["origin"]
    assert o["collector"] == "systemd-coredump" and o["boot_id"] == boot
    assert {k: o[k] for k in attrs} == attrs
    assert o["time"] == "2025-12-02T12:53:20Z"


# ---- batches over directories and lists (cli/corelist.c) ----

def batch_tree(g, root):
    """A tree of cores in every form, and things that are not cores."""
    (root / "a" / "b").mkdir(parents=True)
    shutil.copy(g.core, root / "plain")
    pack(g.core, root / "a" / "one.zst", "zst")
    pack(g.core, root / "a" / "b" / "two.xz", "xz")
    k8s_zip(g, root / "a" / "b" / "dump.zip")
    (root / "notes.txt").write_text("not a core\n")
    shutil.copy(g.exe, root / "a" / "exe")  # an ELF, but not a core
    pack(root / "notes.txt", root / "a" / "notes.zst", "zst")  # packed, not a core
    outside = root.parent / "outside"
    outside.mkdir()
    shutil.copy(g.core, outside / "core")
    (root / "link").symlink_to(outside)  # not followed
    return sorted(str(root / p) for p in ("plain", "a/one.zst", "a/b/two.xz", "a/b/dump.zip"))


def test_triage_a_directory(g, tmp_path):
    root = tmp_path / "cores"
    want = batch_tree(g, root)
    rc, out, err = run(["triage", "--json", "--exe", g.exe, root], env={"CORETOOL_CACHE_DIR": "off"})
    lines = [json.loads(l) for l in out.splitlines()]
    assert [d["core"] for d in lines] == want, err
    classes = {d["class"] for d in lines}
    rc1, one, _ = run(["triage", "--json", "--exe", g.exe, g.core], env={"CORETOOL_CACHE_DIR": "off"})
    assert classes == {json.loads(one)["class"]}
    rc, out, err = run(["triage", "--summary", "--exe", g.exe, root], env={"CORETOOL_CACHE_DIR": "off"})
    assert "summary: 4 cores" in out


def test_triage_from_a_list(g, tmp_path):
    root = tmp_path / "cores"
    want = batch_tree(g, root)
    lst = tmp_path / "list.txt"
    lst.write_text(f"# cores of last night\n{want[0]}\n\n{root / 'a' / 'b'}\r\n")
    expect = [want[0]] + sorted(w for w in want if "/a/b/" in w)
    rc, out, err = run(["triage", "--json", "--exe", g.exe, "--from", lst], env={"CORETOOL_CACHE_DIR": "off"})
    assert [json.loads(l)["core"] for l in out.splitlines()] == expect, err
    p = subprocess.run([str(CORETOOL), "triage", "--json", "--exe", str(g.exe), "--from", "-"],
                       input=want[1] + "\n", capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, CORETOOL_CACHE_DIR="off"))
    assert [json.loads(l)["core"] for l in p.stdout.splitlines()] == [want[1]], p.stderr


def test_batch_usage_errors(tmp_path):
    rc, out, err = run(["triage"])
    assert rc == 64 and "no cores" in err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.txt").write_text("x")
    rc, out, err = run(["triage", tmp_path / "empty"])
    assert rc == FATAL and "no cores found (1 other files searched)" in err
    rc, out, err = run(["triage", "--from", tmp_path / "missing.txt"])
    assert rc == FATAL and "missing.txt" in err


def test_batch_progress_on_a_terminal(g, tmp_path):
    import pty
    root = tmp_path / "cores"
    batch_tree(g, root)
    master, slave = pty.openpty()
    p = subprocess.Popen([str(CORETOOL), "triage", "--json", "--exe", str(g.exe), str(root)],
                         stdout=subprocess.DEVNULL, stderr=slave, env=dict(os.environ, CORETOOL_CACHE_DIR="off"))
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=300)
    os.close(master)
    text = seen.decode(errors="replace")
    assert "searching: " in text and "4 cores" in text
    assert "triage: 4/4 cores (0 errors)" in text and "cores/s" in text
    assert "triage: 4 cores in " in text and ": 4 reports, 0 errors" in text
