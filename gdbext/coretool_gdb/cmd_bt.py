"""coretool bt: stitched C/Go backtraces."""
from __future__ import annotations

from .command import VerbCommand


class BtCommand(VerbCommand):
    """Stitched C/Go backtraces (the faulting thread, or --all).

C frames, then the goroutine's Go frames across the cgo switch.

Usage: coretool bt [--all] [--json]
The output is the CLI's `coretool bt CORE`."""

    verb = "bt"
