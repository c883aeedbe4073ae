"""coretool's gdb pretty-printers for Go: maps of both implementations (through
libcoretool), strings, slices and interfaces.

One gdb.printing.PrettyPrinter named "coretool" with a subprinter per kind, so
that `info pretty-printer` lists them and `disable pretty-printer global
coretool;map` works. It must come before Go's own runtime-gdb.py, which puts
its printers in the executable objfile's list (searched before the global
one) and replaces that list whenever it is sourced. So the same printer object
is also put first in every objfile list that holds printers, and kept there:
after every `source` (a hookpost-source, unless the user has one), when an
objfile is loaded, and before each prompt.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import gdb
import gdb.printing
from coretool_gdb import expr

from . import gochan, gomap, goscript, gotypes, govalues, params

NAME = "coretool"


class _Sub(gdb.printing.SubPrettyPrinter):
    def __init__(self, name: str, lookup: Callable[[gdb.Value], Optional[object]]) -> None:
        super().__init__(name)
        self.lookup = lookup


class CoretoolPrettyPrinter(gdb.printing.PrettyPrinter):
    """Go maps (classic and Swiss, through libcoretool), strings, slices, interfaces."""

    def __init__(self) -> None:
        super().__init__(NAME, [
            _Sub("map", gomap.lookup),
            _Sub("string", govalues.lookup_string),
            _Sub("slice", govalues.lookup_slice),
            _Sub("interface", govalues.lookup_interface),
            _Sub("chan", gochan.lookup),
        ])

    def __call__(self, val: gdb.Value) -> Optional[object]:
        for sub in self.subprinters:
            if not sub.enabled:
                continue
            # gdb.error: a type gdb cannot resolve; not ours to print.
            try:
                printer = sub.lookup(val)
            except gdb.error:
                continue
            if printer is not None:
                return printer
        return None


_printer: Optional[CoretoolPrettyPrinter] = None


def _ours(p: object) -> bool:
    return getattr(p, "name", None) == NAME and isinstance(p, gdb.printing.PrettyPrinter)


def ensure_first(_ev: object = None) -> None:
    """Puts our printer first in every objfile list that holds printers (and
    in the global list); removes stale copies from an earlier load."""
    if _printer is None:
        return
    lists: List[list] = [gdb.pretty_printers]
    for objfile in gdb.objfiles():
        if objfile.is_valid() and objfile.pretty_printers:
            lists.append(objfile.pretty_printers)
    for lst in lists:
        if lst and lst[0] is _printer:
            continue
        lst[:] = [p for p in lst if not _ours(p)]
        lst.insert(0, _printer)


def _install_source_hook() -> None:
    """hookpost-source re-asserts the order after Go's script is sourced by
    hand; a user's own hookpost-source is left alone."""
    try:
        existing = gdb.execute("show user hookpost-source", to_string=True)
    except gdb.error:
        existing = ""
    if existing.strip() and "coretool_printers" not in existing:
        return
    gdb.execute("define hookpost-source\n"
                "python import coretool_printers; coretool_printers.ensure_first()\n"
                "python import coretool_gdb.goroutine_cmds as g; g.reassert()\n"
                "python import coretool_gdb.convenience as c; c.reassert()\n"
                "end", to_string=True)


def register(objfile: Optional[gdb.Objfile] = None) -> None:
    """Registers the printers (idempotent). objfile is accepted for auto-load
    scripts; the printer goes global either way and is kept first."""
    global _printer
    params.register()
    if _printer is None:
        _printer = CoretoolPrettyPrinter()
        gdb.events.new_objfile.connect(ensure_first)
        gdb.events.new_objfile.connect(gotypes.clear_cache)
        gdb.events.clear_objfiles.connect(gotypes.clear_cache)
        gdb.events.new_objfile.connect(expr.clear_map_names)
        gdb.events.clear_objfiles.connect(expr.clear_map_names)
        gdb.events.before_prompt.connect(ensure_first)
        _install_source_hook()
        goscript.install(lambda: _printer)
    gdb.printing.register_pretty_printer(None, _printer, replace=True)
    ensure_first()
