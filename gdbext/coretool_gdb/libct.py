"""ctypes binding of libcoretool's C API (coretool/api.h).

Only this module knows the C signatures. The structs mirror api.h field for
field; `ct_struct_size` lets us refuse a library whose structs differ from
this mirror instead of reading garbage.
"""
from __future__ import annotations

import ctypes
import json
import ctypes.util
import os
import pathlib
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple


class CoretoolError(Exception):
    """An error for the person at the gdb prompt: one line, no traceback."""


class Interrupted(KeyboardInterrupt):
    """The user pressed Ctrl-C during a call into the library: its reads were
    cancelled and it returned nothing (CT_INTERRUPTED). A KeyboardInterrupt,
    not a CoretoolError: no fallback may retry the call, and gdb takes it for
    its own quit where no command of ours catches it (a printer's output)."""

    def __init__(self, what: str = "interrupted") -> None:
        super().__init__(what)


# A read callback's answer when the user pressed Ctrl-C (api.h CT_READ_CANCEL),
# and what the call then returns (CT_INTERRUPTED).
CT_READ_CANCEL = 3
CT_INTERRUPTED = 130


ENTRY_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                            ctypes.c_uint32)
READ_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                           ctypes.c_size_t)

CT_MAP_KEY_BAD = 1
CT_MAP_ELEM_BAD = 2

CT_MAP_TABLE = 1
CT_MAP_TABLE_END = 2
CT_MAP_BUCKET = 3
CT_MAP_OLDBUCKET = 4
CT_MAP_GROUP = 5


class MapInfo(ctypes.Structure):
    _fields_ = [
        ("addr", ctypes.c_uint64),
        ("count", ctypes.c_uint64),
        ("swiss", ctypes.c_int32),
        ("key_indirect", ctypes.c_int32),
        ("elem_indirect", ctypes.c_int32),
        ("slots", ctypes.c_uint32),
        ("key_size", ctypes.c_uint64),
        ("elem_size", ctypes.c_uint64),
        ("type", ctypes.c_char_p),
        ("key_type", ctypes.c_char_p),
        ("elem_type", ctypes.c_char_p),
        ("impl", ctypes.c_char_p),
        ("B", ctypes.c_uint64),
        ("buckets", ctypes.c_uint64),
        ("oldbuckets", ctypes.c_uint64),
        ("nevacuate", ctypes.c_uint64),
        ("noverflow", ctypes.c_uint64),
        ("dir_ptr", ctypes.c_uint64),
        ("global_depth", ctypes.c_uint64),
        ("dir_len", ctypes.c_int64),
        ("growth", ctypes.c_char * 128),
        ("flags", ctypes.c_char * 96),
    ]


class MapUnit(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int32),
        ("nslots", ctypes.c_uint32),
        ("addr", ctypes.c_uint64),
        ("index", ctypes.c_uint64),
        ("chain", ctypes.c_uint64),
        ("overflow", ctypes.c_uint64),
        ("evacuated", ctypes.c_int32),
        ("live", ctypes.c_int32),
        ("table", ctypes.c_uint64),
        ("ctrl", ctypes.c_uint8 * 8),
        ("state", ctypes.c_char_p * 8),
        ("dir_index", ctypes.c_uint64),
        ("dir_count", ctypes.c_uint64),
        ("table_index", ctypes.c_int64),
        ("used", ctypes.c_uint32),
        ("capacity", ctypes.c_uint32),
        ("growth_left", ctypes.c_uint32),
        ("local_depth", ctypes.c_uint32),
        ("groups", ctypes.c_uint64),
        ("ngroups", ctypes.c_uint64),
        ("full", ctypes.c_uint64),
        ("deleted", ctypes.c_uint64),
        ("empty", ctypes.c_uint64),
    ]


