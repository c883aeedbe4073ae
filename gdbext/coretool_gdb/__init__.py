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

from . import goroutine_cmds, session
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
    session.connect_events()
    gdb.events.new_objfile.connect(_announce)


_announced: List[bool] = []


def _announce(ev: object) -> None:
    """Go's runtime-gdb.py says "Loading Go Runtime support." as it loads, and tools look for
    that line (Go 1.22's TestGdbPython wants it first): when a Go program's file is read and
    Go's script has not said it, coretool, which then provides that support, says it."""
    import __main__
    objfile = getattr(ev, "new_objfile", None)
    if _announced or objfile is None or getattr(__main__, "GoroutineCmd", None) is not None:
        return
    try:
        is_go = objfile.lookup_global_symbol("runtime.main") is not None
    except (gdb.error, RuntimeError):
        return
    if is_go:
        _announced.append(True)
        gdb.write("Loading Go Runtime support.\n")
