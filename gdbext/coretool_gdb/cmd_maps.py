"""coretool maps: every Go map reachable from globals."""
from __future__ import annotations

from .command import VerbCommand


class MapsCommand(VerbCommand):
    """Every Go map reachable from globals, with its health.

Path, header address, type, implementation, count, buckets or tables, growth.

Usage: coretool maps [--json]
The output is the CLI's `coretool maps CORE`."""

    verb = "maps"

