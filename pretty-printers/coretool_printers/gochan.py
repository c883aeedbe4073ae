"""Go channels (`chan T`): the buffered elements in queue order, as Go's
runtime-gdb.py prints them (`chan int = {99, 11}`); `set coretool verbose on`
adds the length, capacity, closed and the goroutines waiting to send and to
receive. The channel header (runtime.hchan) is read by libcoretool
(ct_chan_info: every field from DWARF, wait queues walked with a bound); this
side only turns the slot addresses it gives into gdb values of T."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import gdb

from coretool_gdb import libct, session
from coretool_gdb.libct import CoretoolError

from . import gotypes, params


def chan_type_name(t: gdb.Type) -> Optional[str]:
    """'chan T' (or a named channel type) when t is a Go channel: a typedef
    of a pointer to the per-type hchan<T> the linker synthesizes."""
    t = t.unqualified()
    if t.code != gdb.TYPE_CODE_TYPEDEF or not t.name:
        return None
    p = t.strip_typedefs()
    if p.code != gdb.TYPE_CODE_PTR:
        return None
    target = p.target().strip_typedefs()
    if target.code != gdb.TYPE_CODE_STRUCT or not (target.name or "").startswith("hchan<"):
        return None
    return t.name


class GoChanPrinter:
    def __init__(self, val: gdb.Value, type_name: str) -> None:
        self.val = val
        self.type_name = type_name
        self.info: Optional[libct.ChanInfo] = None
        self.error: Optional[str] = None
        self.loaded = False

    def _load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        try:
            if self.val.is_optimized_out:
                self.error = "<optimized out>"
                return
            addr = int(self.val) & 0xFFFFFFFFFFFFFFFF
            self.info = libct.chan_info(session.current().handle, addr, self.type_name)
        except gdb.error as e:
            self.error = "<optimized out>" if "optimized out" in str(e) else f"<{e}>"
        except CoretoolError as e:
            self.error = f"<coretool: {e}>"

    def display_hint(self) -> str:
        return "array"

    def to_string(self) -> str:
        self._load()
        c = self.info
        if c is None:
            return self.error if self.error == "<optimized out>" else \
                f"{self.type_name} {self.error}"
        if not c.addr:
            return f"({self.type_name}) 0x0"  # nil: as gdb prints the nil pointer
        s = self.type_name
        if params.verbose():
            s += f" len {c.qcount} cap {c.dataqsiz}"
            if c.closed:
                s += " closed"
            more = "+" if c.waiters_partial else ""
            s += f" waiting: {c.sendq}{more} to send, {c.recvq}{more} to receive"
        bad = c.bad.decode("utf-8", "replace")
        if bad:
            s += f" <bad channel: {bad}>"
        return s

    def children(self) -> Iterator[Tuple[str, gdb.Value]]:
        self._load()
        c = self.info
        if c is None or not c.addr or c.bad or not c.qcount:
            return
        elem = c.elem_type.decode("utf-8", "replace") if c.elem_type else None
        t = gotypes.find(self.val.type, elem, c.elem_type_size) if elem else None
        if t is None:
            yield "[0]", gdb.Value(f"<no gdb type for {elem or 'the element'}>")
            return
        tp = t.pointer()
        for i in range(c.qcount):
            addr = libct.chan_slot(c, i)
            if not addr and c.elemsize:
                return
            yield f"[{i}]", gdb.Value(addr).cast(tp).dereference()


def lookup(val: gdb.Value) -> Optional[GoChanPrinter]:
    name = chan_type_name(val.type)
    return GoChanPrinter(val, name) if name else None