class MapHealth(ctypes.Structure):
    _fields_ = [
        ("ok", ctypes.c_int32),
        ("complete", ctypes.c_int32),
        ("stopped_by_caller", ctypes.c_int32),
        ("nissues", ctypes.c_uint32),
        ("count", ctypes.c_uint64),
        ("live", ctypes.c_uint64),
        ("summary", ctypes.c_char * 256),
        ("stopped", ctypes.c_char * 256),
    ]


class Thread(ctypes.Structure):
    _fields_ = [
        ("tid", ctypes.c_int64),
        ("sp", ctypes.c_uint64),
        ("pc", ctypes.c_uint64),
        ("fp", ctypes.c_uint64),
    ]


UNIT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(MapUnit))

CT_G_FROM_SCHED, CT_G_FROM_SYSCALL, CT_G_FROM_THREAD = 0, 1, 2
CT_NREGS = 27
# user_regs_struct (NT_PRSTATUS) order, as ct_thread_regs wants them
CT_REG_NAMES = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
                "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
                "fs_base", "gs_base", "ds", "es", "fs", "gs")


class Goroutine(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint64),
        ("g", ctypes.c_uint64),
        ("thread", ctypes.c_int64),
        ("pc", ctypes.c_uint64),
        ("sp", ctypes.c_uint64),
        ("bp", ctypes.c_uint64),
        ("from_", ctypes.c_int32),
        ("dead", ctypes.c_int32),
        ("stack_lo", ctypes.c_uint64),
        ("stack_hi", ctypes.c_uint64),
        ("gopc", ctypes.c_uint64),
        ("status", ctypes.c_char * 24),
        ("wait_reason", ctypes.c_char * 96),
        ("func", ctypes.c_char_p),
        ("file", ctypes.c_char_p),
        ("line", ctypes.c_int32),
        ("user_line", ctypes.c_int32),
        ("user_func", ctypes.c_char_p),
        ("user_file", ctypes.c_char_p),
        ("go_func", ctypes.c_char_p),
        ("go_file", ctypes.c_char_p),
        ("go_line", ctypes.c_int32),
        ("nframes", ctypes.c_uint32),
    ]


class ThreadRegs(ctypes.Structure):
    _fields_ = [("tid", ctypes.c_int64), ("regs", ctypes.c_uint64 * CT_NREGS)]


class TypeInfo(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int32),
        ("named", ctypes.c_int32),
        ("swiss", ctypes.c_int32),
        ("key_indirect", ctypes.c_int32),
        ("elem_indirect", ctypes.c_int32),
        ("pad_", ctypes.c_int32),
        ("size", ctypes.c_uint64),
        ("len", ctypes.c_uint64),
        ("key_size", ctypes.c_uint64),
        ("elem_size", ctypes.c_uint64),
        ("name", ctypes.c_char_p),
        ("kind_name", ctypes.c_char_p),
        ("key_type", ctypes.c_char_p),
        ("elem_type", ctypes.c_char_p),
        ("impl", ctypes.c_char_p),
        ("underlying", ctypes.c_char * 256),
        ("map_error", ctypes.c_char * 160),
    ]


class ChanInfo(ctypes.Structure):
    """struct ct_chan_info."""
    _fields_ = [(n, ctypes.c_uint64) for n in
                ("addr", "qcount", "dataqsiz", "buf", "elemsize", "sendx", "recvx")] + [
        ("closed", ctypes.c_int32),
        ("waiters_partial", ctypes.c_int32),
        ("recvq", ctypes.c_uint64),
        ("sendq", ctypes.c_uint64),
        ("elem_type", ctypes.c_char_p),
        ("elem_type_size", ctypes.c_uint64),
        ("bad", ctypes.c_char * 128),
    ]


class IfaceInfo(ctypes.Structure):
    """struct ct_iface_info."""
    _fields_ = [
        ("nil", ctypes.c_int32),
        ("known", ctypes.c_int32),
        ("direct", ctypes.c_int32),
        ("rtype", ctypes.c_uint64),
        ("data", ctypes.c_uint64),
        ("value_addr", ctypes.c_uint64),
        ("type", ctypes.c_char_p),
        ("size", ctypes.c_uint64),
        ("rt_name", ctypes.c_char * 256),
    ]

