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

from coretool_gdb import session
from coretool_gdb.libct import CoretoolError

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
    """Go slice: `[]T len N cap M` and its elements (display hint 'array')."""

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
        s = f"{self.val.type} len {n} cap {c}"
        if n < 0 or n > c or c > _MAX_LEN:
            s += " <bad slice header>"
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
    """Go interface: its dynamic type and value, as libcoretool renders them."""

    def __init__(self, val: gdb.Value) -> None:
        self.val = val

    def to_string(self) -> str:
        addr = self.val.address
        type_name = self.val.type.unqualified().name or str(self.val.type)
        if addr is None:
            return f"{type_name} {{data = {self.val['data']}}}"
        try:
            _, text = session.current().handle.render(type_name, int(addr))
        except CoretoolError as e:
            return f"{type_name} <coretool: {e}>"
        return text


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
