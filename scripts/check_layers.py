#!/usr/bin/env python3
"""Checks the shape of coretool/: every #include "x.h" points at a header of
the file's own layer or of a layer below it, and no two modules include each
other, directly or around a longer circle.

A module is a .c/.h pair (x.c, x.h) with its private headers (x_int.h); a
layer is a folder (the order below, lowest first; lib/go and lib/cheap stand
side by side and see neither each other). The Makefile compiles each layer
with the include paths of itself and the layers below, so an upward include
already fails the build; this check also covers headers no source includes,
names the file and line, and finds the circles the compiler cannot see.

Exit 0: clean; 1: what is wrong is printed, one line each.
"""
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent / "coretool"  # or argv[1]
# layer -> the layers it may include (besides itself)
BELOW = {
    "lib/base": [],
    "lib/elf": ["lib/base"],
    "lib/go": ["lib/base", "lib/elf"],
    "lib/cheap": ["lib/base", "lib/elf"],
    "lib/target": ["lib/base", "lib/elf", "lib/go", "lib/cheap"],
    "lib/analysis": ["lib/base", "lib/elf", "lib/go", "lib/cheap", "lib/target"],
    "out": ["lib/base", "lib/elf", "lib/go", "lib/cheap", "lib/target", "lib/analysis"],
    "cli": ["lib/base", "lib/elf", "lib/go", "lib/cheap", "lib/target", "lib/analysis", "out"],
    "api": ["lib/base", "lib/elf", "lib/go", "lib/cheap", "lib/target", "lib/analysis", "out",
            "cli"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of(path: Path) -> str:
    stem = path.stem
    if stem.endswith("_int"):
        stem = stem[: -len("_int")]
    return stem


def main() -> int:
    global TOP
    if len(sys.argv) > 1:
        TOP = Path(sys.argv[1]).resolve()
    problems = []
    files = sorted(p for p in TOP.rglob("*") if p.suffix in (".c", ".h"))
    layer_of = {}
    header_at = {}
    for p in files:
        layer = str(p.parent.relative_to(TOP))
        if layer not in BELOW:
            problems.append(f"{p.relative_to(TOP.parent)}: not in a layer folder ({', '.join(BELOW)})")
            continue
        layer_of[p] = layer
        if p.suffix == ".h":
            if p.name in header_at:
                problems.append(f"{p.relative_to(TOP.parent)}: header name also in "
                                f"{header_at[p.name].relative_to(TOP.parent)}")
            header_at[p.name] = p
    edges = {}
    for p, layer in layer_of.items():
        src = module_of(p)
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            h = header_at.get(m.group(1))
            where = f"{p.relative_to(TOP.parent)}:{n}"
            if h is None:
                problems.append(f"{where}: includes \"{m.group(1)}\", which is no header of coretool/")
                continue
            hl = layer_of[h]
            if hl != layer and hl not in BELOW[layer]:
                problems.append(f"{where}: {layer} includes {h.name} of {hl}, which is not below it")
            dst = module_of(h)
            if dst != src:
                edges.setdefault((layer, src), set()).add((hl, dst))
    # Circles between modules: strongly connected components of more than one.
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v, counter=[0]):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    for comp in comps:
        problems.append("include circle between modules: " +
                        " <-> ".join(f"{l}/{m}" for l, m in comp))
    for line in problems:
        print(line)
    nmod = len({(layer_of[p], module_of(p)) for p in layer_of})
    print(f"layers: {len(layer_of)} files in {nmod} modules, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
