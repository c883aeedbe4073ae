"""Turning a gdb expression into what the verbs take: an address, or a map
header address with its map type."""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

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


_NO_CALLS = ("needs a call into the program (a function call, or a string or array literal "
             "gdb would copy into it with malloc): coretool never runs code in the debuggee; "
             "give an address, a variable, a field or a register ($rdi)")


_QUOTED_NAME = re.compile(r"'[^']*'")
_BRACES = re.compile(r"\{([^{}]*)\}")


def _needs_memory_of_the_program(expr: str) -> bool:
    """A string literal or an array/composite literal: gdb copies it into the
    process with the program's malloc, even with may-call-functions off (gdb
    13). `{TYPE} ADDR` (memory seen as TYPE) and 'quoted names' are fine."""
    bare = _QUOTED_NAME.sub("''", expr)
    if '"' in bare:
        return True
    for m in _BRACES.finditer(bare):
        inside = m.group(1).strip()
        if not inside or "," in inside or re.match(r"[-+\d'{(]", inside):
            return True
    return False


def _parse_no_calls(expr: str) -> gdb.Value:
    """parse_and_eval with gdb's `may-call-functions` off for the time of it:
    an expression that needs an inferior call (f(x), (*fp)(1)) fails in gdb
    before anything runs in the process, whatever the user's setting; literals
    gdb would allocate in the process are refused before gdb sees them; the
    value is fetched (a lazy value may still need the program's memory) before
    the setting comes back."""
    if _needs_memory_of_the_program(expr):
        raise CoretoolError(f"{expr}: {_NO_CALLS}")
    try:
        before = gdb.parameter("may-call-functions")
    except RuntimeError:  # a gdb without the setting (before 8.3): refuse calls by hand
        before = None
    if before is None and re.search(r"(?<![$\w])(?!sizeof\b|alignof\b)\w+\s*\(|\)\s*\(", expr):
        raise CoretoolError(f"{expr}: {_NO_CALLS}")
    if before:
        gdb.execute("set may-call-functions off", to_string=True)
    try:
        val = gdb.parse_and_eval(expr)
        val.fetch_lazy()
        return val
    except gdb.error as e:
        if "may-call-functions" in str(e):
            raise CoretoolError(f"{expr}: {_NO_CALLS}") from None
        raise
    finally:
        if before:
            gdb.execute("set may-call-functions on", to_string=True)


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
        val = _parse_no_calls(expr_eval)
    except gdb.error as e:
        raise CoretoolError(f"{expr}: {e}") from None
    # A literal gdb made without the program (Go mode's "abc"): no address of
    # the program's; taking it would copy it into the process.
    if val.address is None and val.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY:
        raise CoretoolError(f"{expr}: {_NO_CALLS}")
    return val


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


# (objfile, type name) -> the library's name of that map type, or None: not a map.
_map_names: Dict[Tuple[str, str], Optional[str]] = {}


def clear_map_names(_ev: object = None) -> None:
    _map_names.clear()


def _library_map_name(t: gdb.Type, name: str) -> Optional[str]:
    """What the library says the typedef `name` is: a Go map (by its DWARF Go
    kind, also a named map type such as `type Header map[string][]string`)
    -> the map[K]V name its map calls take; else None."""
    if t.strip_typedefs().code != gdb.TYPE_CODE_PTR:  # every Go map is a pointer
        return None
    key = (t.objfile.filename if t.objfile is not None else "", name)
    if key in _map_names:
        return _map_names[key]
    from . import session  # here: session imports this module
    try:
        handle = session.current().handle
        info = handle.type_info(name)
    except (CoretoolError, gdb.error):
        # no library session to ask (nothing cached: the next lookup asks
        # again); the map calls would fail anyway, their error says why
        return name if name.startswith("map[") else None
    got = None
    if info["kind_name"] == "map":
        # The name the map calls take: the type's own where the library
        # reads named map types, else its map[K]V (which Go 1.27's DWARF may
        # not have when only the named type is used). A nil map's header
        # (address 0) costs no read.
        candidates = [name] + ([info["underlying"]] if info["underlying"] else [])
        got = candidates[-1]
        for c in candidates:
            try:
                handle.map_info(0, c)
            except CoretoolError:
                continue
            got = c
            break
    _map_names[key] = got
    return got


def map_type_name(t: gdb.Type) -> Optional[str]:
    """'map[K]V' if t is (a typedef of) a Go map type, else None; the library
    decides from DWARF. Go's DWARF makes map types pointers to the header."""
    t = t.unqualified()
    while t.code == gdb.TYPE_CODE_TYPEDEF:
        if t.name:
            got = _library_map_name(t, t.name)
            if got:
                return got
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
