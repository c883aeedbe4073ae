"""`info goroutines` and `goroutine N CMD` / `goroutine all CMD`, as Go's
runtime-gdb.py offers them, over libcoretool's goroutine model (the one the
`coretool goroutines` verb prints: ct_goroutines), on live processes and on
cores alike.

Switching to a goroutine:
- one running on a thread (its M's thread, its stack pointer inside the
  goroutine's stack) is looked at by switching to that gdb thread, as Go's
  script does;
- any other starts from the state it saved (syscall or scheduler pc/sp/bp).
  Go's script assigns `$pc` and `$sp`; gdb refuses register writes on a
  core ("You can't do that without a process to debug", gdb 13), and on a
  live process they would change the debuggee. Here nothing is written: a
  Python frame unwinder (gdb.unwinder) makes the goroutine's saved frame
  the caller of the selected thread's innermost frame while CMD runs, and
  that frame is selected; gdb's own DWARF unwinder walks on from there, so
  `bt`, `frame`, `up`, `info locals` and `print` see the goroutine's
  frames. A frame filter drops the thread's own frame from `bt` and numbers
  the goroutine's from #0, as Go's `goroutine N bt` prints them.
The unwinder and the filter do nothing outside a `goroutine` command.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Optional

import gdb
from gdb.FrameDecorator import FrameDecorator
from gdb.unwinder import Unwinder, register_unwinder

from . import libct, session
from .libct import CoretoolError

# gdb's own Command class (this module, loaded again, finds ours in its place)
_CCommand = getattr(gdb.Command, "coretool_base", gdb.Command)


# Go's script leaves out the dead (runtime-gdb.py: G_DEAD, G_DEADEXTRA).
_DEAD = ("dead", "deadextra")


def _goroutines() -> List[Dict[str, Any]]:
    s = session.current()
    rc, gs = libct.goroutines(s.handle)
    if rc == 1:
        gdb.write("coretool: some goroutines could not be read (the list is partial)\n",
                  gdb.STDERR)
    # The library keeps them by stack address; Go's script lists runtime.allgs, which is in
    # creation order, that is by id.
    return sorted((g for g in gs if g["status"] not in _DEAD), key=lambda g: g["id"])


def _on_thread(g: Dict[str, Any]) -> bool:
    return g["from"] == libct.CT_G_FROM_THREAD or (g["thread"] is not None and not g["sp"])


class _FrameId:
    def __init__(self, sp: Any, pc: Any) -> None:
        self.sp = sp
        self.pc = pc


class _Switch:
    """The goroutine being looked at: its saved pc, sp and bp, and the gdb
    thread whose innermost frame gets it as its caller."""

    def __init__(self, g: Dict[str, Any], ptid: tuple) -> None:
        self.g = g
        self.ptid = ptid
        self.pc = _caller_pc(g["pc"])


def _function_start(pc: int) -> Optional[int]:
    """Where the function holding pc starts: its DWARF block's, else its symbol's."""
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        block = None
    # up to the function's own block (an inlined call's block also has a function)
    while block is not None and block.superblock is not None and \
            not block.superblock.is_static and not block.superblock.is_global:
        block = block.superblock
    if block is not None and block.function is not None:
        return block.start
    try:
        sym = gdb.execute(f"info symbol {pc:#x}", to_string=True)
    except gdb.error:
        return None
    return pc if re.match(r"^\S+ in section ", sym) else None


def _caller_pc(pc: int) -> int:
    """The pc to give gdb for the goroutine's frame. gdb takes it for a caller's frame, whose
    pc is a return address, and looks its function, line and unwind rules up at pc - 1. That is
    right for a goroutine that ran (parked in gopark after a call, or in a syscall), but a
    goroutine that never ran saved its function's first instruction (Go's newproc1 and
    gostartcall: sched.pc = fn, goexit's address pushed under it), where pc - 1 lies in the
    function before. There the frame is given pc + 1: every lookup lands on the entry; only
    the pc gdb shows is one past it."""
    return pc + 1 if pc and _function_start(pc) == pc else pc


class GoroutineUnwinder(Unwinder):
    """Active only inside `goroutine N CMD`: the selected thread's innermost
    frame is given the goroutine's saved registers as its caller's."""

    def __init__(self) -> None:
        super().__init__("coretool-goroutine")
        self.switch: Optional[_Switch] = None

    def __call__(self, pending: Any) -> Any:
        sw = self.switch
        if sw is None or pending.level() != 0 or gdb.selected_thread().ptid != sw.ptid:
            return None
        ptr = gdb.lookup_type("void").pointer()
        pc = pending.read_register("rip")
        # The id's stack address only has to be inner to the goroutine's
        # frame, which lives on another stack: gdb stops a walk that goes
        # "inward" ("previous frame inner to this frame").
        # (gdb 13 wants gdb.Values in the id.)
        info = pending.create_unwind_info(_FrameId(gdb.Value(16).cast(ptr), pc))
        for reg, value in (("rip", sw.pc), ("rsp", sw.g["sp"]), ("rbp", sw.g["bp"])):
            info.add_saved_register(reg, gdb.Value(value).cast(ptr))
        return info


class _Renumbered(FrameDecorator):
    """A goroutine frame shown one level up: the real frame's function,
    place and arguments, under the level of the frame before it."""

    def __init__(self, real: Any, slot: Any) -> None:
        super().__init__(real)
        self._slot = slot

    def inferior_frame(self) -> Any:
        return self._slot


class GoroutineFrameFilter:
    """Inside `goroutine N CMD`: `bt` without the thread's own frame."""

    def __init__(self, unwinder: GoroutineUnwinder) -> None:
        self.name = "coretool-goroutine"
        self.priority = 1000
        self.enabled = True
        self._unwinder = unwinder

    def filter(self, frames: Iterator[Any]) -> Iterator[Any]:
        if self._unwinder.switch is None:
            return frames
        return self._shifted(frames)

    @staticmethod
    def _shifted(frames: Iterator[Any]) -> Iterator[Any]:
        prev = next(frames, None)  # the thread's own innermost frame
        for d in frames:
            # past runtime.goexit gdb finds a zero return address: not a frame
            if d.inferior_frame().pc() == 0:
                return
            yield _Renumbered(d, prev.inferior_frame())
            prev = d


