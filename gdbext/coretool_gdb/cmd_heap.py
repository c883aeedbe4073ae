"""coretool heap: the Go heap census."""
from __future__ import annotations

from .command import VerbCommand


class HeapCommand(VerbCommand):
    """Go heap census by size class: spans, objects, free slots, bytes.

Usage: coretool heap [--top N] [--json]
The output is the CLI's `coretool heap CORE`."""

    verb = "heap"
