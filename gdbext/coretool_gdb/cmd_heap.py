"""coretool heap: the Go heap census."""
from __future__ import annotations

from .command import VerbCommand


class HeapCommand(VerbCommand):
    """Go heap census by size class (spans, objects, free slots, bytes), or by Go
type (--by-type: the typed heap, from the roots).

Usage: coretool heap [--top N] [--by-type] [--pprof FILE] [--json]
The output is the CLI's `coretool heap CORE`."""

    verb = "heap"
