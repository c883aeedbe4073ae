"""coretool classify EXPR: what the address EXPR stands for is."""
from __future__ import annotations

import argparse
from typing import List

import gdb

from .command import VerbCommand
from .expr import evaluate, to_address


class ClassifyCommand(VerbCommand):
    """What the address EXPR is: Go heap, goroutine stack, C heap, image, ...

Go heap (span, slot, allocated/free/garbage), goroutine stack, C heap (glibc
chunk, bin), image (symbol), thread stack, mapping, or unmapped (null page,
stack guard, ...).

Usage: coretool classify EXPR [--json]
EXPR is any gdb expression giving an address: a pointer, a register ($rdi),
a number, a Go map (its header). The output is the CLI's `coretool classify`.
`coretool classify --help` gives the verb's full description."""

    verb = "classify"
    grammar = "EXPR"
    completer = gdb.COMPLETE_EXPRESSION
    # Said only when the target gave no mappings (no `info proc mappings`).
    live_note = ("live process without mappings: the Go heap and goroutine stacks are known, "
                 "but images, thread stacks and the C heap need the mappings or a core "
                 "(gcore FILE)")

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        expr = " ".join(rest)
        return [f"0x{to_address(evaluate(expr), expr):x}"]

