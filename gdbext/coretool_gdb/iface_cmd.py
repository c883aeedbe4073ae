"""`iface EXPR...`: an interface's static and dynamic type, as Go's
runtime-gdb.py's command of that name prints them (`STATIC: DYNAMIC`), the
dynamic type asked of libcoretool (ct_iface_info, through the interface
printer's `dynamic`), so it works on current runtimes (whose type descriptors
Go's script no longer finds) and on cores. The dynamic type is named as Go's
%T names it (`*main.T`, `main.V`); Go's script writes a pointer to any type
larger than a word instead, the type of what the data word holds."""
from __future__ import annotations

import gdb

from . import expr
from .goroutine_cmds import _CCommand
from .libct import CoretoolError


def _is_interface(val: gdb.Value) -> bool:
    t = val.type.strip_typedefs()
    if t.code != gdb.TYPE_CODE_STRUCT:
        return False
    return tuple(f.name for f in t.fields()) in (("tab", "data"), ("_type", "data"))


class IfaceCmd(_CCommand):  # type: ignore[misc, valid-type]
    """Print static and dynamic interface types.

Usage: iface EXPR...
Each EXPR (a Go interface value) as `STATIC: DYNAMIC`, DYNAMIC `nil` for a
nil interface. No call into the process; works on cores."""

    coretool_own = True

    def __init__(self) -> None:
        super().__init__("iface", gdb.COMMAND_DATA, gdb.COMPLETE_SYMBOL)

    def invoke(self, arg: str, from_tty: bool) -> None:
        # imported here: the printers' package imports this one
        from coretool_printers import govalues
        for text in gdb.string_to_argv(arg):
            try:
                val = expr.evaluate(text)
            except (CoretoolError, gdb.error) as e:
                gdb.write(f"{e}\n")
                continue
            if not _is_interface(val):
                gdb.write(f"Not an interface: {val.type}\n")
                continue
            try:
                d = govalues.dynamic(val)
            except (CoretoolError, gdb.error) as e:
                gdb.write(f"{text}: {e}\n")
                continue
            if d.name is None:
                dyn = "nil"
            else:
                dyn = d.name
            gdb.write(f"{val.type}: {dyn}\n")


_registered: list = []


def register() -> None:
    if not _registered:
        _registered.append(IfaceCmd())
