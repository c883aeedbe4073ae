"""coretool in gdb: `coretool VERB` commands over libcoretool (ctypes).

Each command lives in its own cmd_<verb>.py module; register() imports every
such module and instantiates the commands it defines, so adding a command is
adding a file.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import List

import gdb

from . import convenience, goroutine_cmds, iface_cmd, session
from .command import CoretoolPrefix, VerbCommand

_registered: List[gdb.Command] = []


def command_classes() -> List[type]:
    out = []
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("cmd_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, gdb.Command) and cls is not VerbCommand and \
                    cls.__module__ == module.__name__:
                out.append(cls)
    return out


def register() -> None:
    """Registers the commands once per gdb session."""
    if _registered:
        return
    _registered.append(CoretoolPrefix())
    for cls in command_classes():
        _registered.append(cls())
    goroutine_cmds.register()
    iface_cmd.register()
    convenience.register()
    session.connect_events()
    gdb.events.new_objfile.connect(_announce)
    gdb.events.before_prompt.connect(lambda: _announce(None))


_announce_state: List[str] = []  # "pending": a Go program was read; "done": said


def _go_script_loaded() -> bool:
    import __main__
    return getattr(__main__, "GoroutineCmd", None) is not None


def _say() -> None:
    _announce_state[:] = ["done"]
    if not _go_script_loaded():
        gdb.write("Loading Go Runtime support.\n")


def _announce(ev: object) -> None:
    """Go's runtime-gdb.py says "Loading Go Runtime support." as it loads, and tools look for
    that line (Go 1.22's TestGdbPython wants it first): when a Go program's file is read and
    Go's script does not load, coretool, which then provides that support, says it. With
    python auto-load on, Go's script may load right after this event (gdb auto-loads after
    telling Python of the objfile, and a core's other objfiles may come first), so the line
    waits for the next prompt and is said only if Go's has not been."""
    if _announce_state == ["done"] or _go_script_loaded():
        return
    if _announce_state == ["pending"]:
        if ev is None:  # a prompt
            _say()
        return
    objfile = getattr(ev, "new_objfile", None)
    if objfile is None:
        return
    try:
        is_go = objfile.lookup_global_symbol("runtime.main") is not None
    except (gdb.error, RuntimeError):
        return
    if not is_go:
        return
    if gdb.parameter("auto-load python-scripts"):
        _announce_state[:] = ["pending"]
    else:
        _say()
