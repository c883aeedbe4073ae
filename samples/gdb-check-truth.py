# Cross-checks a sample's truth.json against its core with gdb, using the Go runtime's DWARF
# and glibc's debug info (libc6-dbg) — an independent check of the samples, not part of the
# truth (the truth comes from the program itself).
#
#   gdb -nx -batch -ex 'py TRUTH="build/samples/go1.26/maps/truth.json"' \
#       -x samples/gdb-check-truth.py build/samples/go1.26/maps/exe build/samples/go1.26/maps/core
#
# Checks: go-heap addresses (span state, slot allocated/free per freeindex + allocBits, elemsize,
# slot base), go-stack addresses (goroutine stack bounds, goid), c-heap chunks (main thread's
# tcache, main_arena fastbins / unsorted / small / large bins / top), and for classic maps the
# growing flag. Prints one line per address and "CHECK: n ok, m bad, k skipped".
import json

import gdb

inf = gdb.selected_inferior()
M64 = (1 << 64) - 1
counts = {"ok": 0, "bad": 0, "skip": 0}


def u64(a):
    return int.from_bytes(bytes(inf.read_memory(a, 8)), "little")


def u8(a):
    return bytes(inf.read_memory(a, 1))[0]


def field(v, *names):
    for n in names:
        v = v[n]
    return v


def leaf_int(v):
    """int of a value that may be wrapped in atomic/box structs"""
    while v.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
        fields = [f for f in v.type.strip_typedefs().fields() if f.name not in ("noCopy", "_")]
        v = v[fields[-1].name]
    return int(v)


def report(kind, a, ok, msg):
    counts["ok" if ok is True else "bad" if ok is False else "skip"] += 1
    tag = {True: "ok  ", False: "BAD ", None: "skip"}[ok]
    print("%s %-10s %-18s %s" % (tag, kind, a, msg))


# ---- Go heap ----
def go_span(p):
    try:
        mheap = gdb.parse_and_eval("'runtime.mheap_'")
    except gdb.error:
        return None
    l2 = mheap["arenas"][0]
    ai = ((p - 0xFFFF800000000000) & M64) >> 26
    if ai >= 1 << 22:
        return None
    ha = l2.dereference()[ai]
    if int(ha) == 0:
        return None
    s = ha.dereference()["spans"][(p >> 13) % 8192]
    if int(s) == 0:
        return None
    return s.dereference()


