"""Finding the executable and the libraries a core names when they are not
where the core says (issue 16): under --sysroot, in build-id trees
(--debug-dir, the sysroot's /usr/lib/debug), through a debuginfod server.

The files are really absent: each run of coretool that must find them
elsewhere runs in a private mount namespace where the directories the core
names (the sample's own, the unpacked glibc's) are covered by an empty
tmpfs, on a copy of the core. The debuginfod server is elfutils' own
`debuginfod`, run in a private network namespace (only a loopback) with
coretool entered into the same namespace: nothing leaves the machine.

Expected answers come from the run with every file in place (the samples'
truth tests check those) and from elfutils' `eu-unstrip -n --core` (which
files a core names, with which build IDs), never from the run under test.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CORETOOL, SAMPLES, sanitizer_report

FATAL = 2
PORT = 8002


def need_tools():
    missing = [t for t in ("debuginfod", "unshare", "nsenter", "ip", "eu-unstrip") if not shutil.which(t)]
    assert not missing, f"missing {missing}: run scripts/install-deps.sh"


def newest_go_uaf():
    for tc in ("go1.27", "go1.26", "go1.25", "go1.24", "go1.23", "go1.22"):
        d = SAMPLES / tc / "go-uaf"
        if (d / "core").exists():
            return d
    pytest.fail("no Go go-uaf sample: run `make samples`")


def glibc241_uaf():
    d = SAMPLES / "c-glibc2.41" / "c-uaf"
    assert (d / "core").exists(), "no c-glibc2.41 sample: run `make samples`"
    return d


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def core_modules(core):
    """[(name, path or None, build id)] of the files the core names, by elfutils' eu-unstrip."""
    out = subprocess.run(["eu-unstrip", "-n", "--core", str(core)], capture_output=True, text=True,
                         timeout=60).stdout
    mods = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 5:
            continue
        bid = f[1].split("@")[0]
        name = f[4]
        path = f[2] if f[2].startswith("/") else name if name.startswith("/") else None
        mods.append((name, path, bid))
    return mods


def core_exe(core):
    """The executable the core names (the module whose file is its own name)."""
    exes = [(p, b) for n, p, b in core_modules(core) if p == n and p]
    assert len(exes) == 1, exes
    return exes[0]


def hide(dirs):
    """A command prefix: a private mount namespace where each dir is an empty tmpfs."""
    script = " && ".join(f"mount -t tmpfs none {shlex.quote(str(d))}" for d in dirs)
    return ["unshare", "-m", "sh", "-c", script + ' && exec "$@"', "sh"]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def ct(args, prefix=(), env=None, timeout=180):
    p = subprocess.run(list(prefix) + [str(CORETOOL)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout,
                       env=env if env is not None else clean_env())
    bad = sanitizer_report(p.stderr)
    assert bad is None, bad
    return p.returncode, p.stdout, p.stderr


class Netns:
    """A network namespace with only a loopback, held by a sleeping process."""

    def __init__(self):
        self.holder = subprocess.Popen(["unshare", "-n", "sh", "-c",
                                        "ip link set lo up && exec sleep 3600"])
        self.procs = []
        deadline = time.time() + 10
        while time.time() < deadline:
            r = subprocess.run(["nsenter", "-t", str(self.holder.pid), "-n", "ip", "-o", "link", "show",
                                "lo"], capture_output=True, text=True)
            if "UP" in r.stdout and "LOOPBACK" in r.stdout:
                return
            time.sleep(0.1)
        self.close()
        pytest.fail("the network namespace's loopback did not come up")

    def enter(self):
        return ["nsenter", "-t", str(self.holder.pid), "-n"]

    def start(self, argv, log):
        p = subprocess.Popen(self.enter() + [str(a) for a in argv], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def get(self, url):
        """HTTP status of url from inside the namespace (0: no answer)."""
        code = ("import sys, urllib.request, urllib.error\n"
                "try:\n    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)\n"
                "except urllib.error.HTTPError as e:\n    print(e.code)\n"
                "except Exception:\n    print(0)\n")
        r = subprocess.run(self.enter() + [sys.executable, "-c", code, url], capture_output=True,
                           text=True, timeout=30)
        return int(r.stdout.strip() or 0)

    def close(self):
        for p in self.procs + [self.holder]:
            p.kill()
            p.wait()


@pytest.fixture
def netns():
    need_tools()
    ns = Netns()
    yield ns
    ns.close()


def start_debuginfod(ns, tmp_path, files):
    """elfutils' debuginfod serving copies of files (a directory of ELF files it indexes)."""
    srv = tmp_path / "served"
    srv.mkdir()
    for i, f in enumerate(files):
        shutil.copy(f, srv / f"file{i}")
    log = open(tmp_path / "debuginfod.log", "w")
    ns.start(["debuginfod", "-F", srv, "-p", PORT, "-d", tmp_path / "debuginfod.sqlite", "-t", "0",
              "-g", "0", "-v"], log)
    url = f"http://127.0.0.1:{PORT}"
    deadline = time.time() + 60
    want = build_id(files[0])
    while time.time() < deadline:
        if ns.get(f"{url}/buildid/{want}/executable") == 200:
            return url
        time.sleep(0.3)
    pytest.fail("debuginfod did not index the files within 60 s:\n" + (tmp_path / "debuginfod.log").read_text()[-3000:])


def strip_paths(d, files):
    """d with paths taken out: the executable and core paths, and each file found
    (files: path -> the name the core gives it) by its base name; the field
    saying where the executable was found dropped."""
    subs = sorted(((p, os.path.basename(n)) for p, n in files.items()), key=lambda x: -len(x[0]))
    subs += [(d["core"], "CORE")]

    def walk(x):
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items() if k != "executable_found"}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str):
            for s, r in subs:
                x = x.replace(s, r)
            # libdwfl names a module by its path when it did not open the file itself
            return os.path.basename(x) if x.startswith("/") and " " not in x else x
        return x
    return walk(d)


