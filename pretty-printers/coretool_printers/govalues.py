"""Printers for the Go values whose gdb rendering is wrong or missing: strings
(Go's runtime-gdb.py drops invalid UTF-8 bytes; gdb alone prints the pointer
too), slices (gdb alone prints the header struct) and interfaces (Go's printer
reads a reflect.rtype field modern runtimes no longer have). Strings and
slices are read through the header fields gdb sees in DWARF; an interface is
rendered by libcoretool, which resolves the dynamic type from the runtime's
type descriptors."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple, Union

import gdb

from coretool_gdb import libct, session
from coretool_gdb.libct import CoretoolError

from . import gotypes, params

_MAX_LEN = 1 << 40  # longer than any address space: a damaged header


def _field_names(t: gdb.Type) -> Tuple[str, ...]:
    t = t.strip_typedefs()
    if t.code != gdb.TYPE_CODE_STRUCT:
        return ()
    return tuple(f.name or "" for f in t.fields())


class GoStringPrinter:
    """Go string: the bytes, escaped where they are not valid UTF-8."""

    def __init__(self, val: gdb.Value) -> None:
        self.val = val
        # an optimized-out argument (in every `bt` of Go code): as gdb says
        # it, unquoted (no "string" hint)
        self.optimized_out = val.is_optimized_out

    def display_hint(self) -> Optional[str]:
        return None if self.optimized_out else "string"

    def to_string(self) -> Union[str, gdb.LazyString]:
        if self.optimized_out:
            return "<optimized out>"
        try:
            n = int(self.val["len"])
        except gdb.error as e:
            if "optimized out" in str(e):
                return "<optimized out>"
            raise
        if n < 0 or n > _MAX_LEN:
            return f"<bad Go string: len {n}>"
        ptr = self.val["str"]
        if n == 0:
            return ""
        return ptr.lazy_string(encoding="utf-8", length=n)


class GoSlicePrinter:
    """Go slice: `[]T` (as Go's runtime-gdb.py prints it; `set coretool
    verbose on`: `[]T len N cap M`) and its elements (display hint 'array')."""

    def __init__(self, val: gdb.Value) -> None:
        self.val = val

    def display_hint(self) -> str:
        return "array"

    def _bounds(self) -> Tuple[int, int]:
        return int(self.val["len"]), int(self.val["cap"])

    def to_string(self) -> str:
        try:
            if self.val.is_optimized_out:
                return "<optimized out>"
            n, c = self._bounds()
        except gdb.error as e:  # a header part in no register or slot any more
            if "optimized out" in str(e):
                return "<optimized out>"
            raise
        s = str(self.val.type)
        if s.startswith("struct "):  # older gdbs name the header struct so
            s = s[len("struct "):]
        if params.verbose():
            s += f" len {n} cap {c}"
        if n < 0 or n > c or c > _MAX_LEN:
            s += f" <bad slice header: len {n} cap {c}>"
        return s

    def children(self) -> Iterator[Tuple[str, gdb.Value]]:
        try:
            if self.val.is_optimized_out:
                return
            n, c = self._bounds()
        except gdb.error as e:
            if "optimized out" in str(e):
                return
            raise
        if n < 0 or n > c or c > _MAX_LEN:
            return
        ptr = self.val["array"]
        for i in range(n):
            yield f"[{i}]", (ptr + i).dereference()


class GoInterfacePrinter:
    """Go interface (runtime.eface / runtime.iface) in gdb syntax, as Go's
    runtime-gdb.py means it: a nil data word prints `0x0`; a value held behind
    the data word prints as that value of its dynamic type (`42`, `"hi"`,
    `{X = 3, Y = 4}`), and so does a channel or map (`chan int = {99, 11}`);
    a pointer `(*main.T) 0xc000012345`; a dynamic type gdb does not know `(name) 0x...`
    with the runtime's name. The dynamic type comes from libcoretool (the
    type descriptor the type/itab word points at). `set coretool verbose on`
    also names the dynamic type of a value held behind the data word."""

    def __init__(self, val: gdb.Value) -> None:
        self.val = val

    def display_hint(self) -> Optional[str]:
        return None

    def to_string(self) -> Union[str, gdb.Value]:
        try:
            if self.val.is_optimized_out:
                return "<optimized out>"
            d = dynamic(self.val)
        except gdb.error as e:
            if "optimized out" in str(e):
                return "<optimized out>"
            raise
        except CoretoolError as e:
            return f"<coretool: {e}>"
        if d.data == 0:
            return "0x0"
        name = d.name or "?"
        if d.value is None or (d.direct and (name.startswith("*") or name == "unsafe.Pointer")):
            return f"({name}) 0x{d.data:x}"
        # a value behind the data word, or a pointer-shaped one that is not a
        # pointer (a channel, a map, a func): printed as that value
        if params.verbose():
            return f"({name}) {d.value.format_string()}"
        return d.value


class Dynamic:
    """An interface's dynamic type and value: name (DWARF's, else the
    runtime's), direct (the data word is the value), value (a gdb.Value of the
    dynamic type: the data word cast to it when direct, else what it points
    at; None when gdb has no such type)."""

    def __init__(self, data: int, name: Optional[str], direct: bool,
                 value: Optional[gdb.Value]) -> None:
        self.data = data
        self.name = name
        self.direct = direct
        self.value = value


def _static_name(t: gdb.Type) -> str:
    t = t.unqualified()
    if t.code == gdb.TYPE_CODE_TYPEDEF and t.name:
        return t.name
    return t.name or str(t)


def dynamic(val: gdb.Value) -> Dynamic:
    """The dynamic type of interface `val` (its words read through gdb: a
    value in registers works too), asked of libcoretool."""
    fields = _field_names(val.type)
    tword = int(val[fields[0]]) & 0xFFFFFFFFFFFFFFFF
    data = int(val["data"]) & 0xFFFFFFFFFFFFFFFF
    if tword == 0:
        return Dynamic(data, None, False, None)
    info = libct.iface_info(session.current().handle, _static_name(val.type), tword, data)
    rt_name = info.rt_name.decode("utf-8", "replace") or None
    if not info.known:
        return Dynamic(data, rt_name, False, None)
    name = info.type.decode("utf-8", "replace")
    t = gotypes.find(val.type, name, info.size)
    value: Optional[gdb.Value] = None
    if t is not None and info.direct and t.sizeof == 8:
        # the data word is the value (a pointer, or a struct/array of one)
        value = gdb.Value(data.to_bytes(8, "little"), t)
    elif t is not None and not info.direct:
        value = gdb.Value(info.value_addr).cast(t.pointer()).dereference()
    return Dynamic(data, name, bool(info.direct), value)


def lookup_string(val: gdb.Value) -> Optional[GoStringPrinter]:
    t = val.type.unqualified()
    if t.strip_typedefs().name == "string" and _field_names(t) == ("str", "len"):
        return GoStringPrinter(val)
    return None


def lookup_slice(val: gdb.Value) -> Optional[GoSlicePrinter]:
    name = val.type.strip_typedefs().name or ""
    if name.startswith("[]") and _field_names(val.type) == ("array", "len", "cap"):
        return GoSlicePrinter(val)
    return None


def lookup_interface(val: gdb.Value) -> Optional[GoInterfacePrinter]:
    if _field_names(val.type) in (("tab", "data"), ("_type", "data")):
        return GoInterfacePrinter(val)
    return None
