"""Turning a gdb expression into what the verbs take: an address, or a map
header address with its map type."""
from __future__ import annotations

import re
from typing import Optional, Tuple

import gdb

from .libct import CoretoolError

# A Go global as the symbols name it: main.cache, main.cfg.byName, github.com/x/y.z
_GO_NAME = re.compile(r"^[\w./-]+\.[\w.]+$")


def _is_variable(sym: Optional[gdb.Symbol]) -> bool:
    return sym is not None and (sym.is_variable or sym.is_argument)


def _global(name: str) -> bool:
    return _is_variable(gdb.lookup_global_symbol(name)) or \
        _is_variable(gdb.lookup_static_symbol(name))


def is_local(name: str) -> bool:
    """A variable of the selected frame's scope, not a global."""
    try:
        sym = gdb.lookup_symbol(name)[0]
    except gdb.error:  # no frame selected
        return False
    return _is_variable(sym) and not _global(name)


def evaluate(expr: str) -> gdb.Value:
    """parse_and_eval, with Go global names made to work: in Go mode gdb
    reads `main.cache` as a field of `main` ('main.cache' works), and gdb 13
    can even crash on `main.nope` when `main` is a function. So a dotted name
    is evaluated only in a form whose first part is a known variable: a local
    (s.field), or the longest global prefix, quoted ('main.cfg'.byName)."""
    expr = expr.strip()
    if not expr:
        raise CoretoolError("an expression is needed")
    if _GO_NAME.match(expr):
        parts = expr.split(".")
        if is_local(parts[0]):
            candidates = [expr]
        else:
            candidates = []
            for i in range(len(parts), 0, -1):
                name = ".".join(parts[:i])
                if _global(name):
                    candidates = ["'" + name + "'" + "".join(f".{p}" for p in parts[i:])]
                    break
        if not candidates:
            raise CoretoolError(f"{expr}: no such variable")
        expr_eval = candidates[0]
    else:
        expr_eval = expr
    try:
        return gdb.parse_and_eval(expr_eval)
    except gdb.error as e:
        raise CoretoolError(f"{expr}: {e}") from None


def to_address(val: gdb.Value, expr: str) -> int:
    """The address a value stands for: pointers, integers, map values (their
    header), arrays and functions (where they are)."""
    t = val.type.strip_typedefs()
    code = t.code
    if code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_BOOL,
                gdb.TYPE_CODE_ENUM):
        return int(val) & 0xFFFFFFFFFFFFFFFF
    if code in (gdb.TYPE_CODE_ARRAY, gdb.TYPE_CODE_FUNC) and val.address is not None:
        return int(val.address)
    raise CoretoolError(f"{expr}: {val.type} is not an address (take its address: &{expr})")


def map_type_name(t: gdb.Type) -> Optional[str]:
    """'map[K]V' if t is (a typedef named) a Go map type, else None. Go's DWARF
    names map types map[K]V and makes them pointers to the header type."""
    t = t.unqualified()
    while t.code == gdb.TYPE_CODE_TYPEDEF:
        if t.name and t.name.startswith("map["):
            return t.name
        t = t.target().unqualified()
    return None


def to_map(val: gdb.Value, expr: str) -> Tuple[int, str]:
    """(header address, 'map[K]V') of a Go map value, or of a pointer to one."""
    name = map_type_name(val.type)
    if name is None and val.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        target = val.type.strip_typedefs().target()
        name = map_type_name(target)
        if name is not None:
            val = val.dereference()
    if name is None:
        raise CoretoolError(f"{expr}: {val.type} is not a Go map")
    return int(val) & 0xFFFFFFFFFFFFFFFF, name