_unwinder = GoroutineUnwinder()
_filter = GoroutineFrameFilter(_unwinder)


def _run_on_thread(g: Dict[str, Any], cmd: str) -> bool:
    for thr in gdb.selected_inferior().threads():
        if thr.ptid[1] == g["thread"]:
            break
    else:
        return False
    old_thr, old_frame = gdb.selected_thread(), gdb.selected_frame()
    thr.switch()
    try:
        gdb.execute(cmd)
    finally:
        old_thr.switch()
        try:
            old_frame.select()
        except gdb.error:
            pass
    return True


def _run_on_saved(g: Dict[str, Any], cmd: str) -> None:
    thr = gdb.selected_thread()
    old_frame = gdb.selected_frame()
    # gdb does not unwind past the frame of main (main.main for Go) unless
    # told to: the thread's innermost frame may be that one.
    past_main = gdb.parameter("backtrace past-main")
    gdb.execute("set backtrace past-main on", to_string=True)
    _unwinder.switch = _Switch(g, thr.ptid)
    gdb.invalidate_cached_frames()
    try:
        frame = gdb.newest_frame().older()
        if frame is None or frame.pc() == 0:
            raise gdb.GdbError(f"goroutine {g['id']}: gdb cannot unwind from its saved "
                               f"state (pc 0x{g['pc']:x}, sp 0x{g['sp']:x})")
        frame.select()
        gdb.execute(cmd)
    finally:
        _unwinder.switch = None
        gdb.execute(f"set backtrace past-main {'on' if past_main else 'off'}", to_string=True)
        gdb.invalidate_cached_frames()
        try:
            old_frame.select()
        except gdb.error:
            gdb.newest_frame().select()


def run_in_goroutine(g: Dict[str, Any], cmd: str) -> None:
    if _on_thread(g) and _run_on_thread(g, cmd):
        return
    if not g["sp"] or not g["pc"]:
        raise gdb.GdbError(f"goroutine {g['id']} ({g['status']}) has no saved state to "
                           "switch to" + (f" and its thread {g['thread']} is not known to gdb"
                                          if g["thread"] is not None else ""))
    _run_on_saved(g, cmd)


