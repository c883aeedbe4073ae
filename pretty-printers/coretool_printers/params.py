"""`set coretool map-layout on|off`: Go maps print as buckets/groups."""
from __future__ import annotations

import gdb


_SETTINGS = ("map-layout",)


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


_layout: "MapLayoutParameter | None" = None


def register() -> None:
    global _layout
    if _layout is not None:
        return
    _Prefix("set coretool", "Set coretool options (Go map and value printers).")
    _Prefix("show coretool", "Show coretool options (Go map and value printers).")
    _layout = MapLayoutParameter()


def map_layout() -> bool:
    return bool(_layout is not None and _layout.value)
