"""coretool retain EXPR: who keeps the object at EXPR alive."""
from __future__ import annotations

import argparse
from typing import List

import gdb

from .command import VerbCommand
from .expr import evaluate, to_address


class RetainCommand(VerbCommand):
    """The paths from a root (Go global, goroutine stack, C memory) that keep the
Go heap object holding the address EXPR alive, each step named by its type
and field.

Usage: coretool retain EXPR [--paths N] [--json]
EXPR is any gdb expression giving an address (a pointer, a register, a
number). The output is the CLI's `coretool retain CORE ADDR`; the typed heap
of the whole target is built first.
`coretool retain --help` gives the verb's full description."""

    verb = "retain"
    grammar = "EXPR"
    completer = gdb.COMPLETE_EXPRESSION

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        expr = " ".join(rest)
        return [f"0x{to_address(evaluate(expr), expr):x}"]