def files_of(info):
    """path -> name the core gives it, for every file coretool used (info --json)."""
    m = {mod["file"]: mod["name"] for mod in info["modules"] if mod["file"] and mod["file"].startswith("/")}
    m[info["executable"]["path"]] = "exe"
    return m


def baseline(core):
    """triage --json and info --json with every file where the core says."""
    rc, out, err = ct(["--json", "triage", core])
    assert rc in (0, 1), err
    rci, info, erri = ct(["--json", "info", core])
    assert rci in (0, 1), erri
    return rc, json.loads(out), json.loads(info)


def copy_core(sample, tmp_path):
    core = tmp_path / "core"
    shutil.copy(sample / "core", core)
    return core


# ------------------------------------------------------------------ debuginfod

def test_debuginfod_finds_the_executable(netns, tmp_path):
    s = newest_go_uaf()
    exe_named, exe_id = core_exe(s / "core")
    assert exe_id == build_id(s / "exe")
    rc0, base, base_info = baseline(s / "core")
    core = copy_core(s, tmp_path)
    url = start_debuginfod(netns, tmp_path, [s / "exe"])
    cache = tmp_path / "cache"
    env = clean_env(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=cache)
    inside = netns.enter() + hide([Path(exe_named).parent])
    # Without the server asked, the executable is not found, and the error
    # says which build ID was looked for where.
    rc, out, err = ct(["triage", core], prefix=inside, env=clean_env())
    assert rc == FATAL
    line = err.splitlines()[0]
    assert f"executable {exe_named} (named by the core) not found: build-id {exe_id}: " in line, line
    assert f"{exe_named}: No such file or directory" in line, line
    assert f"not in /usr/lib/debug/.build-id/{exe_id[:2]}/{exe_id[2:]}" in line, line
    assert "debuginfod: off (DEBUGINFOD_URLS unset)" in line and line.endswith("pass --exe"), line
    rc, out, err = ct(["--debuginfod-timeout", "0", "triage", core], prefix=inside, env=env)
    assert rc == FATAL and "debuginfod: off (--debuginfod-timeout 0)" in err, err
    assert not cache.exists() or not any(cache.rglob("executable"))
    # With it: the same answers as with the binary in place.
    rc, out, err = ct(["--json", "triage", core], prefix=inside, env=env)
    assert rc == rc0, err
    d = json.loads(out)
    assert d["executable_found"] == "debuginfod"
    assert d["executable"].startswith(str(cache)) and build_id(d["executable"]) == exe_id
    rci, info, erri = ct(["--json", "info", core], prefix=inside, env=env)
    info = json.loads(info)
    assert info["executable"]["found"] == "debuginfod" and info["executable"]["found_in"] == url
    assert info["executable"]["build_id_match"] == "matches"
    assert strip_paths(d, files_of(info)) == strip_paths(base, files_of(base_info))
    # The server served it, to elfutils' client (coretool), once: the second run
    # came from the client's cache.
    log = (tmp_path / "debuginfod.log").read_text()
    served = [l for l in log.splitlines() if f"GET /buildid/{exe_id}/executable 200" in l and "elfutils" in l]
    assert len(served) == 1, log[-2000:]
    rc, text, err = ct(["info", core], prefix=inside, env=env)
    assert f"executable  {d['executable']}  [debuginfod {url}]\n" in text, text


