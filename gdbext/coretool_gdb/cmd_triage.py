"""coretool triage: the crash report of the core."""
from __future__ import annotations

from .command import VerbCommand


class TriageCommand(VerbCommand):
    """The crash report: real fault, stitched stacks, holders, class, verdict.

The real fault (recovered from Go's signal frame when Go re-raised SIGABRT),
the faulting thread and goroutine, a stitched C/Go backtrace, what the fault
address and registers point at, who holds the fault address, the crash
class, a verdict and a signature.

Usage: coretool triage [--json]
The output is the CLI's `coretool triage CORE`."""

    verb = "triage"

