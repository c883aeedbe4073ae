"""The printer of Go map values (both implementations), iterating through
libcoretool: ct_map_walk hands out where each key and value is; this module
only turns those addresses into gdb.Values of K and V.

Children are produced in chunks: the first walk stops after what `print
elements` will show, and only if gdb asks for more is the map walked again
(skipping what was already handed out), with twice the room each time. A
damaged map yields what was readable and then a `<stopped>` child saying where
and why the walk stopped.

The format is that of Go's runtime-gdb.py: `map[string]int = {["a"] = 1}`;
`set coretool verbose on` adds `<len N>`. Children are named [0], [1], ...
(unique: MI front ends make a variable object of each).

Speed: for `print`, the library renders whole batches of scalar keys and
values (ints, floats, bools, plain strings) as gdb would print them
(ct_map_render_batch), and they are handed to gdb as text; a gdb.Value is
made only for what gdb must print itself (structs, pointers, nested maps,
strings its charset settings decide). A gdb.Value per child costs gdb a
pretty-printer lookup each: 100,000 entries took half a minute that way.
MI front ends (gdb --interpreter=mi) get gdb.Values for every child: a text
child would become a char array there, which IDEs show as `[6]`.
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Tuple, Union

import os

import gdb

from coretool_gdb import expr, libct, session
from coretool_gdb.libct import CoretoolError, MapInfo, MapUnit

from . import gotypes, params

Child = Tuple[str, Union[gdb.Value, str]]



def print_elements() -> Optional[int]:
    """gdb's `print elements` (None: unlimited)."""
    try:
        n = gdb.parameter("print elements")
    except RuntimeError:
        return 200
    return n if n else None


def _gdb_limit(name: str) -> int:
    """gdb's `print elements` / `print repeats` for the library: 0 = unlimited."""
    try:
        n = gdb.parameter(name)
    except RuntimeError:
        return 0
    return int(n) if n else 0


_mi_cached: Optional[bool] = None