def hanging_server(ns, tmp_path, port):
    code = ("import socket, sys, time\n"
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(64); held = []\n"
            "while True:\n    c, _ = s.accept(); held.append(c)\n")
    ns.start([sys.executable, "-c", code, port], open(tmp_path / "hang.log", "w"))
    deadline = time.time() + 10
    while time.time() < deadline:
        r = subprocess.run(ns.enter() + ["ss", "-ltn"], capture_output=True, text=True)
        if f":{port} " in r.stdout:
            return f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    pytest.fail("the hanging server did not listen")


def test_a_server_that_never_answers_hits_the_timeout(netns, tmp_path):
    s = glibc241_uaf()
    exe_named, exe_id = core_exe(s / "core")
    libs = [(n, p, b) for n, p, b in core_modules(s / "core") if p and p != exe_named]
    assert len(libs) == 2, libs
    core = copy_core(s, tmp_path)
    url = hanging_server(netns, tmp_path, PORT + 1)
    env = clean_env(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=tmp_path / "cache")
    glibc_root = Path(libs[0][1]).parents[3]  # .../x of x/usr/lib/x86_64-linux-gnu/libc.so.6
    inside = netns.enter() + hide([Path(exe_named).parent, glibc_root])
    t0 = time.time()
    rc, out, err = ct(["--debuginfod-timeout", "2", "--json", "triage", core], prefix=inside, env=env,
                      timeout=60)
    took = time.time() - t0
    assert rc == FATAL and took < 15, (rc, took, err)
    line = err.splitlines()[0]
    assert f"build-id {exe_id}: " in line, line
    assert f"debuginfod ({url}): no answer within 2 s (--debuginfod-timeout)" in line, line
    assert json.loads(out)["kind"] == "io"
    # The libraries (the executable given): the first lookup waits out the
    # bound, the server is not asked again for the next.
    exe = tmp_path / "exe"
    shutil.copy(s / "exe", exe)
    t0 = time.time()
    rc, out, err = ct(["--debuginfod-timeout", "2", "--exe", exe, "--json", "info", core], prefix=inside,
                      env=env, timeout=60)
    took = time.time() - t0
    assert rc == 1 and took < 15, (rc, took, err)
    warn = [l for l in err.splitlines() if "file not found" in l]
    assert len(warn) == 2, err
    assert sum(f"no answer within 2 s" in l for l in warn) == 1, warn
    assert sum("not asked (an earlier lookup timed out)" in l for l in warn) == 1, warn
    for n, p, b in libs:
        assert any(f"{p}: No such file or directory" in l and b[2:] in l for l in warn), (p, warn)


