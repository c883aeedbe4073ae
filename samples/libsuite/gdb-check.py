# Independent cross-check of a libsuite core against its truth.json, with gdb (a test of the
# samples, not a source of truth). Run by samples/libsuite/check.sh:
#
#   gdb -nx -batch -ex "py TRUTH='DIR/truth.json'; STDERR='DIR/stderr.txt'" \
#       -x samples/libsuite/gdb-check.py DIR/exe DIR/core
#
# What it checks, from the core alone:
#  - the crashing thread (the one with the most signal frames: Go re-raises the fatal signal
#    from its handler) and its faulting frame (the one right below the last signal frame);
#  - the faulting frame's shared object and function against fault_object and lib_function
#    (libxml2), fault_function (libc), lib_functions (stack overflow);
#  - the memory operand of the faulting instruction, evaluated with the frame's registers,
#    against fault_addr / fault_range / loaded_value, and read vs write against access;
#  - for the double free: glibc's free and malloc_printerr on the stack, the libxml2 frame
#    that called free, the pointer _int_free got (needs libc6-dbg);
#  - every address of the truth: readable in the core iff it is not "unmapped";
# and from the program's own Go report (stderr): the PC matches, the faulting address
# (addr=) matches, and the cgo call sits in go_caller.
import json
import os
import re

import gdb

gdb.execute("set pagination off")
gdb.execute("set print frame-arguments none")

truth = json.load(open(TRUTH))
crash = truth["crash"]
stderr = open(STDERR, errors="replace").read() if os.path.exists(STDERR) else ""
fails = []
passes = []


def check(ok, what):
    (passes if ok else fails).append(what)


def hx(s):
    return int(s, 16)


def readable(addr):
    try:
        gdb.selected_inferior().read_memory(addr, 1)
        return True
    except gdb.MemoryError:
        return False


def frames_of(thread):
    thread.switch()
    out = []
    f = gdb.newest_frame()
    while f is not None and len(out) < 400:
        out.append(f)
        try:
            f = f.older()
        except gdb.error:
            break
    return out


# ---- the crashing thread and its faulting frame ----
best = None
for th in gdb.selected_inferior().threads():
    fr = frames_of(th)
    n = sum(1 for f in fr if f.type() == gdb.SIGTRAMP_FRAME)
    if best is None or n > best[1]:
        best = (th, n, fr)
th, nsig, fr = best
th.switch()
last = max(i for i, f in enumerate(fr) if f.type() == gdb.SIGTRAMP_FRAME)
fault = fr[last + 1]
below = fr[last + 1:]


def solib(pc):
    n = gdb.solib_name(pc)
    return os.path.basename(n) if n else os.path.basename(gdb.current_progspace().filename)


def fname(f):
    n = f.name()
    if n:
        return n
    s = gdb.execute("info symbol 0x%x" % f.pc(), to_string=True)
    m = re.match(r"(\S+)", s)
    return m.group(1) if m and not s.startswith("No symbol") else "??"


pc = fault.pc()
fobj, ffun = solib(pc), fname(fault)
sig = crash["signal"]

# ---- Go's own report ----
m = re.search(r"^PC=(0x[0-9a-f]+) m=\d+ sigcode=(\d+)(?: addr=(0x[0-9a-f]+))?", stderr, re.M)
first = stderr.lstrip().split("\n", 1)[0]
if sig == "SIGSEGV":
    check(first.startswith("SIGSEGV"), "Go report starts with SIGSEGV (%s)" % first)
else:
    check("SIGABRT: abort" in stderr, "Go report has SIGABRT: abort")
check("signal arrived during cgo execution" in stderr, "signal arrived during cgo execution")
go_pc = hx(m.group(1)) if m else None
check(go_pc == pc, "Go report PC %s == faulting frame pc 0x%x" % (m.group(1) if m else None, pc))
if m and m.group(3) and "fault_addr" in crash:
    check(hx(m.group(3)) == hx(crash["fault_addr"]), "Go report addr=%s == fault_addr %s" % (m.group(3), crash["fault_addr"]))
if m and m.group(3) and "fault_range" in crash:
    lo, hi = (hx(x) for x in crash["fault_range"])
    check(lo <= hx(m.group(3)) < hi, "Go report addr=%s in fault_range %s" % (m.group(3), crash["fault_range"]))