_lib: Optional[ctypes.CDLL] = None


def _candidates() -> List[str]:
    env = os.environ.get("CORETOOL_LIB")
    if env:
        return [env]
    here = pathlib.Path(__file__).resolve()
    # gdbext/coretool_gdb/libct.py -> the repository's build/
    out = [str(here.parent.parent.parent / "build" / "libcoretool.so")]
    found = ctypes.util.find_library("coretool")
    if found:
        out.append(found)
    return out


def _bind(lib: ctypes.CDLL) -> None:
    vp, cp, u64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64
    pcp = ctypes.POINTER(ctypes.c_void_p)
    lib.ct_open_core.restype = vp
    lib.ct_open_core.argtypes = [cp, cp, cp, pcp]
    lib.ct_open_memory.restype = vp
    lib.ct_open_memory.argtypes = [READ_FN, vp, cp, u64, pcp]
    lib.ct_set_debug_dirs.restype = None
    lib.ct_set_debug_dirs.argtypes = [cp]
    lib.ct_close.restype = None
    lib.ct_close.argtypes = [vp]
    lib.ct_run.restype = ctypes.c_int
    lib.ct_run.argtypes = [vp, ctypes.c_int, ctypes.POINTER(cp), ctypes.c_int, pcp, pcp]
    lib.ct_free.restype = None
    lib.ct_free.argtypes = [vp]
    lib.ct_version.restype = cp
    lib.ct_version.argtypes = []
    lib.ct_map_info.restype = ctypes.c_int
    lib.ct_map_info.argtypes = [vp, u64, cp, ctypes.POINTER(MapInfo), pcp]
    lib.ct_map_walk.restype = ctypes.c_int
    lib.ct_map_walk.argtypes = [vp, u64, cp, ENTRY_FN, UNIT_FN, vp, ctypes.POINTER(MapHealth), pcp]
    lib.ct_render.restype = ctypes.c_int
    lib.ct_render.argtypes = [vp, cp, u64, ctypes.c_int, pcp, pcp]
    if hasattr(lib, "ct_map_render_batch"):  # optional: the printers fall back to ct_map_walk
        lib.ct_map_render_batch.restype = ctypes.c_int
        lib.ct_map_render_batch.argtypes = [vp, u64, cp, u64, u64, ctypes.c_uint32,
                                            ctypes.c_uint32, pcp, ctypes.POINTER(u64),
                                            ctypes.POINTER(MapHealth), pcp]
    lib.ct_verb_needs_core.restype = ctypes.c_int
    lib.ct_verb_needs_core.argtypes = [cp]
    lib.ct_has_verb.restype = ctypes.c_int
    lib.ct_has_verb.argtypes = [cp]
    lib.ct_verb_help.restype = vp
    lib.ct_verb_help.argtypes = [cp]
    lib.ct_verbs_json.restype = vp
    lib.ct_verbs_json.argtypes = []
    lib.ct_struct_size.restype = ctypes.c_size_t
    lib.ct_struct_size.argtypes = [cp]
    mirrors = [("ct_map_info", MapInfo), ("ct_map_unit", MapUnit),
               ("ct_map_health", MapHealth), ("ct_thread", Thread)]
    lib.ct_open_process.restype = vp
    lib.ct_open_process.argtypes = [READ_FN, vp, cp, ctypes.c_int64, cp, ctypes.POINTER(Thread),
                                    ctypes.c_size_t, pcp]
    # Optional (a library without them has no goroutine commands, checked on use).
    if hasattr(lib, "ct_goroutines"):
        lib.ct_goroutines.restype = ctypes.c_int
        lib.ct_goroutines.argtypes = [vp, ctypes.c_int, ctypes.POINTER(ctypes.POINTER(Goroutine)),
                                      ctypes.POINTER(ctypes.c_size_t), pcp]
        lib.ct_set_threads.restype = ctypes.c_int
        lib.ct_set_threads.argtypes = [vp, ctypes.POINTER(ThreadRegs), ctypes.c_size_t, pcp]
        mirrors += [("ct_goroutine", Goroutine), ("ct_thread_regs", ThreadRegs)]
    if hasattr(lib, "ct_type_info"):
        lib.ct_type_info.restype = ctypes.c_int
        lib.ct_type_info.argtypes = [vp, cp, ctypes.POINTER(TypeInfo), pcp]
        mirrors += [("ct_type_info", TypeInfo)]
    if hasattr(lib, "ct_map_legend_json"):
        lib.ct_map_legend_json.restype = vp
        lib.ct_map_legend_json.argtypes = []
    if hasattr(lib, "ct_chan_info"):
        lib.ct_chan_info.restype = ctypes.c_int
        lib.ct_chan_info.argtypes = [vp, u64, cp, ctypes.POINTER(ChanInfo), pcp]
        lib.ct_chan_slot.restype = u64
        lib.ct_chan_slot.argtypes = [ctypes.POINTER(ChanInfo), u64]
        lib.ct_iface_info.restype = ctypes.c_int
        lib.ct_iface_info.argtypes = [vp, cp, u64, u64, ctypes.POINTER(IfaceInfo), pcp]
        mirrors += [("ct_chan_info", ChanInfo), ("ct_iface_info", IfaceInfo)]
    for name, mirror in mirrors:
        size = lib.ct_struct_size(name.encode())
        if size != ctypes.sizeof(mirror):
            raise CoretoolError(f"libcoretool's struct {name} is {size} bytes, this gdb "
                                f"extension expects {ctypes.sizeof(mirror)}: rebuild or update "
                                "one of them")


