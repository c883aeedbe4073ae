"""coretool heap: the Go heap census."""
from __future__ import annotations

import argparse
from typing import List

from .command import ArgParser, VerbCommand, non_negative


class HeapCommand(VerbCommand):
    """Go heap census by size class: spans, objects, free slots, bytes.

Usage: coretool heap [--top N] [--json]
The output is the CLI's `coretool heap CORE`."""

    verb = "heap"
    usage = "coretool heap [--top N] [--json]"

    def add_options(self, parser: ArgParser) -> None:
        parser.add_argument("--top", type=non_negative)

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        super().verb_args(opts, rest)
        return ["--top", str(opts.top)] if opts.top is not None else []

