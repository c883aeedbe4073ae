"""coretool goroutines: every goroutine."""
from __future__ import annotations

from .command import VerbCommand


class GoroutinesCommand(VerbCommand):
    """Every goroutine: id, status, wait reason, thread, own frame.

Usage: coretool goroutines [--json]
The output is the CLI's `coretool goroutines CORE`."""

    verb = "goroutines"

