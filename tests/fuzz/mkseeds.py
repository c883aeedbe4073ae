#!/usr/bin/env python3
"""Seeds for the libFuzzer harnesses, cut from the sample cores (build/samples).

  core    the sample cores with every PT_LOAD cut to a few bytes: ELF header,
          program headers and notes as the kernel wrote them
  goheap  the memory the Go heap/goroutine models read for the truth.json
          addresses of a sample (recorded by the harness itself, CT_FUZZ_RECORD)
  gomap   the memory one map walk (and one search of the globals) reads
  cheap   the memory glibc's malloc state walk reads (main_arena known, and
          searched for)
  out     a few strings (valid, invalid, control bytes)

Written to build/fuzz/corpus/<harness>/. Executables: index 0 = go1.23
(classic maps), 1 = go1.26 (Swiss maps), each its `maps` scenario's exe, as
fuzz_common.h's default list; cores of other builds are skipped.
Standard library only.
"""
import json
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "build" / "samples"
CORPUS = ROOT / "build" / "fuzz" / "corpus"
FUZZ = ROOT / "build" / "fuzz"
TOOLCHAINS = {"go1.23": 0, "go1.26": 1}


def samples(toolchain, scenarios):
    for sc in scenarios:
        d = SAMPLES / toolchain / sc
        if (d / "core").exists() and (d / "truth.json").exists():
            yield d, json.loads((d / "truth.json").read_text())


def addrs_of(truth, regions, limit=16):
    out = []
    for a in truth.get("addresses", []):
        if a.get("region") in regions:
            out.append(int(a["addr"], 16))
    return out[:limit]


def core_notes_only(blob: bytes) -> bytes:
    """The "CORE" notes of a PT_NOTE (the "LINUX" ones, FP/XSAVE state, are large
    and core.c does not read them)."""
    out, off = bytearray(), 0
    while off + 12 <= len(blob):
        namesz, descsz, _ = struct.unpack_from("<III", blob, off)
        end = off + 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
        if end > len(blob):
            break
        if blob[off + 12:off + 12 + namesz] == b"CORE\0":
            out += blob[off:end]
        off = end
    return bytes(out)


def minimize_core(src: pathlib.Path, dst: pathlib.Path, keep=64, all_notes=False):
    """ELF header + program headers + notes; each PT_LOAD keeps `keep` bytes."""
    with open(src, "rb") as f:
        ehdr = f.read(64)
        phoff, = struct.unpack_from("<Q", ehdr, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 0x36)
        f.seek(phoff)
        phdrs = [list(struct.unpack("<IIQQQQQQ", f.read(56))) for _ in range(phnum)]
        blobs = []
        for ph in phdrs:
            ptype, _, off, _, _, filesz, _, _ = ph
            n = filesz if ptype == 4 else min(filesz, keep)  # PT_NOTE whole
            f.seek(off)
            blob = f.read(n)
            if ptype == 4 and not all_notes:
                blob = core_notes_only(blob)
            blobs.append(blob)
    out = bytearray(ehdr)
    struct.pack_into("<Q", out, 0x20, 64)
    struct.pack_into("<H", out, 0x36, 56)
    data_off = 64 + 56 * phnum
    body = bytearray()
    for ph, blob in zip(phdrs, blobs):
        ph[2] = data_off + len(body)
        ph[5] = len(blob)
        body += blob
        body += b"\0" * (-len(body) % 8)
    for ph in phdrs:
        out += struct.pack("<IIQQQQQQ", *ph)
    out += body
    dst.write_bytes(bytes(out))


def record(harness, core, header: bytes, dst: pathlib.Path):
    """Runs the harness once in record mode over a real core."""
    with tempfile.NamedTemporaryFile(suffix=".hdr") as h:
        h.write(header)
        h.flush()
        env = dict(os.environ, CT_FUZZ_RECORD=f"{core}:{dst}",
                   ASAN_OPTIONS="detect_leaks=0")
        p = subprocess.run([str(FUZZ / f"fuzz_{harness}"), h.name], env=env,
                           capture_output=True, text=True, errors="replace")
    if p.returncode == 3:  # built apart from the maps scenario's executable
        print(f"mkseeds: {harness} {core}: skipped (not the executable the harness uses)",
              file=sys.stderr)
        return True
    if p.returncode != 0 or not dst.exists():
        print(f"mkseeds: {harness} {core}: failed (rc {p.returncode})\n{p.stderr[-2000:]}",
              file=sys.stderr)
        return False
    return True


