"""coretool map EXPR: one Go map, as `coretool map` prints it."""
from __future__ import annotations

import argparse
import re
from typing import List

import gdb

from .command import VerbCommand, run_verb
from .expr import evaluate, is_local, to_map
from .libct import CoretoolError

# The CLI's own names for a map: a path from a global (main.cfg.byName, main.arr[3], *main.p)
_CLI_PATH = re.compile(r"^\*?[\w./-]+(\.[\w]+|\[\d+\])*$")
# A global or a field of one: main.cache, main.cfg.byName
_GO_GLOBAL = re.compile(r"^[\w./-]+\.[\w.]+$")


class MapCommand(VerbCommand):
    """One Go map: its entries, or its buckets/groups with --layout.

Then the health check: count against live slots, damage found.

Usage: coretool map EXPR [--layout] [--limit N] [--json]
EXPR is a gdb expression of a Go map type ('main.cache', a local, a field,
*ptr), or a path as `coretool maps` prints it (main.cfg.byName).
The options are the CLI's (`coretool map --help` describes them).
The output is the CLI's `coretool map CORE NAME` (or `ADDR:TYPE`)."""

    verb = "map"
    grammar = "EXPR"
    completer = gdb.COMPLETE_EXPRESSION

    @staticmethod
    def specs(expr: str) -> List[str]:
        """The CLI's names for the map EXPR, best first: its path when EXPR
        is a global's path (the output then names it as the CLI does), then
        ADDR:TYPE of the map gdb evaluates EXPR to."""
        path = expr.strip().strip("'")
        try:
            val = evaluate(expr)
        except CoretoolError:
            # Not something gdb can evaluate: maybe one of the CLI's paths (main.arr[3]).
            if not _CLI_PATH.match(path):
                raise
            return [path]
        addr, type_name = to_map(val, expr)
        by_addr = f"0x{addr:x}:{type_name}"
        if _GO_GLOBAL.match(path) and not is_local(path.split(".")[0]):
            return [path, by_addr]
        return [by_addr]

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        return self.specs(" ".join(rest))[:1] + self.option_args(opts)

    def run(self, arg: str, from_tty: bool) -> None:
        opts, rest = self.parse(arg)
        if opts.help:
            self.show_help()
            return
        specs = self.specs(" ".join(rest))
        for i, spec in enumerate(specs):
            try:
                run_verb([self.verb, spec] + self.option_args(opts), opts.json)
                return
            except CoretoolError:
                # The CLI may not reach a global gdb knows (its search depth): by address then.
                if i == len(specs) - 1:
                    raise
