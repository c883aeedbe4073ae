"""coretool cgocheck: pointers across the cgo boundary."""
from __future__ import annotations

from .command import VerbCommand


class CgocheckCommand(VerbCommand):
    """Audit the pointers that cross the cgo boundary.

C memory holding Go pointers (dangling, unpinned, ok) and Go memory holding
pointers to freed C chunks.

Usage: coretool cgocheck [--json]
The output is the CLI's `coretool cgocheck CORE` (when this libcoretool has
the verb; else the command says it is not available)."""

    verb = "cgocheck"

