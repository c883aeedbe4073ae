"""ct_type_info (api.h): what the library's DWARF says a Go type is, through the
gdb extension's binding (libct.Handle.type_info), on every toolchain's maps core.

Expected values come from the sample's truth (each map's key and elem types as
reflect printed them, the map implementation the program was built with) and
from Go's own definitions: reflect.Kind numbers (src/reflect/type.go: Array 17,
Chan 18, Interface 20, Map 21, Pointer 22, Slice 23, String 24, Struct 25,
UnsafePointer 26), the
amd64 sizes the spec and runtime give (string 16, slice 24, interface 16,
pointer and map 8), and the runtime's rule that keys and values over 128 bytes
live out of line (internal/abi MapMaxKeyBytes / MapMaxElemBytes).
"""
import sys

import pytest

from conftest import ROOT, samples_where

sys.path.insert(0, str(ROOT / "gdbext" / "coretool_gdb"))
import libct  # noqa: E402

MAPS = samples_where(lambda s: s.is_go and s.scenario == "maps" and s.truth.get("maps"))

KIND = {"array": 17, "chan": 18, "interface": 20, "map": 21, "ptr": 22, "slice": 23,
        "string": 24, "struct": 25, "int": 2}


@pytest.fixture(scope="module", params=MAPS, ids=[repr(s) for s in MAPS])
def handle(request):
    s = request.param
    h = libct.Handle.open_core(str(s.core), str(s.exe), None)
    yield s, h
    h.close()


def test_maps_of_the_truth(handle):
    s, h = handle
    impl = s.truth["map_impl"]
    seen = 0
    for m in s.truth["maps"]:
        lit = f"map[{m['key_type']}]{m['elem_type']}"
        name = m.get("type") or lit
        ti = h.type_info(name)
        assert ti["kind"] == KIND["map"] and ti["kind_name"] == "map", (name, ti)
        assert ti["named"] == bool(m.get("named")) and ti["underlying"] == lit, (name, ti)
        assert (ti["key_type"], ti["elem_type"]) == (m["key_type"], m["elem_type"]), (name, ti)
        assert ti["impl"] == impl and ti["swiss"] == (impl == "swiss"), (name, ti)
        assert ti["size"] == 8 and not ti["map_error"], (name, ti)
        seen += 1
    assert seen >= 10


def test_out_of_line_keys_and_values(handle):
    s, h = handle
    ti = h.type_info("map[[20]int64]main.bigVal")
    # [20]int64: 160 bytes; bigVal: int64 + string + [23]int64 = 8 + 16 + 184
    assert (ti["key_size"], ti["elem_size"]) == (160, 208)
    assert ti["key_indirect"] and ti["elem_indirect"]
    ti = h.type_info("map[string]int")
    assert (ti["key_size"], ti["elem_size"]) == (16, 8)
    assert not ti["key_indirect"] and not ti["elem_indirect"]


@pytest.mark.parametrize("name,kind_name,kind,size,named,underlying,elem", [
    ("[]string", "slice", 23, 24, False, "[]string", "string"),
    ("interface {}", "eface", 20, 16, False, "interface {}", None),
    ("error", "iface", 20, 16, True, "", None),
    ("*main.node", "ptr", 22, 8, False, "*main.node", "main.node"),
    ("[20]int64", "array", 17, 160, False, "[20]int64", "int64"),
    # structKey{A int32; B string}: 4, padding to 8, 16
    ("main.structKey", "struct", 25, 24, True, "", None),
    ("string", "string", 24, 16, True, "string", None),
    ("int", "int", 2, 8, True, "int", None),
    # reflect.UnsafePointer 26: a DWARF pointer type to nothing, without a Go kind
    ("unsafe.Pointer", "unsafe.Pointer", 26, 8, True, "unsafe.Pointer", None),
])
def test_other_kinds(handle, name, kind_name, kind, size, named, underlying, elem):
    s, h = handle
    ti = h.type_info(name)
    got = (ti["kind_name"], ti["kind"], ti["size"], ti["named"], ti["underlying"],
           ti["elem_type"], ti["impl"], ti["swiss"])
    assert got == (kind_name, kind, size, named, underlying, elem, "", None), (name, ti)
    if name == "[20]int64":
        assert ti["len"] == 20


