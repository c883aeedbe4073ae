#!/usr/bin/env python3
"""Records what a coretool binary prints for every verb on every sample core.

    golden.py record CORETOOL OUTDIR    run the command list below, one file per command
    golden.py diff DIR_A DIR_B          compare two recordings; exit 1 if they differ

Used to hold a refactor to "byte-identical outputs": record with the binary of a
baseline commit and with the current one, on the same cores, and diff
(tests/test_golden.py does exactly that). Sample cores are rebuilt with ASLR on,
so the recording cannot be a committed file; help texts, which do not depend on
a core, are also compared with the committed copies in tests/golden/help/.
"""
import json
import os
import subprocess
import sys
import shutil
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
SAMPLES = TOP / "build" / "samples"
VERBS = ["info", "classify", "maps", "map", "triage", "goroutines", "bt", "cgocheck", "heap"]
MAX_MAPS = 12  # maps dumped per core (the first ones `maps --json` lists)


def sample_cores():
    return sorted(p for p in SAMPLES.glob("*/*/core") if p.is_file())


def truth_addrs(core):
    try:
        truth = json.loads((core.parent / "truth.json").read_text())
    except (OSError, ValueError):
        return []
    return [a["addr"] for a in truth.get("addresses", []) if "addr" in a][:64]


def commands(coretool, core):
    """(name, argv) pairs for one core; name is a file name."""
    c = str(core)
    cmds = []
    for v in ("info", "triage", "goroutines", "maps", "heap", "cgocheck"):
        cmds.append((v, [coretool, v, c]))
        cmds.append((v + ".json", [coretool, "--json", v, c]))
    cmds.append(("bt-all", [coretool, "bt", "--all", c]))
    cmds.append(("bt.json", [coretool, "bt", c, "--json"]))
    cmds.append(("heap-top3", [coretool, "heap", c, "--top", "3"]))
    cmds.append(("info-v", [coretool, "-v", "info", c]))
    addrs = truth_addrs(core)
    if addrs:
        cmds.append(("classify", [coretool, "classify", c] + addrs))
        cmds.append(("classify.json", [coretool, "classify", "--json", c] + addrs))
    return cmds


def map_names(coretool, core, env):
    r = subprocess.run([coretool, "--json", "maps", str(core)], capture_output=True,
                       text=True, env=env, timeout=120)
    names = []
    try:
        obj = json.loads(r.stdout)  # one (indented) object
    except ValueError:
        return names
    for m in obj.get("maps", []) if isinstance(obj, dict) else []:
        if isinstance(m, dict) and m.get("path") and not m.get("nil"):
            names.append(m["path"])
    return names[:MAX_MAPS]


def run(argv, env, stdin=None):
    r = subprocess.run(argv, capture_output=True, env=env, timeout=300, input=stdin)
    return b"rc=%d\n--- stdout\n%s--- stderr\n%s" % (r.returncode, r.stdout, r.stderr)


def help_commands(coretool):
    cmds = [("help", [coretool, "--help"]), ("noargs", [coretool])]
    for v in VERBS:
        cmds.append((v + "-help", [coretool, v, "--help"]))
    return cmds


def record(coretool, outdir):
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    coretool = str(Path(coretool).resolve())
    # One cache path for every recording (info prints it), emptied first.
    cache = TOP / "build" / "golden-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    env = dict(os.environ, CORETOOL_CACHE_DIR=str(cache), LC_ALL="C")
    for name, argv in help_commands(coretool):
        (outdir / ("help." + name)).write_bytes(run(argv, env))
    for core in sample_cores():
        d = outdir / core.parent.parent.name / core.parent.name
        d.mkdir(parents=True, exist_ok=True)
        for name, argv in commands(coretool, core):
            (d / name).write_bytes(run(argv, env))
        for i, m in enumerate(map_names(coretool, core, env)):
            (d / f"map{i}").write_bytes(run([coretool, "map", str(core), m, "--limit", "50"], env))
            (d / f"map{i}.layout.json").write_bytes(
                run([coretool, "--json", "map", str(core), m, "--layout", "--limit", "20"], env))


def diff(a, b):
    a, b = Path(a), Path(b)
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    bad = sorted(str(p) for p in fa ^ fb)
    for p in sorted(fa & fb):
        if (a / p).read_bytes() != (b / p).read_bytes():
            bad.append(str(p))
    for p in bad[:40]:
        print("differs:", p)
    print(f"{len(fa & fb)} outputs compared, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "diff":
        sys.exit(diff(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
