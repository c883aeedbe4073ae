"""gdb.Values to JSON-ready Python values, the way the samples' ground truth
writes Go values: integers, floats, bools, strings; pointers as "0x..."
strings; arrays and slices as lists; structs as objects by field name; maps as
{"count", "entries": [{"key", "value"}]} through the printers gdb applies.

Used by `coretool map-json`, which tests (and scripts) use to check what the
printers hand gdb, value by value."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import gdb

_MAX_DEPTH = 16
_MAX_STRING = 1 << 20  # bytes of a string read; a damaged header says more


def _string(val: gdb.Value) -> str:
    n = int(val["len"])
    if n == 0:
        return ""
    if n < 0 or n > _MAX_STRING:
        return f"<string of length {n}>"
    data = gdb.selected_inferior().read_memory(int(val["str"]), n)
    return bytes(data).decode("utf-8", "backslashreplace")


def _from_printer(val: gdb.Value, depth: int) -> Optional[Any]:
    printer = gdb.default_visualizer(val)
    if printer is None:
        return None
    hint = printer.display_hint() if hasattr(printer, "display_hint") else None
    if hint == "map":
        return map_children(printer, depth)
    if hint == "string":
        return None  # read the bytes ourselves: exact, whatever the charset
    if hint == "array":
        return [convert(v, depth + 1) for _, v in printer.children()]
    return None


def map_children(printer: Any, depth: int = 0) -> Dict[str, Any]:
    """{"to_string", "entries": [{"key", "value"}], "stopped"?} of a map printer."""
    if hasattr(printer, "want_values"):
        printer.want_values = True  # gdb.Values, not the text `print` gets
    head = printer.to_string()
    entries: List[Dict[str, Any]] = []
    out: Dict[str, Any] = {"to_string": str(head), "entries": entries}
    if not hasattr(printer, "children"):
        return out
    it = iter(printer.children())
    for (_, k), (_, v) in zip(it, it):
        if isinstance(k, str) and k in ("<stopped>", "<damaged>"):
            out[k.strip("<>")] = v
            continue
        entries.append({"key": convert(k, depth + 1), "value": convert(v, depth + 1)})
    return out


def convert(val: Any, depth: int = 0) -> Any:
    if isinstance(val, str):  # a child the printer gave as text
        return val
    if depth > _MAX_DEPTH:
        return "<too deep>"
    from_printer = _from_printer(val, depth)
    if from_printer is not None:
        return from_printer
    t = val.type.strip_typedefs()
    code = t.code
    if code == gdb.TYPE_CODE_BOOL:
        return bool(val)
    if code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_ENUM):
        return int(val)
    if code == gdb.TYPE_CODE_FLT:
        return float(val)
    if code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_FUNC):
        return f"0x{int(val) & 0xFFFFFFFFFFFFFFFF:x}"
    if code == gdb.TYPE_CODE_ARRAY:
        lo, hi = t.range()
        return [convert(val[i], depth + 1) for i in range(lo, hi + 1)]
    if code == gdb.TYPE_CODE_STRUCT:
        names = tuple(f.name for f in t.fields())
        if t.name == "string" and names == ("str", "len"):
            return _string(val)
        if (t.name or "").startswith("[]") and names == ("array", "len", "cap"):
            ptr = val["array"]
            return [convert((ptr + i).dereference(), depth + 1) for i in range(int(val["len"]))]
        return {f.name: convert(val[f.name], depth + 1) for f in t.fields() if f.name}
    return str(val)
