"""`set coretool map-layout on|off`: Go maps print as buckets/groups.
`set coretool verbose on|off`: the printers add what Go's runtime-gdb.py does
not print (a map's `<len N>`, a slice's cap, a channel's state); off, the
default, prints exactly Go's format so that scripts and Go's own gdb tests
that parse it keep working."""
from __future__ import annotations

import gdb


_SETTINGS = ("map-layout", "verbose")


class _Prefix(gdb.Command):
    """`set coretool` / `show coretool`: alone, `show coretool` shows every setting."""

    def __init__(self, name: str, doc: str) -> None:
        self.__doc__ = doc
        self.name = name
        super().__init__(name, gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)

    def invoke(self, arg: str, from_tty: bool) -> None:
        if self.name.startswith("show"):
            for setting in _SETTINGS:
                gdb.execute(f"show coretool {setting}", from_tty)
        else:
            gdb.execute(f"help {self.name}", from_tty)


class MapLayoutParameter(gdb.Parameter):
    """Print Go maps as their buckets/groups (on) or their entries (off).

When on, a Swiss map prints its tables and groups with their ctrl bytes, a
classic map its buckets with their tophash bytes, overflow chains and
evacuation marks; each bucket/group is followed by its live entries.
The legend is that of `coretool map --layout`."""

    set_doc = "Set whether Go maps print as their buckets/groups."
    show_doc = "Show whether Go maps print as their buckets/groups."

    def __init__(self) -> None:
        super().__init__("coretool map-layout", gdb.COMMAND_DATA, gdb.PARAM_BOOLEAN)
        self.value = False

    def get_set_string(self) -> str:
        return ""

    def get_show_string(self, svalue: str) -> str:
        return f"Printing Go maps as their buckets/groups is {svalue}."


class VerboseParameter(gdb.Parameter):
    """Print the extra facts coretool knows beyond Go's own format.

Off (the default): Go values print as Go's runtime-gdb.py prints them
(`map[string]int = {["a"] = 1}`, `[]int = {1, 2}`, `chan int = {1}`).
On: a map also says `<len N>`, a slice its len and cap, a channel its
length, capacity and waiting goroutines."""

    set_doc = "Set whether Go values print with coretool's extra facts."
    show_doc = "Show whether Go values print with coretool's extra facts."

    def __init__(self) -> None:
        super().__init__("coretool verbose", gdb.COMMAND_DATA, gdb.PARAM_BOOLEAN)
        self.value = False

    def get_set_string(self) -> str:
        return ""

    def get_show_string(self, svalue: str) -> str:
        return f"Printing Go values with coretool's extra facts is {svalue}."


_layout: "MapLayoutParameter | None" = None
_verbose: "VerboseParameter | None" = None


def register() -> None:
    global _layout, _verbose
    if _layout is not None:
        return
    _Prefix("set coretool", "Set coretool options (Go map and value printers).")
    _Prefix("show coretool", "Show coretool options (Go map and value printers).")
    _layout = MapLayoutParameter()
    _verbose = VerboseParameter()


def map_layout() -> bool:
    return bool(_layout is not None and _layout.value)


def verbose() -> bool:
    """`set coretool verbose`: print more than Go's format (off by default)."""
    return bool(_verbose is not None and _verbose.value)