def lib() -> ctypes.CDLL:
    """The loaded library (loaded once); CoretoolError if it cannot be found."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        try:
            candidate = ctypes.CDLL(path)
        except OSError as e:
            tried.append(str(e))
            continue
        try:
            _bind(candidate)
        except AttributeError as e:
            raise CoretoolError(f"{path} is too old for this gdb extension ({e}): run `make`")
        _lib = candidate
        return _lib
    raise CoretoolError("cannot load libcoretool (run `make`, or set CORETOOL_LIB): "
                        + "; ".join(tried))


def take_string(ptr: Optional[int]) -> str:
    """A C string the library allocated, as text; frees it."""
    if not ptr:
        return ""
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib().ct_free(ptr)


def has_verb(verb: str) -> bool:
    return bool(lib().ct_has_verb(verb.encode()))


def verb_help(verb: str) -> Optional[str]:
    ptr = lib().ct_verb_help(verb.encode())
    return take_string(ptr) if ptr else None


_verbs: Optional[Dict[str, Dict[str, Any]]] = None


def verb_spec(verb: str) -> Optional[Dict[str, Any]]:
    """The library's specification of a verb (arguments, options with types,
    ranges and defaults, help), or None for a verb it does not have: the gdb
    commands build their parsers and usage lines from it."""
    global _verbs
    if _verbs is None:
        text = take_string(lib().ct_verbs_json())
        try:
            _verbs = {v["name"]: v for v in json.loads(text)["verbs"]}
        except (ValueError, KeyError, TypeError) as e:
            raise CoretoolError(f"libcoretool's verb specification is unreadable: {e}") from None
    return _verbs.get(verb)


_legend: Optional[Dict[str, Dict[str, Any]]] = None


def map_legend() -> Dict[str, Dict[str, Any]]:
    """The layout view's legend from the library (ct_map_legend_json), by
    implementation: {"classic"|"swiss": {"line": the one-line legend,
    "marks": {state: two-char mark, or None for "the byte in hex"},
    "states": [{"state", "mark", "meaning"}]}}."""
    global _legend
    if _legend is None:
        if not hasattr(lib(), "ct_map_legend_json"):
            raise CoretoolError("libcoretool is too old for the map legend: run `make`")
        text = take_string(lib().ct_map_legend_json())
        try:
            d = json.loads(text)
            for v in d.values():
                v["marks"] = {x["state"]: x["mark"] for x in v["states"]}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CoretoolError(f"libcoretool's map legend is unreadable: {e}") from None
        _legend = d
    return _legend


def version() -> str:
    return lib().ct_version().decode()


def set_debug_dirs(dirs: Optional[str]) -> None:
    """Where detached debug info is, before /usr/lib/debug (':'-separated)."""
    lib().ct_set_debug_dirs(dirs.encode() if dirs else None)


def _read_callback(read: Callable[[int, int], Tuple[int, bytes]]) -> Callable:
    """The C read callback over read(addr, len) -> (status, bytes). A Python
    exception cannot cross into C: every failure is a status, and Ctrl-C
    (gdb raises KeyboardInterrupt in Python, in our code or in its own
    read_memory) is CT_READ_CANCEL, which stops the library's call."""

    def c_read(_arg: Optional[int], addr: int, buf: int, length: int) -> int:
        if _cancel_pending[0]:
            return CT_READ_CANCEL
        try:
            status, data = read(addr, length)
            if status == 0:
                if len(data) != length:
                    return 2
                ctypes.memmove(buf, data, length)
            return status
        except KeyboardInterrupt:
            return CT_READ_CANCEL
        except Exception:  # noqa: BLE001 - the C boundary; see above
            return 1

    c_read.coretool_read = True  # type: ignore[attr-defined]
    return c_read


