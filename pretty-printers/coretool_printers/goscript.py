"""Keeps coretool's printer first when Go's runtime-gdb.py is loaded after it
with no event in between: auto-loaded with the executable when coretool came
first (a gdbinit, `-iex`), in batch mode, where no prompt comes before the
user's commands. Go's script takes its objfile from gdb.current_objfile(),
replaces that objfile's printer list (`pretty_printers = []`) and fills it.

So gdb.current_objfile(), when Go's script (a file named runtime-gdb.py)
calls it, gives the real objfile behind a thin wrapper whose printer list,
when assigned, keeps our printer at its head; everything else goes to the
real objfile. Every other caller gets gdb's own answer."""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional

import gdb

_SCRIPT = "runtime-gdb.py"


class _GoScriptObjfile:
    """The objfile Go's script loads into, as that script sees it."""

    def __init__(self, real: Any, first: Callable[[], Optional[object]]) -> None:
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_first", first)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __setattr__(self, name: str, value: Any) -> None:
        ours = self._first()
        if name == "pretty_printers" and ours is not None and isinstance(value, list):
            value = [ours] + [p for p in value if p is not ours]
        setattr(self._real, name, value)

    def __bool__(self) -> bool:
        return True


_installed: list = []


def install(first: Callable[[], Optional[object]]) -> None:
    """Once per gdb session; first() gives our printer (None: not yet)."""
    if _installed:
        return
    real_current = getattr(gdb.current_objfile, "coretool_real", gdb.current_objfile)

    def current_objfile() -> Any:
        obj = real_current()
        caller = sys._getframe(1).f_code.co_filename
        if obj is not None and caller.endswith(_SCRIPT):
            return _GoScriptObjfile(obj, first)
        return obj

    current_objfile.coretool_real = real_current  # type: ignore[attr-defined]
    current_objfile.__doc__ = real_current.__doc__
    gdb.current_objfile = current_objfile
    _installed.append(current_objfile)
