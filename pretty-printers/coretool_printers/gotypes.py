"""gdb types for the keys and values of a Go map.

libcoretool names K and V ("string", "[20]int64", "*main.node"); gdb cannot
look up every Go type by name (arrays and pointers have no symbols), but all of
them are reachable from the map type's own DWARF (the per-map bucket/group
types hold K and V, or pointers to them). So we search the type graph under
the map type for a type of that name: no field or offset is assumed.
"""
from __future__ import annotations

from collections import deque
from typing import Deque, Dict, Optional, Set, Tuple

import gdb

_MAX_TYPES = 4096  # types visited per search: the per-map types are a handful deep

_cache: Dict[Tuple[str, str, str], Optional[gdb.Type]] = {}


def clear_cache(_ev: object = None) -> None:
    _cache.clear()


def _search(root: gdb.Type, name: str) -> Optional[gdb.Type]:
    queue: Deque[gdb.Type] = deque([root])
    seen: Set[Tuple[str, int]] = set()
    while queue and len(seen) < _MAX_TYPES:
        t = queue.popleft()
        ident = (str(t), t.code)
        if ident in seen:
            continue
        seen.add(ident)
        if t.name == name:
            return t
        if t.code in (gdb.TYPE_CODE_TYPEDEF, gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_ARRAY):
            try:
                queue.append(t.target())
            except RuntimeError:
                pass
        elif t.code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            for f in t.fields():
                if f.type is not None:
                    queue.append(f.type)
    return None


def _lookup(name: str) -> Optional[gdb.Type]:
    # The DWARF's own type of that name first: gdb.lookup_type gives the
    # language's built-in types before it ("int" is gdb's 4-byte Go int, not
    # the program's 8-byte one) and finds no struct by its bare name ("string").
    for domain in (gdb.SYMBOL_VAR_DOMAIN, gdb.SYMBOL_STRUCT_DOMAIN):
        try:
            sym = gdb.lookup_static_symbol(name, domain)
        except gdb.error:
            sym = None
        if sym is not None and sym.addr_class == gdb.SYMBOL_LOC_TYPEDEF:
            return sym.type
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        return None


def find(map_type: gdb.Type, name: str, size: Optional[int] = None) -> Optional[gdb.Type]:
    """The gdb type named `name` (a Go type name as libcoretool gives it) for
    values of map type `map_type`; None if gdb has no such type. A size, when
    given, must match (two types may share a name across packages' DWARF)."""
    objfile = map_type.objfile.filename if map_type.objfile is not None else ""
    key = (objfile, str(map_type), name)
    if key in _cache:
        return _cache[key]
    t = _search(map_type, name)
    if t is None and name.startswith("*"):
        inner = find(map_type, name[1:])
        t = inner.pointer() if inner is not None else None
    if t is None:
        t = _lookup(name)
    if t is not None and size is not None and t.sizeof != size:
        t = None
    _cache[key] = t
    return t
