"""coretool bt: stitched C/Go backtraces."""
from __future__ import annotations

import argparse
from typing import List

from .command import ArgParser, VerbCommand


class BtCommand(VerbCommand):
    """Stitched C/Go backtraces (the faulting thread, or --all).

C frames, then the goroutine's Go frames across the cgo switch.

Usage: coretool bt [--all] [--json]
The output is the CLI's `coretool bt CORE`."""

    verb = "bt"
    usage = "coretool bt [--all] [--json]"

    def add_options(self, parser: ArgParser) -> None:
        parser.add_argument("--all", action="store_true")

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        super().verb_args(opts, rest)
        return ["--all"] if opts.all else []