# Ctrl-C that lands on the callback's first instruction, before its `try`,
# escapes into ctypes, which reports it as unraisable ("Exception ignored")
# and lets C go on: the read then counts as done and the library's call would
# run to its end. The hook below takes that KeyboardInterrupt quietly and
# makes every later read of the call answer CT_READ_CANCEL; the flag is
# cleared when the call returns (Handle._check_interrupted).
_cancel_pending = [False]
_previous_unraisablehook = sys.unraisablehook


def _unraisable(args: Any) -> None:
    if (args.exc_type is not None and issubclass(args.exc_type, KeyboardInterrupt)
            and getattr(args.object, "coretool_read", False)):
        _cancel_pending[0] = True
        return
    _previous_unraisablehook(args)


sys.unraisablehook = _unraisable


class Handle:
    """An open ct_session. Keeps alive whatever the C side calls back into."""

    def __init__(self, ptr: int, keepalive: Tuple = ()) -> None:
        self.ptr: Optional[int] = ptr
        self._keepalive = keepalive
        # A call was interrupted: the models it built may be incomplete, the
        # session must be opened again (session.current does).
        self.interrupted = False

    @classmethod
    def open_core(cls, core: str, exe: Optional[str], sysroot: Optional[str]) -> "Handle":
        err = ctypes.c_void_p()
        ptr = lib().ct_open_core(core.encode(), exe.encode() if exe else None,
                                 sysroot.encode() if sysroot else None, ctypes.byref(err))
        if not ptr:
            raise CoretoolError(take_string(err.value) or f"cannot open {core}")
        return cls(ptr)

    @classmethod
    def open_memory(cls, read: Callable[[int, int], Tuple[int, bytes]], exe: str,
                    bias: int) -> "Handle":
        """read(addr, len) -> (status, bytes): status 0 ok, 1 unmapped, 2 unavailable."""
        cb = READ_FN(_read_callback(read))
        err = ctypes.c_void_p()
        ptr = lib().ct_open_memory(cb, None, exe.encode(), bias, ctypes.byref(err))
        if not ptr:
            raise CoretoolError(take_string(err.value) or f"cannot open {exe}")
        return cls(ptr, (cb, read))

    @classmethod
    def open_process(cls, read: Callable[[int, int], Tuple[int, bytes]], exe: str, pid: int,
                     maps: str, threads: List[Tuple[int, int, int, int]]) -> "Handle":
        """A live process: read as for open_memory, maps its /proc/PID/maps
        text, threads (tid, sp, pc, fp); the library finds the load bias and
        the modules from them."""
        cb = READ_FN(_read_callback(read))
        arr = (Thread * max(1, len(threads)))(*[Thread(*t) for t in threads])
        err = ctypes.c_void_p()
        ptr = lib().ct_open_process(cb, None, exe.encode(), pid, maps.encode(), arr,
                                    len(threads), ctypes.byref(err))
        if not ptr:
            msg = take_string(err.value)
            if msg == "interrupted":
                raise Interrupted()
            raise CoretoolError(msg or f"cannot open process {pid}")
        return cls(ptr, (cb, read))

    def _check_interrupted(self, rc: int) -> None:
        _cancel_pending[0] = False
        if rc == CT_INTERRUPTED:
            self.interrupted = True
            raise Interrupted()

    def close(self) -> None:
        if self.ptr:
            lib().ct_close(self.ptr)
            self.ptr = None

    def _p(self) -> int:
        if not self.ptr:
            raise CoretoolError("the coretool session is closed")
        return self.ptr

    def run(self, argv: List[str], json: bool = False) -> Tuple[int, str, str]:
        arr = (ctypes.c_char_p * len(argv))(*[a.encode() for a in argv])
        out, err = ctypes.c_void_p(), ctypes.c_void_p()
        rc = lib().ct_run(self._p(), len(argv), arr, 1 if json else 0, ctypes.byref(out),
                          ctypes.byref(err))
        out_s, err_s = take_string(out.value), take_string(err.value)
        self._check_interrupted(rc)
        return rc, out_s, err_s

    def map_info(self, addr: int, type_name: str) -> MapInfo:
        info = MapInfo()
        err = ctypes.c_void_p()
        rc = lib().ct_map_info(self._p(), addr, type_name.encode(), ctypes.byref(info),
                               ctypes.byref(err))
        if rc == CT_INTERRUPTED:
            take_string(err.value)
        self._check_interrupted(rc)
        if rc != 0:
            raise CoretoolError(take_string(err.value) or f"cannot read map at 0x{addr:x}")
        return info

    def map_walk(self, addr: int, type_name: str,
                 on_entry: Optional[Callable[[int, int, int], bool]],
                 on_unit: Optional[Callable[[MapUnit], bool]]) -> MapHealth:
        """Walks the map; a callback returning False stops the walk. A
        KeyboardInterrupt in a callback stops the walk and is raised again
        after it (the C side cannot carry it)."""
        pending: List[BaseException] = []

        def c_entry(_arg: Optional[int], k: int, v: int, flags: int) -> int:
            try:
                return 1 if on_entry(k, v, flags) else 0
            except KeyboardInterrupt as e:
                pending.append(e)
            except Exception as e:  # noqa: BLE001 - cannot cross into C; raised after the walk
                pending.append(e)
            return 0

        def c_unit(_arg: Optional[int], u: "ctypes._Pointer[MapUnit]") -> int:
            try:
                return 1 if on_unit(u.contents) else 0
            except KeyboardInterrupt as e:
                pending.append(e)
            except Exception as e:  # noqa: BLE001 - as above
                pending.append(e)
            return 0

        ecb = ENTRY_FN(c_entry) if on_entry else ctypes.cast(None, ENTRY_FN)
        ucb = UNIT_FN(c_unit) if on_unit else ctypes.cast(None, UNIT_FN)
        health = MapHealth()
        err = ctypes.c_void_p()
        rc = lib().ct_map_walk(self._p(), addr, type_name.encode(), ecb, ucb, None,
                               ctypes.byref(health), ctypes.byref(err))
        if rc == CT_INTERRUPTED:
            take_string(err.value)
        self._check_interrupted(rc)
        if pending:
            raise pending[0]
        if rc == 2:
            raise CoretoolError(take_string(err.value) or f"cannot walk map at 0x{addr:x}")
        return health

    def has_render_batch(self) -> bool:
        return hasattr(lib(), "ct_map_render_batch")

    def map_render_batch(self, addr: int, type_name: str, start: int, count: int,
                         max_string: int, repeats: int) -> Tuple[List[str], MapHealth]:
        """Entries start..start+count-1 of the map as the library renders them
        for gdb (api.h ct_map_render_batch): two tagged lines per entry, the
        key's and the value's ("=TEXT", "@HEX" or "!HEX"), and the health."""
        out, err = ctypes.c_void_p(), ctypes.c_void_p()
        n = ctypes.c_uint64()
        health = MapHealth()
        rc = lib().ct_map_render_batch(self._p(), addr, type_name.encode(), start, count,
                                       max_string, repeats, ctypes.byref(out), ctypes.byref(n),
                                       ctypes.byref(health), ctypes.byref(err))
        if rc == CT_INTERRUPTED:
            take_string(err.value)
        self._check_interrupted(rc)
        if rc == 2:
            take_string(out.value)
            raise CoretoolError(take_string(err.value) or f"cannot walk map at 0x{addr:x}")
        text = take_string(out.value)
        lines = text.split("\n")[:2 * n.value]
        return lines, health

    def render(self, type_name: str, addr: int, json: bool = False) -> Tuple[int, str]:
        out, err = ctypes.c_void_p(), ctypes.c_void_p()
        rc = lib().ct_render(self._p(), type_name.encode(), addr, 1 if json else 0,
                             ctypes.byref(out), ctypes.byref(err))
        if rc == CT_INTERRUPTED:
            take_string(err.value)
        self._check_interrupted(rc)
        if rc == 2:
            raise CoretoolError(take_string(err.value) or f"cannot render {type_name}")
        return rc, take_string(out.value)

    def type_info(self, type_name: str) -> Dict[str, Any]:
        """What the library's DWARF says the Go type `type_name` is (ct_type_info):
        {"name", "kind" (reflect.Kind number), "kind_name" ("map", "slice", "ptr",
        "iface", "eface", ...), "named", "underlying", "size", "len", "key_type",
        "elem_type", and for maps "impl" ("classic"/"swiss"/"unknown"), "swiss"
        (True/False/None), "key_size", "elem_size", "key_indirect",
        "elem_indirect", "map_error"}. CoretoolError if the DWARF has no such type."""
        if not hasattr(lib(), "ct_type_info"):
            raise CoretoolError("libcoretool is too old for type info (no ct_type_info): run `make`")
        ti = TypeInfo()
        err = ctypes.c_void_p()
        rc = lib().ct_type_info(self._p(), type_name.encode(), ctypes.byref(ti), ctypes.byref(err))
        if rc == CT_INTERRUPTED:
            take_string(err.value)
        self._check_interrupted(rc)
        if rc != 0:
            raise CoretoolError(take_string(err.value) or f"no type {type_name}")
        return {
            "name": _text(ti.name), "kind": ti.kind, "kind_name": _text(ti.kind_name) or "",
            "named": bool(ti.named), "underlying": _text(ti.underlying) or "",
            "size": ti.size, "len": ti.len, "key_type": _text(ti.key_type),
            "elem_type": _text(ti.elem_type), "impl": _text(ti.impl) or "",
            "swiss": None if ti.swiss < 0 else bool(ti.swiss), "key_size": ti.key_size,
            "elem_size": ti.elem_size, "key_indirect": bool(ti.key_indirect),
            "elem_indirect": bool(ti.elem_indirect),
            "map_error": _text(ti.map_error) or "",
        }


