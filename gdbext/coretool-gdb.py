# coretool for gdb: `source gdbext/coretool-gdb.py` (or the auto-load line in
# the README, section "gdb"). Adds the `coretool` commands and the Go pretty-printers; all
# of the work is done by libcoretool (build/libcoretool.so, or CORETOOL_LIB).
import os
import sys

import gdb

_here = os.path.dirname(os.path.abspath(os.path.realpath(__file__)))
for _d in (_here, os.path.join(os.path.dirname(_here), "pretty-printers")):
    if _d not in sys.path:
        sys.path.insert(0, _d)

import coretool_gdb  # noqa: E402
import coretool_printers  # noqa: E402

coretool_gdb.register()
coretool_printers.register(gdb.current_objfile())