def check_go_heap(a):
    p = int(a["addr"], 16)
    s = go_span(p)
    if s is None:
        report("go-heap", a["addr"], a["state"] == "free", "no span (pages free)")
        return
    state = leaf_int(s["state"])
    start, limit = int(s["startAddr"]), int(s["limit"])
    if state != 1 or not (start <= p < limit):
        report("go-heap", a["addr"], a["state"] == "free", "span not in use (state %d)" % state)
        return
    elem = int(s["elemsize"])
    idx = (p - start) // elem
    fi = int(s["freeindex"])
    bits = int(s["allocBits"])
    allocated = idx < fi or (u8(bits + idx // 8) >> (idx % 8)) & 1
    st = "allocated" if allocated else "free"
    d = a.get("detail", {})
    ok = st == a["state"]
    msg = "span %#x elemsize %d slot %d base %#x: %s" % (start, elem, idx, start + idx * elem, st)
    if "elemsize" in d and d["elemsize"] != elem:
        ok = False
        msg += " (truth elemsize %d)" % d["elemsize"]
    if "base" in d and int(d["base"], 16) != start + idx * elem:
        ok = False
        msg += " (truth base %s)" % d["base"]
    report("go-heap", a["addr"], ok, msg)


def check_go_stack(a):
    p = int(a["addr"], 16)
    allgs = gdb.parse_and_eval("'runtime.allgs'")
    n = int(allgs["len"])
    for i in range(n):
        g = allgs["array"][i].dereference()
        lo, hi = int(g["stack"]["lo"]), int(g["stack"]["hi"])
        if lo <= p < hi:
            goid = int(g["goid"])
            want = a.get("detail", {}).get("goid")
            ok = want is None or want == goid
            report("go-stack", a["addr"], ok, "goroutine %d stack [%#x,%#x) status %d"
                   % (goid, lo, hi, leaf_int(g["atomicstatus"])))
            return
    report("go-stack", a["addr"], False, "in no goroutine stack")


# ---- glibc ----
def c_bins():
    """chunk address -> bin name, from the main thread's tcache and main_arena"""
    where = {}
    try:
        gdb.execute("thread 1", to_string=True)
        ma = gdb.parse_and_eval("main_arena")
        tc = gdb.parse_and_eval("tcache")
    except gdb.error as e:
        print("skip c-heap: %s" % e)
        return None
    if int(tc):
        t = tc.dereference()
        for i in range(64):
            e = int(t["entries"][i])
            seen = 0
            while e and seen < 100:
                where[e - 16] = "tcache"
                e = ((e >> 12) ^ u64(e)) & M64
                seen += 1
    for i in range(10):
        c = int(ma["fastbinsY"][i])
        seen = 0
        while c and seen < 100:
            where[c] = "fastbin"
            c = (((c + 16) >> 12) ^ u64(c + 16)) & M64
            seen += 1
    where[int(ma["top"])] = "top"
    bins_addr = int(ma["bins"].address)
    for i in range(1, 128):
        head = bins_addr + (i - 1) * 16 - 16
        c = u64(head + 16)
        seen = 0
        name = "unsorted" if i == 1 else "small" if i < 64 else "large"
        while c != head and c and seen < 1000:
            where[c] = name
            c = u64(c + 16)
            seen += 1
    return where


def check_c_heap(a, where):
    p = int(a["addr"], 16)
    d = a.get("detail", {})
    if where is None or d.get("arena") not in (None, "main") or d.get("mmapped"):
        if d.get("mmapped") and a["state"] == "allocated":
            size = u64(p - 8)
            report("c-heap", a["addr"], bool(size & 2), "size word %#x (IS_MMAPPED %d)" % (size, (size >> 1) & 1))
        elif d.get("arena") == "thread":
            size = u64(p - 8)
            report("c-heap", a["addr"], bool(size & 4), "size word %#x (NON_MAIN_ARENA %d)" % (size, (size >> 2) & 1))
        else:
            report("c-heap", a["addr"], None, "not checked")
        return
    chunk = p - 16
    if d.get("bin") == "top":
        top = gdb.parse_and_eval("main_arena")["top"]
        ok = int(top) <= p < int(top) + (u64(int(top) + 8) & ~7)
        report("c-heap", a["addr"], ok, "top chunk %#x" % int(top))
        return
    b = where.get(chunk)
    if a["state"] == "free":
        ok = b == d.get("bin")
    else:
        ok = b is None
    report("c-heap", a["addr"], ok, "chunk %#x: %s" % (chunk, b or "in use"))


def check_unmapped(a):
    p = int(a["addr"], 16)
    try:
        inf.read_memory(p, 1)
        readable = True
    except gdb.MemoryError:
        readable = False
    # a core also lacks bytes of mapped-but-not-dumped pages, so only "readable" is decisive
    report("unmapped", a["addr"], False if readable and a["detail"].get("reason") != "stack-guard" else True,
           "readable in core" if readable else "not readable")


def check_maps(t):
    for m in t.get("maps", []):
        if len(m.get("entries", [])) != m["count"]:
            report("map", m["name"], False, "count %d != %d entries" % (m["count"], len(m["entries"])))
            continue
        if t.get("map_impl") == "classic" and m.get("addr"):
            h = int(m["addr"], 16)
            growing = u64(h + 24) != 0
            cnt = u64(h)
            ok = cnt == m["count"] and growing == m.get("growing")
            report("map", m["name"], ok, "hmap count %d oldbuckets!=nil %s" % (cnt, growing))
        elif m.get("addr"):
            h = int(m["addr"], 16)
            cnt = u64(h)
            report("map", m["name"], cnt == m["count"], "used %d" % cnt)


t = json.load(open(TRUTH))  # noqa: F821 (set by the caller)
where = None
if any(a["region"] == "c-heap" for a in t["addresses"]):
    where = c_bins()
for a in t["addresses"]:
    r = a["region"]
    try:
        if r == "go-heap":
            check_go_heap(a)
        elif r == "go-stack":
            check_go_stack(a)
        elif r == "c-heap":
            check_c_heap(a, where)
        elif r == "unmapped":
            check_unmapped(a)
        elif r == "image":
            sym = gdb.execute("info symbol %s" % a["addr"], to_string=True).strip()
            want = a.get("detail", {}).get("symbol", "")
            name = sym.split(" ")[0].replace("[", ".").rstrip("]")  # gdb shows Go's main.x as main[x]
            report(r, a["addr"], name == want, sym)
        elif r in ("thread-stack", "mapped"):
            try:
                inf.read_memory(int(a["addr"], 16), 8)
                report(r, a["addr"], True, "readable in core")
            except gdb.MemoryError:
                report(r, a["addr"], False, "not readable in core")
        else:
            report(r, a["addr"], None, "not checked")
    except gdb.error as e:
        report(r, a["addr"], False, "gdb error: %s" % e)
check_maps(t)
print("CHECK: %d ok, %d bad, %d skipped" % (counts["ok"], counts["bad"], counts["skip"]))