def test_unknown_type_is_an_error(handle):
    s, h = handle
    with pytest.raises(libct.CoretoolError, match="no type main.noSuchType"):
        h.type_info("main.noSuchType")


def test_named_and_zero_sized_maps(handle):
    """The maps the sample records with reflect's type name: a named map type
    is a map (kind 21) named main.Header whose underlying type is the literal;
    zero-sized keys and values have layouts the library reads."""
    s, h = handle
    impl = s.truth["map_impl"]
    typed = [m for m in s.truth["maps"] if "type" in m]
    assert typed, "the samples predate map type names in truth.json: run `make samples`"
    named = [m for m in typed if m.get("named")]
    assert [m["type"] for m in named] == ["main.Header"]
    for m in typed:
        ti = h.type_info(m["type"])
        lit = f"map[{m['key_type']}]{m['elem_type']}"
        assert (ti["kind"], ti["kind_name"], ti["named"]) == (21, "map", bool(m.get("named")))
        assert ti["underlying"] == lit and ti["name"] == m["type"]
        assert (ti["key_type"], ti["elem_type"]) == (m["key_type"], m["elem_type"])
        assert ti["impl"] == impl and not ti["map_error"], ti
    zk = h.type_info("map[struct {}]int")
    zv = h.type_info("map[int]struct {}")
    assert (zk["key_size"], zk["elem_size"], zv["key_size"], zv["elem_size"]) == (0, 8, 8, 0)


LEGEND_MAPS = ("main.tombMap", "main.growingMap", "main.smallMap", "main.strMap")


def test_map_legend_is_what_the_layout_view_prints(handle):
    """ct_map_legend_json is the one legend: its line is the layout view's
    legend line, and each slot the view prints is its state's mark (or, for
    the states without one, the byte in hex), slot by slot against the JSON
    layout's states and bytes."""
    from conftest import run, run_json
    s, h = handle
    impl = s.truth["map_impl"]
    legend = libct.map_legend()
    assert set(legend) == {"classic", "swiss"}
    marks = legend[impl]["marks"]
    seen = set()
    for name in LEGEND_MAPS:
        rc, text, err = run(["map", s.core, "--exe", s.exe, name, "--layout"])
        assert rc == 0, err
        lines = text.splitlines()
        assert lines[1] == f"  ({legend[impl]['line']})"
        rc, js, err = run_json(["map", s.core, "--exe", s.exe, name, "--layout"])
        assert rc == 0, err
        units = js.get("buckets") or js.get("groups") or [
            g for t in js.get("tables", []) for g in t["groups"]]
        field = "tophash" if impl == "classic" else "ctrl"
        printed = [l.split(f" {field} ")[1].split("  ")[0].split() for l in lines
                   if f" {field} " in l]
        assert len(printed) == len(units), name
        for toks, u in zip(printed, units):
            for tok, state, byte in zip(toks, u["slots"], u[field]):
                assert state in marks, state
                want = marks[state] if marks[state] is not None else f"{byte:02x}"
                assert tok == want, (name, u)
                seen.add(state)
    # the maps above show an entry, an empty slot and (tombMap, growingMap) a
    # tombstone or an evacuated bucket
    assert {"full", "empty", "deleted"} <= seen if impl == "swiss" else \
        {"live", "emptyRest", "evacuatedX"} <= seen


def test_map_api_takes_named_and_zero_sized_types(handle):
    """ct_map_info / ct_map_walk with the type names the truth records
    (main.Header, map[struct {}]int, ...): header and every entry."""
    s, h = handle
    typed = [m for m in s.truth["maps"] if "type" in m and m["name"] in
             ("main.namedMap", "main.zeroKeyMap", "main.zeroValMap")]
    assert len(typed) == 3, "the samples predate these maps: run `make samples`"
    for m in typed:
        addr = int(m["addr"], 16)
        info = h.map_info(addr, m["type"])
        assert (info.count, info.type.decode(), info.impl.decode()) == \
            (m["count"], m["type"], s.truth["map_impl"])
        n = []
        health = h.map_walk(addr, m["type"], lambda k, v, f: n.append((k, v, f)) or True, None)
        assert health.ok and health.live == m["count"] and len(n) == m["count"]
        assert all(f == 0 for _, _, f in n)
