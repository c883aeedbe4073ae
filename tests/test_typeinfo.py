"""ct_type_info (api.h): what the library's DWARF says a Go type is, through the
gdb extension's binding (libct.Handle.type_info), on every toolchain's maps core.

Expected values come from the sample's truth (each map's key and elem types as
reflect printed them, the map implementation the program was built with) and
from Go's own definitions: reflect.Kind numbers (src/reflect/type.go: Array 17,
Chan 18, Interface 20, Map 21, Pointer 22, Slice 23, String 24, Struct 25), the
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
        name = f"map[{m['key_type']}]{m['elem_type']}"
        ti = h.type_info(name)
        assert ti["kind"] == KIND["map"] and ti["kind_name"] == "map", (name, ti)
        assert not ti["named"] and ti["underlying"] == name, (name, ti)
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