# the cgo call in the crashing goroutine: main._Cfunc_<lib_call>, then go_caller
# (cgo wraps a call with pointer arguments in a closure of the caller: go_caller.funcN)
g = re.search(r"main\._Cfunc_(\w+)\(.*\n.*\n(\S+)\(", stderr)
gc = re.sub(r"(\.func\d+)+(\.\d+)?$", "", g.group(2)) if g else None
check(g is not None and g.group(1) == crash["lib_call"] and gc == crash["go_caller"],
      "Go stack: _Cfunc_%s called from %s (want %s from %s)" % (g.group(1) if g else None, g.group(2) if g else None, crash["lib_call"], crash["go_caller"]))

# ---- the faulting frame ----
if sig == "SIGSEGV":
    check(fobj.startswith(crash["fault_object"]), "fault in %s (want %s)" % (fobj, crash["fault_object"]))
    if "lib_functions" in crash:
        check(ffun in crash["lib_functions"], "fault in %s (want one of %s)" % (ffun, crash["lib_functions"]))
    elif crash["fault_object"].startswith("libxml2"):
        check(ffun == crash["lib_function"], "fault in %s (want %s)" % (ffun, crash["lib_function"]))
    else:
        want = crash.get("fault_function", "")
        # glibc's __memmove_*_unaligned_erms is the same code as __memcpy_*_unaligned_erms
        # (one symbol is an alias of the other): a debugger may print either
        alias = {"memmove": "memcpy"}.get(want, want)
        check(want in ffun or alias in ffun, "fault in %s (want %s*)" % (ffun, want))
        # the libc function's caller: lib_function; a frame in code no dynamic symbol covers
        # (GCC's out-of-line .part functions) shows as ??: then the next named one
        callers = [fname(f) for f in below[1:6] if solib(f.pc()).startswith("libxml2")]
        named = [c for c in callers if c != "??"]
        want = crash["lib_function"] if not callers or callers[0] != "??" else crash["lib_call"]
        check(len(named) > 0 and named[0] == want, "called from libxml2's %s (want %s; frames %s)" % (named[0] if named else None, want, callers))

    # evaluate the faulting instruction's memory operand with the frame's registers
    fault.select()
    insn = gdb.execute("x/i $pc", to_string=True).split(":", 1)[1].strip()
    insn = re.sub(r"\s+#.*$", "", insn)
    mnem = insn.split()[0]
    ops = insn[len(mnem):].strip()

    def reg(name):
        return int(fault.read_register(name)) & 0xFFFFFFFFFFFFFFFF

    ea, access = None, None
    if mnem.startswith("push") or mnem.startswith("call"):
        ea, access = reg("rsp") - 8, "write"
    else:
        mm = re.search(r"(-?0x[0-9a-f]+|-?\d+)?\((%\w+)?(?:,(%\w+)(?:,(\d))?)?\)", ops)
        if mm:
            disp = int(mm.group(1), 0) if mm.group(1) else 0
            base = reg(mm.group(2)[1:]) if mm.group(2) else 0
            idx = reg(mm.group(3)[1:]) * int(mm.group(4) or 1) if mm.group(3) else 0
            ea = (disp + base + idx) & 0xFFFFFFFFFFFFFFFF
            memlast = ops.rstrip().endswith(")") or re.search(r"\)\{%k\d\}$", ops)
            access = "write" if (memlast and re.match(r"(mov|stos|add|sub|and|or|xor|inc|dec)", mnem)) else "read"
    check(ea is not None, "faulting instruction has a memory operand: %s" % insn)
    if ea is not None:
        if "loaded_value" in crash:
            # (a string function may align the pointer down first: same page is enough)
            check(ea >> 12 == hx(crash["loaded_value"]) >> 12, "%s: address 0x%x in the page of loaded_value %s" % (insn, ea, crash["loaded_value"]))
        elif "fault_addr" in crash:
            check(ea == hx(crash["fault_addr"]), "%s: address 0x%x == fault_addr %s" % (insn, ea, crash["fault_addr"]))
        if "fault_range" in crash:
            lo, hi = (hx(x) for x in crash["fault_range"])
            check(lo <= ea < hi, "%s: address 0x%x in fault_range %s" % (insn, ea, crash["fault_range"]))
        if "access" in crash:
            check(access == crash["access"], "%s is a %s (want %s)" % (insn, access, crash["access"]))
        if "fault_addr" in crash and crash["class"] != "go-use-after-free":
            check(not readable(hx(crash["fault_addr"])), "fault_addr %s is not in the core" % crash["fault_addr"])
