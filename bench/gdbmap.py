#!/usr/bin/env python3
"""`print` of a 100,000-entry map at a gdb prompt, side by side, on the bigmap sample
cores (build/samples-bigmap/<go>/, samples/bigmap/build.sh; small enough for any machine,
unlike the bench cores of bench/mkcores.sh, where bench/run.py's task gdbprint does the same
on main.benchMap):

    python3 bench/gdbmap.py [--reps 3]

Per core (Go 1.22: classic maps, Go 1.26: Swiss maps) and map (main.bigIntMap map[int]int,
main.bigStrMap map[string]int), the wall time of one gdb process from fork to exit
(gdb -batch, `set print elements unlimited`, `print 'MAP'`) with:
  coretool      gdbext/coretool-gdb.py: the library renders batches of keys and values
  per-value     the same printer making a gdb.Value per key and value (gomap.FAST off:
                how it printed before the batch renderer)
  runtime-gdb   the toolchain's own runtime-gdb.py
  coretool CLI  `coretool map CORE MAP` (no gdb)
and whether the output holds all 100,000 entries. Prints a Markdown table."""
import argparse
import os
import re
import statistics
import subprocess
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORES = os.path.join(TOP, "build", "samples-bigmap")
ENTRY = os.path.join(TOP, "gdbext", "coretool-gdb.py")
N = 100000
# an entry's end: its integer value, then ", [" or "}" (keys are ints or plain strings)
ENTRY_RX = re.compile(r"\] = -?\d+(?=, \[|\})")


def goroot(tc):
    with open(os.path.join(TOP, "build", "toolchains", "list")) as f:
        for line in f:
            w = line.split()
            if w and w[0] == tc:
                return w[1]
    return None


def gdb(d, pre, name):
    cmd = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
           "-ex", "set pagination off", "-ex", "set width 0"]
    for c in pre + ["set print elements unlimited", "set print repeats unlimited",
                    "print '%s'" % name]:
        cmd += ["-ex", c]
    return cmd + [os.path.join(d, "exe"), os.path.join(d, "core")]


def timed(cmd, reps, timeout):
    walls, out = [], ""
    for _ in range(reps):
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            out = p.stdout
        except subprocess.TimeoutExpired:
            return None, "killed at %d s" % timeout
        walls.append(time.monotonic() - t0)
    return statistics.median(walls), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=300)
    a = ap.parse_args()
    rows = []
    for tc in sorted(os.listdir(CORES)):
        d = os.path.join(CORES, tc)
        if not os.path.exists(os.path.join(d, "core")):
            continue
        rgdb = os.path.join(goroot(tc) or "/nonexistent", "src", "runtime", "runtime-gdb.py")
        for name in ("main.bigIntMap", "main.bigStrMap"):
            runs = [
                ("coretool", gdb(d, ["source " + ENTRY], name), a.reps),
                ("per-value", gdb(d, ["source " + ENTRY, "python import coretool_printers.gomap "
                                      "as g; g.FAST = False"], name), 1),
                ("runtime-gdb", gdb(d, ["source " + rgdb], name), 1),
                ("coretool CLI", [os.path.join(TOP, "build", "coretool"), "map",
                                  os.path.join(d, "core"), name, "--limit", "1000000"], a.reps),
            ]
            for tool, cmd, reps in runs:
                wall, out = timed(cmd, reps, a.timeout)
                if wall is None:
                    rows.append((tc, name, tool, "> %d s" % a.timeout, out))
                    continue
                if tool == "coretool CLI":
                    got = len(re.findall(r"^  \S.*: -?\d+$", out, re.M))
                else:
                    got = len(ENTRY_RX.findall(out))
                rows.append((tc, name, tool, "%.2f s" % wall,
                             "all %d entries" % N if got == N else "%d of %d entries" % (got, N)))
    print("| core | map | printer | wall (median) | output |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s | %s |" % r)


if __name__ == "__main__":
    main()