class InfoGoroutines(_CCommand):  # type: ignore[misc, valid-type]
    """List all goroutines (libcoretool's model; live processes and cores).

Go's runtime-gdb.py format: `*` marks a goroutine that has a thread, then its
id, status and innermost function; then the wait reason and, when it is not
the innermost, the goroutine's own first frame outside the runtime."""

    coretool_own = True

    def __init__(self) -> None:
        super().__init__("info goroutines", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg: str, from_tty: bool) -> None:
        try:
            gs = _goroutines()
        except CoretoolError as e:
            raise gdb.GdbError(f"info goroutines: {e}") from None
        for g in gs:
            mark = "*" if g["thread"] is not None else " "
            line = f"{mark} {g['id']} {g['status']:<8s} {g['func'] or '??'}"
            if g["wait_reason"]:
                line += f" [{g['wait_reason']}]"
            if g["user_func"] and g["user_func"] != g["func"]:
                line += f"  {g['user_func']}"
                if g["user_file"]:
                    line += f" at {g['user_file']}:{g['user_line']}"
            gdb.write(line + "\n")


class GoroutineCmd(_CCommand):  # type: ignore[misc, valid-type]
    """Execute gdb command in the context of goroutine <goid>.

Usage: goroutine <goid> <gdbcmd>
       goroutine all <gdbcmd>
A goroutine running on a thread is looked at from that thread; any other
from the pc, sp and bp it saved, through a frame unwinder (nothing in the
process or core is written): `bt`, `frame`, `up`, `info locals`, `print` see
its frames. Works on cores too. Restrict CMD to inspecting values."""

    coretool_own = True

    def __init__(self) -> None:
        super().__init__("goroutine", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg: str, from_tty: bool) -> None:
        parts = arg.split(None, 1)
        if len(parts) < 2:
            raise gdb.GdbError("usage: goroutine <goid>|all <gdbcmd>")
        which, cmd = parts
        try:
            gs = _goroutines()
        except CoretoolError as e:
            raise gdb.GdbError(f"goroutine: {e}") from None
        if which == "all":
            for g in gs:
                run_in_goroutine(g, cmd)
            return
        try:
            goid = int(gdb.parse_and_eval(which))
        except gdb.error as e:
            raise gdb.GdbError(f"goroutine: {which}: {e}") from None
        for g in gs:
            if g["id"] == goid:
                run_in_goroutine(g, cmd)
                return
        raise gdb.GdbError(f"No such goroutine: {goid}")


_registered: List[Any] = []
_go_seen: List[Any] = []  # Go's command class the last time ours were put back


# Another script's commands of our names, once ours exist (Go's keep these).
_RENAMED = {"info goroutines": "info go-goroutines", "goroutine": "go-goroutine",
            "iface": "go-iface"}


class _Command(_CCommand):  # type: ignore[misc, valid-type]
    """gdb.Command for every script loaded after ours. Go's runtime-gdb.py,
    auto-loaded with the executable after coretool came from a gdbinit or
    `-iex`, gets no event before the user's commands in batch mode, so
    reassert() cannot run between: its `info goroutines` and `goroutine` are
    defined as `info go-goroutines`, `go-goroutine` and `go-iface` instead (as
    its $len becomes $go_len: convenience.py). Ours say coretool_own."""

    coretool_base = _CCommand

    def __init__(self, name: str, *args: Any) -> None:
        if name in _RENAMED and _registered and not getattr(self, "coretool_own", False):
            name = _RENAMED[name]
        _CCommand.__init__(self, name, *args)


def reassert(_ev: object = None) -> None:
    """gdb keeps the last definition of a command: when Go's runtime-gdb.py
    was loaded (again) after ours (its classes live in __main__, where gdb
    sources it), ours are defined again, as the printers are put back first
    (the same events: an objfile loaded, a `source`, a prompt)."""
    import __main__
    go = getattr(__main__, "GoroutineCmd", None)
    if go is None or not _registered or (_go_seen and _go_seen[-1] is go):
        return
    _go_seen[:] = [go]
    _registered[:] = [InfoGoroutines(), GoroutineCmd()]


def register() -> None:
    """Once per gdb session: the commands, the unwinder and the frame filter,
    kept ahead of Go's runtime-gdb.py's commands of the same names."""
    if _registered:
        return
    register_unwinder(None, _unwinder, replace=True)
    gdb.frame_filters[_filter.name] = _filter
    _registered.extend([InfoGoroutines(), GoroutineCmd()])
    gdb.Command = _Command
    gdb.events.new_objfile.connect(reassert)
    gdb.events.before_prompt.connect(reassert)
    reassert()