def under_mi() -> bool:
    """True when this gdb talks MI to a front end (started with
    --interpreter=mi*, -i=mi* or -i mi*): gdb has no Python call for the
    interpreter in use, its command line says it."""
    global _mi_cached
    if _mi_cached is None:
        try:
            with open(f"/proc/{os.getpid()}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            argv = []
        mi = False
        for i, a in enumerate(argv):
            if a.startswith((b"--interpreter=mi", b"-interpreter=mi", b"-i=mi")):
                mi = True
            elif a in (b"-i", b"--interpreter", b"-interpreter") and i + 1 < len(argv):
                mi = mi or argv[i + 1].startswith(b"mi")
        _mi_cached = mi
    return _mi_cached


def ctrl_text(u: MapUnit, swiss: bool) -> str:
    """A bucket's/group's slots as the CLI's layout view writes them: the
    library's legend (ct_map_legend_json) gives each state's mark; a state
    without one (an entry) is its ctrl/tophash byte in hex."""
    try:
        marks_of = libct.map_legend()["swiss" if swiss else "classic"]["marks"]
    except (CoretoolError, KeyError):
        marks_of = {}
    marks = []
    for i in range(u.nslots):
        state = (u.state[i] or b"").decode()
        mark = marks_of.get(state)
        marks.append(mark if mark else f"{u.ctrl[i]:02x}")
    return " ".join(marks)


def unit_child(u: MapUnit) -> Child:
    """One bucket, group or table as (label, description): a key/value pair of children."""
    if u.kind == libct.CT_MAP_TABLE:
        last = u.dir_index + max(u.dir_count, 1) - 1
        return (f"table 0x{u.addr:x} dir[{u.dir_index}..{last}]",
                f"index {u.table_index}  localDepth {u.local_depth}  capacity {u.capacity}  "
                f"used {u.used}  growthLeft {u.growth_left}  {u.ngroups} groups at 0x{u.groups:x}")
    if u.kind == libct.CT_MAP_TABLE_END:
        return (f"table 0x{u.addr:x} totals",
                f"{u.full} full, {u.deleted} deleted, {u.empty} empty")
    if u.kind == libct.CT_MAP_GROUP:
        return (f"group {u.index} 0x{u.addr:x}", f"ctrl {ctrl_text(u, True)}  full {u.live}")
    old = u.kind == libct.CT_MAP_OLDBUCKET
    label = f"{'old bucket' if old else 'bucket'} {u.index}"
    if u.chain:
        label += f" overflow {u.chain}"
    text = f"tophash {ctrl_text(u, False)}  live {u.live}"
    if old and u.chain == 0:
        text += "  evacuated" if u.evacuated else "  not evacuated"
    if u.overflow:
        text += f"  -> 0x{u.overflow:x}"
    return f"{label} 0x{u.addr:x}", text


def layout_header(info: MapInfo) -> str:
    if info.swiss:
        if not info.dir_ptr:
            return "swiss: no groups"
        if info.dir_len == 0:
            return f"swiss: small map, one group at 0x{info.dir_ptr:x}"
        return (f"swiss: dirLen {info.dir_len} (globalDepth {info.global_depth}) "
                f"at 0x{info.dir_ptr:x}")
    s = f"classic: B {info.B}, buckets 0x{info.buckets:x}"
    if info.oldbuckets:
        s += f", oldbuckets 0x{info.oldbuckets:x} ({info.growth.decode()})"
    s += f", noverflow {info.noverflow}"
    if info.flags:
        s += f", flags {info.flags.decode()}"
    return s


# The batch renderer for `print` (see the module's doc). Tests turn it off to
# compare its output with gdb's own printing of the same keys and values.
FAST = True

# An item of a walk: ("entry", key_addr, elem_addr, flags) or ("unit", child).
_Item = Tuple


class GoMapPrinter:
    """A Go map: `map[K]V` (Go's format; `<len N>` when verbose) and its
    entries as children [0], [1], ... (display hint 'map')."""

    def __init__(self, val: gdb.Value, type_name: str) -> None:
        self.val = val
        self.type_name = type_name
        self.addr = int(val) & 0xFFFFFFFFFFFFFFFF
        self.layout = params.map_layout()
        self.info: Optional[MapInfo] = None
        self.error: Optional[str] = None
        self.loaded = False
        # gdb.Values for every key and value, never text (coretool map-json)
        self.want_values = False

    def _load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        try:
            self.sess = session.current()
            self.info = self.sess.handle.map_info(self.addr, self.type_name)
        except (CoretoolError, gdb.error) as e:
            self.error = str(e)

    def to_string(self) -> str:
        self._load()
        # the name gdb knows the type by, as Go's printer says it (a named
        # map type is `main.Header`)
        shown = str(self.val.type) or self.type_name
        if self.info is None:
            return f"{shown} <coretool: {self.error}>"
        if not self.info.addr:
            return f"{shown} <nil>"
        s = shown
        if params.verbose() or self.layout:
            s += f" <len {self.info.count}>"
        if self.layout:
            s += f" <{layout_header(self.info)}>"
        return s

    def display_hint(self) -> str:
        return "map"

    def _walk(self, skip: int, take: int) -> Tuple[List[_Item], Optional[libct.MapHealth]]:
        """Items skip..skip+take-1 of a walk, and the health if the walk ended."""
        items: List[_Item] = []
        seen = 0

        def keep(item: _Item) -> bool:
            nonlocal seen
            seen += 1
            if seen > skip:
                items.append(item)
            return len(items) < take

        def on_entry(k: int, v: int, flags: int) -> bool:
            return keep(("entry", k, v, flags))

        def on_unit(u: MapUnit) -> bool:
            return keep(("unit", unit_child(u)))  # u lives only during the call

        # The session of now: a printer kept by a front end (MI varobjs) may
        # outlive the one it was made with.
        self.sess = session.current()
        health = self.sess.handle.map_walk(self.addr, self.type_name, on_entry,
                                           on_unit if self.layout else None)
        return items, (None if health.stopped_by_caller else health)

    def _types(self) -> Tuple[Optional[gdb.Type], Optional[gdb.Type]]:
        info = self.info
        assert info is not None
        kname, vname = info.key_type.decode(), info.elem_type.decode()
        ksize = None if info.key_indirect else info.key_size
        vsize = None if info.elem_indirect else info.elem_size
        return (self._type(kname, ksize), self._type(vname, vsize))

    def _type(self, name: str, size: Optional[int]) -> Optional[gdb.Type]:
        t = gotypes.find(self.val.type, name, size)
        if t is not None:
            return t
        # A pointer gdb has no type for by that name (unsafe.Pointer): a void *
        # is a value gdb and MI front ends show as the address it is.
        try:
            kind = self.sess.handle.type_info(name)["kind_name"]
        except CoretoolError:
            return None
        if kind in ("ptr", "unsafe.Pointer"):
            return gdb.lookup_type("void").pointer()
        return None

    def _value(self, t: Optional[gdb.Type], type_name: str, addr: int, bad: bool,
               what: str) -> Union[gdb.Value, str]:
        if bad:
            return f"<{what} unreadable: bad indirect pointer in slot 0x{addr:x}>"
        if t is not None:
            return gdb.Value(addr).cast(t.pointer()).dereference()
        # No gdb type for it: libcoretool renders it from DWARF as text.
        try:
            return self.sess.handle.render(type_name, addr)[1]
        except CoretoolError as e:
            return f"<{what} of type {type_name} at 0x{addr:x}: {e}>"

    def _batches(self, take: int) -> Iterator[Tuple[str, Union[int, str]]]:
        """The fast path: (tag, payload) of each key and value, then
        ("health", health) at the end of the walk; see ct_map_render_batch."""
        done = 0
        max_string, repeats = _gdb_limit("print elements"), _gdb_limit("print repeats")
        while True:
            self.sess = session.current()
            lines, health = self.sess.handle.map_render_batch(
                self.addr, self.type_name, done, take, max_string, repeats)
            for line in lines:
                yield line[0], line[1:]
            done += len(lines) // 2
            if not health.stopped_by_caller:
                yield "health", health
                return
            take *= 2

    def children(self) -> Iterator[Child]:
        n = 0
        for child in self._children():
            yield f"[{n}]", child
            n += 1

    def _children(self) -> Iterator[Union[gdb.Value, str]]:
        """Keys and values (or layout labels and descriptions) in turn."""
        self._load()
        if self.info is None or not self.info.addr:
            return
        ktype, vtype = self._types()
        kname, vname = self.info.key_type.decode(), self.info.elem_type.decode()
        limit = print_elements()
        # Each item is two children (key and value, or label and description).
        take = (limit // 2 + 2) if limit else 4096
        if FAST and not self.layout and not self.want_values and not under_mi() \
                and self.sess.handle.has_render_batch():
            yield from self._fast_children(ktype, vtype, kname, vname, take)
            return
        done = 0
        while True:
            try:
                items, health = self._walk(done, take)
            except CoretoolError as e:
                yield "<stopped>"
                yield f"coretool: {e}"
                return
            for item in items:
                if item[0] == "unit":
                    yield item[1][0]
                    yield item[1][1]
                    continue
                _, k, v, flags = item
                yield self._value(ktype, kname, k, bool(flags & libct.CT_MAP_KEY_BAD), "key")
                yield self._value(vtype, vname, v, bool(flags & libct.CT_MAP_ELEM_BAD), "value")
            done += len(items)
            if health is not None:
                yield from self._health_children(health)
                return
            take *= 2

    def _fast_children(self, ktype: Optional[gdb.Type], vtype: Optional[gdb.Type], kname: str,
                       vname: str, take: int) -> Iterator[Union[gdb.Value, str]]:
        which = 0  # 0: a key, 1: a value
        try:
            for tag, payload in self._batches(take):
                if tag == "=":
                    yield payload
                elif tag == "@" or tag == "!":
                    t, name, what = (ktype, kname, "key") if which == 0 else (vtype, vname, "value")
                    yield self._value(t, name, int(payload, 16), tag == "!", what)
                else:
                    yield from self._health_children(payload)
                    return
                which ^= 1
        except CoretoolError as e:
            yield "<stopped>"
            yield f"coretool: {e}"

    @staticmethod
    def _health_children(health: libct.MapHealth) -> Iterator[str]:
        if health.stopped:
            yield "<stopped>"
            yield health.stopped.decode()
        elif not health.ok:
            yield "<damaged>"
            yield health.summary.decode()


def map_type_name(t: gdb.Type) -> Optional[str]:
    """The library's 'map[K]V' when t is a Go map type (a typedef of a pointer
    to the header: map[K]V itself or a named map type), else None."""
    t = t.unqualified()
    if t.code != gdb.TYPE_CODE_TYPEDEF or not t.name:
        return None
    return expr.map_type_name(t)


def lookup(val: gdb.Value) -> Optional[GoMapPrinter]:
    name = map_type_name(val.type)
    return GoMapPrinter(val, name) if name else None
