"""The libcoretool session behind gdb's current inferior.

A core is opened by its path (`ct_open_core`): libcoretool then reads the core
itself, notes and threads included, exactly as the CLI does. A live process (or
a remote target) is opened over a memory callback that reads through gdb
(`ct_open_process`), with what memory cannot tell: the process's mappings
(/proc/PID/maps when the inferior runs on this machine, else gdb's `info proc
mappings`), its threads' registers and the executable's file. The library
finds the load bias and the modules from them, and classifies every region as
on a core. A target that gives no mappings is opened without them
(`ct_open_memory`, the load bias from AT_ENTRY): Go heap and stacks only.

A Ctrl-C during a call is seen by the read callback (gdb raises
KeyboardInterrupt in Python): the library stops reading and returns
"interrupted"; the session, whose models may be incomplete, is opened again by
the next command.

Sessions are cached per inferior and keyed by what identifies the target: the
connection (a new `core-file` makes a new connection), the pid and the
executable. A live session is dropped whenever the process runs again (its
models would be stale), memory is written, or the process exits; every session
is dropped when objfiles change.
"""
from __future__ import annotations

import os
import re
import struct
from typing import Dict, List, Optional, Tuple

import gdb

from . import libct
from .libct import CoretoolError, Handle, Interrupted, set_debug_dirs

_CORE_RE = re.compile(r"Local core dump file:\s*\n\s*`(.+)', file type")

_Key = Tuple[int, int, str, int, str]


class Session:
    def __init__(self, handle: Handle, key: _Key, live: bool, what: str,
                 mapped: bool = True) -> None:
        self.handle = handle
        self.key = key
        self.live = live
        self.mapped = mapped  # the library has the mappings (a core, or ct_open_process)
        self.what = what  # "core /path/core" or "process 1234", for messages

    def close(self) -> None:
        self.handle.close()


_sessions: Dict[int, Session] = {}
# A target that failed to open fails again the same way until it changes:
# printing a struct with 100 maps must not retry 100 times.
_failures: Dict[int, Tuple[_Key, str]] = {}


def _key(inf: gdb.Inferior) -> _Key:
    conn = inf.connection
    if conn is None or inf.pid == 0:
        raise CoretoolError("no process and no core file: load one (`core-file CORE`, `run`, "
                            "`attach PID`)")
    exe = inf.progspace.filename or ""
    return (inf.num, conn.num, conn.type or "", inf.pid, exe)


def core_file_path() -> Optional[str]:
    """The core file gdb has open (gdb 13 has no API for it: `info target`)."""
    text = gdb.execute("info target", to_string=True)
    m = _CORE_RE.search(text)
    return m.group(1) if m else None


def _sysroot() -> Optional[str]:
    try:
        root = gdb.parameter("sysroot")
    except RuntimeError:
        return None
    if not root or root.startswith("target:") or not os.path.isdir(root) or root == "/":
        return None
    return root


def _elf_entry(exe: str) -> Tuple[int, int]:
    """(e_type, e_entry) of a 64-bit little-endian ELF file."""
    with open(exe, "rb") as f:
        head = f.read(32)
    if len(head) < 32 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        raise CoretoolError(f"{exe}: not a 64-bit little-endian ELF file")
    e_type = struct.unpack_from("<H", head, 16)[0]
    e_entry = struct.unpack_from("<Q", head, 24)[0]
    return e_type, e_entry


def _load_bias(exe: str) -> int:
    """0 for a non-PIE executable; else AT_ENTRY (where it runs) - e_entry."""
    e_type, e_entry = _elf_entry(exe)
    if e_type != 3:  # ET_DYN
        return 0
    text = gdb.execute("info auxv", to_string=True)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] == "AT_ENTRY":
            return int(parts[-1], 16) - e_entry
    raise CoretoolError("cannot find the load address of the PIE executable (no AT_ENTRY "
                        "in `info auxv`)")


_PROC_MAP_RE = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)"
                          r"\s+([r-][w-][x-][ps])\s*(.*)$")


def _info_proc_mappings() -> Optional[str]:
    """`info proc mappings` (gdb 12+: with permissions) as /proc/PID/maps
    text; None when the target gives none or no permissions."""
    try:
        text = gdb.execute("info proc mappings", to_string=True)
    except gdb.error:
        return None
    lines = []
    for line in text.splitlines():
        m = _PROC_MAP_RE.match(line)
        if m:
            lo, hi, off, perms, path = m.groups()
            lines.append(f"{int(lo, 16):x}-{int(hi, 16):x} {perms} {int(off, 16):08x} "
                         f"00:00 0 {path.strip()}")
    return "\n".join(lines) + "\n" if lines else None