def _text(b: Optional[bytes]) -> Optional[str]:
    return b.decode("utf-8", "replace") if b is not None else None


def goroutines(handle: "Handle", all_: bool = False) -> Tuple[int, List[Dict[str, Any]]]:
    """The library's goroutines (the goroutines verb's model) as dicts:
    (status, list); status 1 when some could not be read."""
    if not hasattr(lib(), "ct_goroutines"):
        raise CoretoolError(f"this libcoretool ({version()}) has no goroutine API: run `make`")
    arr = ctypes.POINTER(Goroutine)()
    n = ctypes.c_size_t()
    err = ctypes.c_void_p()
    rc = lib().ct_goroutines(handle._p(), 1 if all_ else 0, ctypes.byref(arr), ctypes.byref(n),
                             ctypes.byref(err))
    if rc == 2:
        raise CoretoolError(take_string(err.value) or "cannot read the goroutines")
    out: List[Dict[str, Any]] = []
    try:
        for i in range(n.value):
            g = arr[i]
            out.append({
                "id": g.id, "g": g.g, "thread": g.thread if g.thread >= 0 else None,
                "pc": g.pc, "sp": g.sp, "bp": g.bp, "from": g.from_, "dead": bool(g.dead),
                "stack_lo": g.stack_lo, "stack_hi": g.stack_hi, "gopc": g.gopc,
                "status": g.status.decode(), "wait_reason": g.wait_reason.decode() or None,
                "func": _text(g.func), "file": _text(g.file), "line": g.line,
                "user_func": _text(g.user_func), "user_file": _text(g.user_file),
                "user_line": g.user_line, "go_func": _text(g.go_func),
                "go_file": _text(g.go_file), "go_line": g.go_line, "nframes": g.nframes,
            })
    finally:
        lib().ct_free(ctypes.cast(arr, ctypes.c_void_p))
    return rc, out