def wrong_binary_server(ns, tmp_path, port, served):
    code = ("import http.server, sys\n"
            "body = open(sys.argv[2], 'rb').read()\n"
            "class H(http.server.BaseHTTPRequestHandler):\n"
            "    def do_GET(self):\n"
            "        if self.path.startswith('/buildid/') and self.path.endswith('/executable'):\n"
            "            self.send_response(200); self.send_header('Content-Length', str(len(body)))\n"
            "            self.end_headers(); self.wfile.write(body)\n"
            "        else:\n"
            "            self.send_response(404); self.end_headers()\n"
            "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n")
    ns.start([sys.executable, "-c", code, port, served], open(tmp_path / "wrong.log", "w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 10
    while time.time() < deadline:
        if ns.get(f"{url}/x") == 404:
            return url
        time.sleep(0.1)
    pytest.fail("the test server did not answer")


def test_a_wrong_binary_served_is_refused(netns, tmp_path):
    s = newest_go_uaf()
    other = SAMPLES / "c" / "c-uaf" / "exe"
    exe_named, exe_id = core_exe(s / "core")
    other_id = build_id(other)
    assert other_id and other_id != exe_id
    core = copy_core(s, tmp_path)
    url = wrong_binary_server(netns, tmp_path, PORT + 2, other)
    env = clean_env(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=tmp_path / "cache")
    rc, out, err = ct(["triage", core], prefix=netns.enter() + hide([Path(exe_named).parent]), env=env)
    assert rc == FATAL and out.startswith(f"core:      {core}\nerror:     "), (rc, out, err)
    line = err.splitlines()[0]
    assert f"debuginfod ({url}): " in line and f"has build-id {other_id}, not {exe_id}: refused" in line, line
    assert "not found" in line and line.endswith("pass --exe"), line


# ------------------------------------------------------------------ build-id trees

def tree_of(tmp_path, files):
    """A build-id tree (DIR/.build-id/xx/rest) holding copies of files."""
    tree = tmp_path / "tree"
    for f in files:
        bid = build_id(f)
        (tree / ".build-id" / bid[:2]).mkdir(parents=True, exist_ok=True)
        shutil.copy(f, tree / ".build-id" / bid[:2] / bid[2:])
    return tree


@pytest.mark.parametrize("which", ["go", "c-glibc2.41"])
def test_build_id_tree_without_a_server(which, tmp_path):
    need_tools()
    s = newest_go_uaf() if which == "go" else glibc241_uaf()
    exe_named, exe_id = core_exe(s / "core")
    libs = [(n, p, b) for n, p, b in core_modules(s / "core") if p and p != exe_named]
    rc0, base, base_info = baseline(s / "core")
    core = copy_core(s, tmp_path)
    hidden = [Path(exe_named).parent]
    files = [s / "exe"]
    if which != "go":  # glibc 2.41's libc and ld.so too, which the machine does not have
        hidden.append(Path(libs[0][1]).parents[3])
        files += [Path(p) for n, p, b in libs]
    tree = tree_of(tmp_path, files)
    rc, out, err = ct(["--debug-dir", tree, "--json", "triage", core], prefix=hide(hidden))
    assert rc == rc0, err
    d = json.loads(out)
    assert d["executable_found"] == "build-id tree"
    assert d["executable"] == str(tree / ".build-id" / exe_id[:2] / exe_id[2:])
    rci, info, erri = ct(["--debug-dir", tree, "--json", "info", core], prefix=hide(hidden))
    info = json.loads(info)
    assert info["executable"]["found"] == "build-id tree" and info["executable"]["found_in"] == str(tree)
    if which != "go":
        for n, p, b in libs:
            m = [m for m in info["modules"] if m["build_id"] == b]
            assert len(m) == 1 and m[0]["found"] == "build-id tree", (n, info["modules"])
            assert m[0]["file"] == str(tree / ".build-id" / b[:2] / b[2:])
        assert info["missing"] == [], info["missing"]
    assert strip_paths(d, files_of(info)) == strip_paths(base, files_of(base_info))


def test_a_wrong_file_in_the_tree_is_refused(tmp_path):
    need_tools()
    s = newest_go_uaf()
    exe_named, exe_id = core_exe(s / "core")
    other = SAMPLES / "c" / "c-uaf" / "exe"
    tree = tmp_path / "tree"
    (tree / ".build-id" / exe_id[:2]).mkdir(parents=True)
    shutil.copy(other, tree / ".build-id" / exe_id[:2] / exe_id[2:])
    core = copy_core(s, tmp_path)
    rc, out, err = ct(["--debug-dir", tree, "bt", core], prefix=hide([Path(exe_named).parent]))
    assert rc == FATAL
    line = err.splitlines()[0]
    assert (f"build-id tree: {tree}/.build-id/{exe_id[:2]}/{exe_id[2:]} has build-id {build_id(other)}, "
            f"not {exe_id}: refused") in line, line


# ------------------------------------------------------------------ a container's root

@pytest.mark.parametrize("which", ["go", "c-glibc2.41"])
def test_fake_container_root(which, tmp_path):
    """--sysroot: the executable and the libraries at the paths the core names,
    under a directory; the executable's own path absent from the real root."""
    need_tools()
    s = newest_go_uaf() if which == "go" else glibc241_uaf()
    exe_named, exe_id = core_exe(s / "core")
    libs = [(n, p, b) for n, p, b in core_modules(s / "core") if p and p != exe_named]
    rc0, base, base_info = baseline(s / "core")
    core = copy_core(s, tmp_path)
    root = tmp_path / "root"
    hidden = [Path(exe_named).parent]
    for p in [exe_named] + [p for n, p, b in libs]:
        dst = root / p.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dst)
    if which != "go":
        hidden.append(Path(libs[0][1]).parents[3])
    rc, out, err = ct(["--sysroot", root, "--json", "triage", core], prefix=hide(hidden))
    assert rc == rc0, err
    d = json.loads(out)
    assert d["executable"] == str(root / exe_named.lstrip("/")) and "executable_found" not in d
    rci, info, erri = ct(["--sysroot", root, "--json", "info", core], prefix=hide(hidden))
    info = json.loads(info)
    assert "found" not in info["executable"] and info["executable"]["build_id_match"] == "matches"
    if which != "go":
        for n, p, b in libs:
            m = [m for m in info["modules"] if m["build_id"] == b]
            assert len(m) == 1 and m[0]["file"] == str(root / p.lstrip("/")), (n, info["modules"])
    assert strip_paths(d, files_of(info)) == strip_paths(base, files_of(base_info))