def mappings(inf: gdb.Inferior, conn_type: str) -> Optional[str]:
    """The process's mappings as /proc/PID/maps text: the file itself when
    gdb's inferior runs here (connection "native"), else what gdb can ask the
    target (gdbserver reads the same file over there)."""
    if conn_type == "native":
        try:
            with open(f"/proc/{inf.pid}/maps", encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            pass
    return _info_proc_mappings()


def _debug_file_directory() -> Optional[str]:
    """gdb's `set debug-file-directory` (':'-separated), for libc6-dbg and the like."""
    try:
        return gdb.parameter("debug-file-directory") or None
    except RuntimeError:
        return None


def _open(inf: gdb.Inferior, key: _Key) -> Session:
    conn_type = key[2]
    exe = inf.progspace.filename
    set_debug_dirs(_debug_file_directory())
    if conn_type == "core":
        core = core_file_path()
        if not core:
            raise CoretoolError("cannot find the core file's path in `info target`")
        try:
            handle = Handle.open_core(core, exe, _sysroot())
        except CoretoolError as e:
            # The library speaks to the CLI's user; in gdb the executable is `file`'s.
            raise CoretoolError(re.sub(r"(pass|with) --exe", r"\1 `file EXE`", str(e))) from None
        return Session(handle, key, False, f"core {core}")
    if not exe:
        raise CoretoolError("no executable loaded (`file EXE`)")

    def read(addr: int, length: int) -> Tuple[int, bytes]:
        # KeyboardInterrupt (Ctrl-C) goes through: the callback cancels.
        try:
            return 0, bytes(inf.read_memory(addr, length))
        except gdb.MemoryError:
            return 1, b""

    maps = mappings(inf, conn_type)
    if maps is None:
        handle = Handle.open_memory(read, exe, _load_bias(exe))
    else:
        # The threads come next, with all their registers (ct_set_threads).
        handle = Handle.open_process(read, exe, inf.pid, maps, [])
    try:
        libct.set_threads(handle, _live_threads(inf))
    except (CoretoolError, gdb.error):
        handle.close()
        raise
    return Session(handle, key, True, f"process {inf.pid}", maps is not None)


def _live_threads(inf: gdb.Inferior) -> List[Tuple[int, List[int]]]:
    """Every thread's general registers as gdb sees them (its innermost
    frame), for libcoretool: a running goroutine's stack pointer is its
    thread's. The selected thread and frame are restored."""
    out: List[Tuple[int, List[int]]] = []
    old_thr = gdb.selected_thread()
    old_frame = gdb.selected_frame() if old_thr is not None else None
    try:
        for thr in inf.threads():
            if not thr.is_valid() or thr.is_running() or thr.is_exited():
                continue
            thr.switch()
            frame = gdb.newest_frame()
            regs = []
            for name in libct.CT_REG_NAMES:
                try:
                    regs.append(int(frame.read_register(name)))
                except (gdb.error, ValueError):
                    regs.append(0)  # not on this target (orig_rax remotely, say)
            out.append((thr.ptid[1] or thr.ptid[0], regs))
    finally:
        if old_thr is not None and old_thr.is_valid():
            old_thr.switch()
            try:
                old_frame.select()
            except gdb.error:
                pass
    return out


def current() -> Session:
    """The session of the selected inferior, opened on first use."""
    inf = gdb.selected_inferior()
    key = _key(inf)
    s = _sessions.get(inf.num)
    if s is not None and s.key == key and not s.handle.interrupted:
        return s
    if s is not None:
        drop(inf.num)
    failed = _failures.get(inf.num)
    if failed is not None and failed[0] == key:
        raise CoretoolError(failed[1])
    try:
        s = _open(inf, key)
    except Interrupted:
        raise  # not the target's failure: the next command tries again
    except CoretoolError as e:
        _failures[inf.num] = (key, str(e))
        raise
    _sessions[inf.num] = s
    return s


def drop(num: Optional[int] = None, live_only: bool = False) -> None:
    """Closes the session of inferior num (None: all of them)."""
    for n in list(_failures):
        if num is None or n == num:
            del _failures[n]
    for n in list(_sessions):
        if num is not None and n != num:
            continue
        if live_only and not _sessions[n].live:
            continue
        _sessions.pop(n).close()


def _on_exited(ev: gdb.ExitedEvent) -> None:
    inf = getattr(ev, "inferior", None)
    drop(inf.num if inf is not None else None)


def _on_live_change(_ev: object) -> None:
    drop(live_only=True)


def _on_objfiles(_ev: object) -> None:
    drop()


_connected = False


def connect_events() -> None:
    global _connected
    if _connected:
        return
    gdb.events.exited.connect(_on_exited)
    gdb.events.cont.connect(_on_live_change)
    gdb.events.memory_changed.connect(_on_live_change)
    gdb.events.new_objfile.connect(_on_objfiles)
    gdb.events.clear_objfiles.connect(_on_objfiles)
    gdb.events.inferior_deleted.connect(lambda ev: drop(ev.inferior.num))
    _connected = True
