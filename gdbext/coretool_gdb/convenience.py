"""`$len(x)`, `$cap(x)` and `$dtype(x)`, the convenience functions of Go's
runtime-gdb.py, over libcoretool and without calls into the process (so on
cores too):

- $len: a string's or slice's len, a map's count (the library's map model:
  both implementations), a channel's queued elements (qcount);
- $cap: a slice's cap, a channel's buffer size (dataqsiz);
- $dtype: an interface as its dynamic value: a pointer-shaped one as that
  pointer (`$dtype(e)->A`), any other as the value behind the data word
  (`$dtype(e).X`, `$dtype(n) + 1`); other values unchanged.

Go's script defines functions of the same names and gdb keeps the last one
defined. Go's is usually auto-loaded with the executable, after ours when
coretool comes from a gdbinit or `-iex`, and in batch mode no event comes
between that auto-load and the user's commands. So gdb.Function, as other
scripts see it, is a subclass that defines any other script's `len`, `cap`
or `dtype` as `$go_len`, `$go_cap`, `$go_dtype` once ours exist (Go's stay
reachable under those names); ours are also defined again whenever Go's
classes were (re)loaded (an objfile loaded, a `source`, a prompt).
"""
from __future__ import annotations

from typing import Any, List

import gdb

from .libct import CoretoolError

# gdb's own Function class (this module, loaded again, finds ours in its place)
_CFunction = getattr(gdb.Function, "coretool_base", gdb.Function)


def _printers() -> Any:
    # the printers' package (pretty-printers/), imported when first used: it
    # imports this package too
    import coretool_printers.gochan as gochan
    import coretool_printers.gomap as gomap
    import coretool_printers.govalues as govalues
    return gochan, gomap, govalues


def _chan(val: gdb.Value) -> Any:
    from . import libct, session
    gochan, _, _ = _printers()
    name = gochan.chan_type_name(val.type)
    if name is None:
        return None
    return libct.chan_info(session.current().handle, int(val) & 0xFFFFFFFFFFFFFFFF, name)


def _map_count(val: gdb.Value) -> Any:
    from . import session
    _, gomap, _ = _printers()
    p = gomap.lookup(val)
    if p is not None:
        return session.current().handle.map_info(p.addr, p.type_name).count
    # a named map type (`type Header map[string][]string`): a typedef of a
    # pointer that the library, by the DWARF's Go kind, calls a map or not
    t = val.type.unqualified()
    if t.code != gdb.TYPE_CODE_TYPEDEF or not t.name or \
            t.strip_typedefs().code != gdb.TYPE_CODE_PTR:
        return None
    try:
        return session.current().handle.map_info(int(val) & 0xFFFFFFFFFFFFFFFF, t.name).count
    except CoretoolError:
        return None


class GoLen(_CFunction):
    """Length of a Go string, slice, map or channel: $len(x)."""

    def __init__(self) -> None:
        super().__init__("len")

    def invoke(self, val: gdb.Value) -> gdb.Value:
        _, _, govalues = _printers()
        try:
            if govalues.lookup_string(val) or govalues.lookup_slice(val):
                return gdb.Value(int(val["len"]))
            c = _chan(val)
            if c is not None:
                return gdb.Value(int(c.qcount))
            n = _map_count(val)
            if n is not None:
                return gdb.Value(int(n))
        except CoretoolError as e:
            raise gdb.GdbError(f"$len: {e}") from None
        raise gdb.GdbError(f"$len: {val.type} is not a Go string, slice, map or channel")


class GoCap(_CFunction):
    """Capacity of a Go slice or channel: $cap(x)."""

    def __init__(self) -> None:
        super().__init__("cap")

    def invoke(self, val: gdb.Value) -> gdb.Value:
        _, _, govalues = _printers()
        try:
            if govalues.lookup_slice(val):
                return gdb.Value(int(val["cap"]))
            c = _chan(val)
            if c is not None:
                return gdb.Value(int(c.dataqsiz))
        except CoretoolError as e:
            raise gdb.GdbError(f"$cap: {e}") from None
        raise gdb.GdbError(f"$cap: {val.type} is not a Go slice or channel")


class GoDType(_CFunction):
    """A Go interface as its dynamic value: $dtype(iface). Other values are
returned unchanged."""

    def __init__(self) -> None:
        super().__init__("dtype")

    def invoke(self, val: gdb.Value) -> gdb.Value:
        _, _, govalues = _printers()
        if govalues.lookup_interface(val) is None:
            return val
        try:
            d = govalues.dynamic(val)
        except CoretoolError as e:
            raise gdb.GdbError(f"$dtype: {e}") from None
        if d.value is None:
            what = f"its dynamic type {d.name} is not in the DWARF" if d.name else "it is nil"
            raise gdb.GdbError(f"$dtype: {what}")
        return d.value


_registered: List[Any] = []
_go_seen: List[Any] = []
_OURS = ("len", "cap", "dtype")


class _Function(_CFunction):  # type: ignore[misc, valid-type]
    """gdb.Function for every other script: our names become go_NAME."""

    coretool_base = _CFunction

    def __init__(self, name: str, *args: Any) -> None:
        if name in _OURS and _registered and not isinstance(self, (GoLen, GoCap, GoDType)):
            name = "go_" + name
        _CFunction.__init__(self, name, *args)


def _define() -> None:
    _registered[:] = [GoLen(), GoCap(), GoDType()]


def reassert(_ev: object = None) -> None:
    """Defines ours again when Go's runtime-gdb.py (its classes live in
    __main__, where gdb sources it) was loaded since we last did."""
    import __main__
    go = getattr(__main__, "GoLenFunc", None)
    if go is None or not _registered or (_go_seen and _go_seen[-1] is go):
        return
    _go_seen[:] = [go]
    _define()


def register() -> None:
    if _registered:
        return
    _define()
    gdb.Function = _Function
    gdb.events.new_objfile.connect(reassert)
    gdb.events.before_prompt.connect(reassert)
    reassert()
