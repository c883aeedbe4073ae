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

from . import convenience, goroutine_cmds, session
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
    convenience.register()
    session.connect_events()