def u8(v):
    return struct.pack("<B", v)


def u64(v):
    return struct.pack("<Q", v & (2**64 - 1))


def main():
    for h in ("core", "goheap", "gomap", "cheap", "out"):
        (CORPUS / h).mkdir(parents=True, exist_ok=True)
    n = {h: 0 for h in ("core", "goheap", "gomap", "cheap", "out")}
    ok = True

    # core: sample cores without their memory
    for tc in list(TOOLCHAINS) + ["c"]:
        for d, _ in samples(tc, ["maps", "c-uaf-map", "c-null-deref", "c-uaf", "null-deref"]):
            minimize_core(d / "core", CORPUS / "core" / f"{tc}-{d.name}",
                          all_notes=d.name == "null-deref")
            n["core"] += 1
    # ... and one of them packed each way core_open unpacks (unpack.c)
    plain = CORPUS / "core" / "go1.26-maps"
    if plain.exists():
        import gzip
        import lzma
        import subprocess
        import zipfile
        data = plain.read_bytes()
        (CORPUS / "core" / "packed-gz").write_bytes(gzip.compress(data))
        (CORPUS / "core" / "packed-xz").write_bytes(lzma.compress(data))
        for tool, name in (("zstd", "packed-zst"), ("lz4", "packed-lz4")):
            r = subprocess.run([tool, "-q", "-c"], input=data, capture_output=True)
            if r.returncode == 0:
                (CORPUS / "core" / name).write_bytes(r.stdout)
        with zipfile.ZipFile(CORPUS / "core" / "packed-zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("x-dump-info.json", '{"uuid": "u", "real_pid": "1"}')
            z.writestr("x.core", data)
        n["core"] += 5

    for tc, exe in TOOLCHAINS.items():
        # goheap: the truth addresses of a few scenarios
        for d, t in samples(tc, ["maps", "go-uaf", "map-grow-stale"]):
            a = addrs_of(t, {"go-heap", "go-stack", "thread-stack"})
            hdr = u8(exe) + u64(0) + u8(len(a)) + b"".join(u64(x) for x in a)
            ok &= record("goheap", d / "core", hdr, CORPUS / "goheap" / f"{tc}-{d.name}")
            n["goheap"] += 1
        # gomap: one seed per map the program recorded, one search of the globals
        for d, t in samples(tc, ["maps", "map-grow-stale", "concurrent-map-writes", "c-uaf-map"]):
            for m in t.get("maps", []):
                if not m.get("addr"):
                    continue
                name = f"map[{m['key_type']}]{m['elem_type']}".encode()
                hdr = u8(exe) + u64(0) + u8(0) + u8(1) + u8(len(name)) + name + u64(int(m["addr"], 16))
                ok &= record("gomap", d / "core", hdr,
                             CORPUS / "gomap" / f"{tc}-{d.name}-{m['name']}")
                n["gomap"] += 1
        for d, t in samples(tc, ["concurrent-map-writes"]):
            hdr = u8(exe) + u64(0) + u8(1) + u8(0)
            ok &= record("gomap", d / "core", hdr, CORPUS / "gomap" / f"{tc}-{d.name}-globals")
            n["gomap"] += 1

    # cheap: glibc heaps of Go+cgo and plain C samples
    for tc in list(TOOLCHAINS) + ["c"]:
        for d, t in samples(tc, ["c-double-free", "c-uaf-map", "c-uaf"]):
            a = addrs_of(t, {"c-heap"})
            for mode, arena in (("known", 1), ("search", 0)):
                hdr = u64(arena) + u8(0) + u64(0) + u8(0) + u8(len(a)) + b"".join(u64(x) for x in a)
                ok &= record("cheap", d / "core", hdr, CORPUS / "cheap" / f"{tc}-{d.name}-{mode}")
                n["cheap"] += 1

    for i, s in enumerate([b"\0hello", b"\3caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                           b"\1\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80",
                           b"\2\x00\x01\x1f\x7f\"\\\n\t\r"]):
        (CORPUS / "out" / f"seed{i}").write_bytes(s)
        n["out"] += 1

    print("mkseeds: " + ", ".join(f"{h} {c}" for h, c in n.items()))
    if not any(n[h] for h in ("goheap", "gomap", "cheap")):
        print("mkseeds: no sample cores (run `make samples`)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