def set_threads(handle: "Handle", threads: List[Tuple[int, List[int]]]) -> None:
    """Hands a live session its threads: [(tid, regs in CT_REG_NAMES order)]."""
    if not hasattr(lib(), "ct_set_threads"):
        return
    arr = (ThreadRegs * max(len(threads), 1))()
    for i, (tid, regs) in enumerate(threads):
        arr[i].tid = tid
        for k, v in enumerate(regs[:CT_NREGS]):
            arr[i].regs[k] = v & 0xFFFFFFFFFFFFFFFF
    err = ctypes.c_void_p()
    if lib().ct_set_threads(handle._p(), arr, len(threads), ctypes.byref(err)) != 0:
        raise CoretoolError(take_string(err.value) or "cannot hand the threads to libcoretool")


def verb_needs_core(verb: str) -> bool:
    return bool(lib().ct_verb_needs_core(verb.encode()))


def _values_call(handle: "Handle", fn: str, args: Tuple, what: str) -> None:
    if not hasattr(lib(), fn):
        raise CoretoolError(f"libcoretool has no {fn}: run `make`")
    err = ctypes.c_void_p()
    rc = getattr(lib(), fn)(handle._p(), *args, ctypes.byref(err))
    if rc == CT_INTERRUPTED:
        take_string(err.value)
    handle._check_interrupted(rc)
    if rc != 0:
        raise CoretoolError(take_string(err.value) or what)


def chan_info(handle: "Handle", addr: int, type_name: str) -> ChanInfo:
    """The channel of type type_name whose hchan is at addr (0: nil)."""
    info = ChanInfo()
    _values_call(handle, "ct_chan_info", (addr, type_name.encode(), ctypes.byref(info)),
                 f"cannot read channel at 0x{addr:x}")
    return info


def chan_slot(info: ChanInfo, i: int) -> int:
    """Address of the i-th buffered element in queue order (0: none)."""
    return int(lib().ct_chan_slot(ctypes.byref(info), i))


def iface_info(handle: "Handle", type_name: str, type_word: int, data_word: int) -> IfaceInfo:
    """The dynamic type of an interface of static type type_name."""
    info = IfaceInfo()
    _values_call(handle, "ct_iface_info",
                 (type_name.encode(), type_word, data_word, ctypes.byref(info)),
                 f"cannot read interface {type_name}")
    return info