else:
    names = [fname(f) for f in below]
    check(any("free" in n for n in names[:12]), "glibc free on the stack (%s)" % names[:8])
    check(any("malloc_printerr" in n for n in names[:12]) or "abort" in " ".join(names[:12]), "malloc_printerr/abort on the stack")
    libs = [(fname(f), f) for f in below if solib(f.pc()).startswith("libxml2")]
    check(len(libs) > 0 and libs[0][0] == crash["lib_function"], "free called by %s (want %s)" % (libs[0][0] if libs else None, crash["lib_function"]))
    check(any(n == crash["lib_call"] for n, _ in libs), "%s on the stack (%s)" % (crash["lib_call"], [n for n, _ in libs]))
    if "abort_msg" in crash:
        check(crash["abort_msg"] in stderr, "stderr has %r" % crash["abort_msg"])
    for f in below:
        if f.name() == "_int_free":
            try:
                p = int(f.read_var("p"))
                check(p + 16 == hx(crash["freed_ptr"]), "_int_free chunk 0x%x + 16 == freed_ptr %s" % (p, crash["freed_ptr"]))
            except (gdb.error, ValueError) as e:
                passes.append("(_int_free's p unavailable: %s)" % e)
            break

# ---- c-heap chunks with a predicted bin: walk glibc's bins (needs libc6-dbg) ----
def u64(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")


def in_fastbin(chunk, size):
    p = int(gdb.parse_and_eval("(unsigned long) main_arena.fastbinsY[%d]" % ((size >> 4) - 2)))
    n = 0
    while p and n < 10000:
        if p == chunk:
            return True
        p = ((p + 16) >> 12) ^ u64(p + 16)  # safe-linking: fd at chunk+16 holds (&fd >> 12) ^ next
        n += 1
    return False


def in_tcache(mem, size):
    idx = (size - 0x20) >> 4
    e = int(gdb.parse_and_eval("(unsigned long) tcache->entries[%d]" % idx))
    n = 0
    while e and n < 100:
        if e == mem:
            return True
        e = (e >> 12) ^ u64(e)  # tcache next at mem+0: (&next >> 12) ^ next
        n += 1
    return False


binned = [a for a in truth["addresses"] if a.get("detail", {}).get("bin") in ("fastbin", "tcache")]
if binned:
    main_thread = [t for t in gdb.selected_inferior().threads() if t.ptid[1] == t.ptid[0]]
    gdb.execute("set language c")  # the frames are Go's: casts in C syntax
    try:
        if main_thread:
            main_thread[0].switch()
        gdb.parse_and_eval("main_arena.fastbinsY")
        have_libc = True
    except gdb.error as e:
        have_libc = False
        passes.append("(bins not checked: no glibc debug info: %s)" % str(e).splitlines()[0])
    for a in binned if have_libc else []:
        d = a["detail"]
        mem, size = hx(a["addr"]), d["chunk_size"]
        try:
            got = in_fastbin(mem - 16, size) if d["bin"] == "fastbin" else in_tcache(mem, size)
            check(got, "%s (chunk %#x) is in its %s bin" % (a["addr"], size, d["bin"]))
        except (gdb.error, gdb.MemoryError) as e:
            check(False, "%s: cannot walk the %s bin: %s" % (a["addr"], d["bin"], e))
    gdb.execute("set language auto")
    th.switch()

# ---- addresses: readable in the core iff not unmapped ----
for a in truth["addresses"]:
    addr = hx(a["addr"])
    if a.get("detail", {}).get("reason") == "stack-guard":
        continue  # a PROT_NONE mapping: in the core's program headers, no contents
    r = readable(addr)
    want = a["region"] != "unmapped"
    check(r == want, "%s %s (%s): %s in the core" % (a["addr"], a["region"], a["what"][:40], "readable" if r else "not"))

print("frame: %s in %s, pc 0x%x" % (ffun, fobj, pc))
for p in passes:
    print("  ok   " + p)
for f in fails:
    print("  FAIL " + f)
print("RESULT %s %d/%d" % ("PASS" if not fails else "FAIL", len(passes), len(passes) + len(fails)))
