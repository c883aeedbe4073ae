"""coretool info: what the core (or process) holds."""
from __future__ import annotations

from .command import VerbCommand


class InfoCommand(VerbCommand):
    """The process, threads, signal, modules, Go version and map implementation.

Also which memory the core did not save.

Usage: coretool info [--json]
The output is the CLI's `coretool info CORE`."""

    verb = "info"

