"""coretool map-json EXPR: what the map printer hands gdb, as JSON."""
from __future__ import annotations

import argparse
import json
from typing import List

import gdb

from . import gojson
from .command import VerbCommand
from .expr import evaluate, map_type_name, to_map
from .libct import CoretoolError


class MapJsonCommand(VerbCommand):
    """The map printer's children for the Go map EXPR, as JSON (tests, scripts).

One object: {"type", "to_string", "entries": [{"key", "value"}], "stopped"?}.

Usage: coretool map-json EXPR
Keys and values are the printer's gdb.Values converted to JSON (integers,
strings, "0x..." pointers, lists, objects by field name, nested maps as
objects). Meant for tests and scripts; `print` shows the same entries."""

    verb = "map-json"
    usage_fallback = "coretool map-json EXPR"
    completer = gdb.COMPLETE_EXPRESSION

    def check_available(self) -> None:
        pass

    def run(self, arg: str, from_tty: bool) -> None:
        opts, rest = self.parse(arg)
        if opts.help:
            gdb.write(self.__doc__ + "\n")
            return
        expr = " ".join(rest)
        val = evaluate(expr)
        _, type_name = to_map(val, expr)
        if map_type_name(val.type) is None:  # a pointer to a map
            val = val.dereference()
        printer = gdb.default_visualizer(val)
        if printer is None or getattr(printer, "display_hint", lambda: None)() != "map":
            raise CoretoolError(f"coretool map-json: no map printer for {expr} (is the "
                                "coretool printer disabled?)")
        out = gojson.map_children(printer)
        out["type"] = type_name
        gdb.write(json.dumps(out) + "\n")

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        return rest
