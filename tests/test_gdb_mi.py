"""The map printer through gdb's machine interface, as IDEs drive it (VS Code,
CLion, Emacs): `gdb --interpreter=mi` with -var-create and -var-list-children
on every map the maps sample recorded, on every toolchain's core. Children
must have unique names (else gdb answers "Duplicate variable object name"),
come in key/value pairs under display hint "map", and expand (structs,
arrays, nested maps) to the recorded entries, every one of them."""
import json
import re
import subprocess

import pytest

from conftest import ROOT
from test_gdb import ENTRY, GDB, GDB_ENV, PrintParser, assert_entries_equal, maps_samples, \
    toolchain_ids

BIGMAP = ROOT / "build" / "samples-bigmap"


# ---- a small MI client ----

class MIParser:
    """MI result syntax: name=value lists; values "c-string", {tuple}, [list]."""

    def __init__(self, s):
        self.s, self.i = s, 0

    def results(self, end=None):
        out = {}
        while self.i < len(self.s) and (end is None or self.s[self.i] != end):
            m = re.compile(r"([\w-]+)=").match(self.s, self.i)
            assert m, self.s[self.i:self.i + 80]
            self.i = m.end()
            k, v = m.group(1), self.value()
            # repeated names in a list of results (children=[child={..},child={..}])
            if k in out:
                if not isinstance(out[k], list) or not getattr(out[k], "_rep", False):
                    out[k] = _Rep([out[k]])
                out[k].append(v)
            else:
                out[k] = v
            if self.i < len(self.s) and self.s[self.i] == ",":
                self.i += 1
        return out

    def value(self):
        c = self.s[self.i]
        if c == '"':
            return self.cstring()
        if c == "{":
            self.i += 1
            v = self.results("}")
            self.i += 1
            return v
        if c == "[":
            self.i += 1
            items = []
            while self.s[self.i] != "]":
                if re.compile(r"[\w-]+=").match(self.s, self.i):
                    items.append(self.results("]"))
                    continue
                items.append(self.value())
                if self.s[self.i] == ",":
                    self.i += 1
            self.i += 1
            return items
        raise AssertionError(f"bad MI value at {self.s[self.i:self.i + 40]!r}")

    def cstring(self):
        self.i += 1
        out = bytearray()
        while self.s[self.i] != '"':
            c = self.s[self.i]
            if c == "\\":
                n = self.s[self.i + 1]
                m = re.compile(r"[0-7]{3}").match(self.s, self.i + 1)
                if m:
                    out.append(int(m.group(0), 8))
                    self.i = m.end()
                    continue
                out += {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "\\": b"\\",
                        "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v", "e": b"\x1b"}[n]
                self.i += 2
                continue
            out += c.encode()
            self.i += 1
        self.i += 1
        return out.decode("utf-8")


class _Rep(list):
    _rep = True


class MI:
    def __init__(self, args):
        self.p = subprocess.Popen([GDB, "-nx", "--interpreter=mi"] + [str(a) for a in args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env=GDB_ENV, cwd=ROOT)
        self.token = 100
        self.cmd(f'-interpreter-exec console "source {ENTRY}"')
        self.cmd("-enable-pretty-printing")
        # whole strings in values (gdb cuts them at 200 characters otherwise);
        # `print repeats` stays: runs are folded and unfolded by gdb_string
        self.cmd("-gdb-set print elements unlimited")

    def cmd(self, command, ok=True):
        """(class, results) of one command: class "done" or "error"."""
        self.token += 1
        t = str(self.token)
        self.p.stdin.write(f"{t}{command}\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            assert line, f"gdb exited during {command}"
            if line.startswith(t + "^"):
                rest = line[len(t) + 1:].rstrip("\n")
                cls, _, body = rest.partition(",")
                res = MIParser(body).results() if body else {}
                if ok:
                    assert cls == "done", f"{command}: {rest[:500]}"
                return cls, res

    def close(self):
        try:
            self.p.stdin.write("-gdb-exit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


def children(mi, name, lo=None, hi=None):
    rng = f" {lo} {hi}" if lo is not None else ""
    _, res = mi.cmd(f"-var-list-children --all-values {name}{rng}")
    out = []
    for item in res.get("children", []):  # [child={..},child={..}]: one results dict
        c = item.get("child", [])
        out += c if isinstance(c, _Rep) else [c]
    return out, res


_CHAR_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
             "e": "\x1b", '"': '"', "\\": "\\", "'": "'"}


def gdb_string(text):
    r"""A string as gdb prints it: "..." pieces, 'c' <repeats N times> runs
    and <incomplete sequence \ooo> joined by ", "."""
    out, i = bytearray(), 0
    while i < len(text):
        if text.startswith('"', i):
            p = PrintParser(text[i:])
            out += p.string().encode()
            i += p.i
        elif text.startswith("'", i):
            m = re.compile(r"'(\\[0-7]{1,3}|\\.|[^'])' <repeats (\d+) times>").match(text, i)
            assert m, text[i:i + 60]
            c = m.group(1)
            if c.startswith("\\") and c[1:].isdigit():
                b = bytes([int(c[1:], 8)])
            elif c.startswith("\\"):
                b = _CHAR_ESC[c[1]].encode()
            else:
                b = c.encode()
            out += b * int(m.group(2))
            i = m.end()
        else:
            m = re.compile(r"<incomplete sequence ((\\[0-7]{1,3})+)>").match(text, i)
            assert m, text[i:i + 60]
            out += bytes(int(o, 8) for o in re.findall(r"[0-7]{1,3}", m.group(1)))
            i = m.end()
        if text.startswith(", ", i):
            i += 2
    return out.decode("utf-8")


def scalar(text, type_name):
    """A leaf's MI value as the truth writes it."""
    if text.startswith(('"', "'")):
        return gdb_string(text)
    if type_name.startswith("*") or type_name == "unsafe.Pointer" or text.startswith("0x"):
        m = re.search(r"0x[0-9a-f]+", text)
        return m.group(0) if m else text
    if text in ("true", "false"):
        return text == "true"
    if text == "{}" or (text == "{...}" and type_name == "struct {}"):
        # a zero-sized struct (map[struct{}]int keys): MI writes a composite
        # value as {...}, here one without children
        return {}
    m = re.match(r"^-?\d+", text)
    if m and re.match(r"^-?\d+( '.*')?$", text):  # 65 'A' for 1-byte integers
        return int(m.group(0))
    return float(text)


def expand(mi, name, info, depth=0):
    """The varobj `name` (its -var-create or child record `info`) as the
    truth writes values; every child listed through MI."""
    assert depth < 8
    hint = info.get("displayhint")
    value, type_name = info.get("value", ""), info.get("type", "")
    if hint == "string":
        return scalar(value, type_name)
    numchild = int(info.get("numchild", "0") or 0)
    dynamic = info.get("dynamic") == "1"
    if not dynamic and numchild == 0:
        return scalar(value, type_name)
    if not dynamic and (type_name.startswith("*") or type_name.endswith("*")
                        or type_name == "unsafe.Pointer" or value.startswith("0x")):
        return scalar(value, type_name)
    kids, res = children(mi, name)
    names = [k["name"] for k in kids]
    assert len(names) == len(set(names)), f"{name}: duplicate child names {names[:10]}"
    if hint == "map" or res.get("displayhint") == "map":
        assert len(kids) % 2 == 0, names
        entries = []
        for k, v in zip(kids[0::2], kids[1::2]):
            entries.append({"key": expand(mi, k["name"], k, depth + 1),
                            "value": expand(mi, v["name"], v, depth + 1)})
        return {"to_string": value, "entries": entries}
    if type_name.startswith("[") or hint == "array":
        return [expand(mi, k["name"], k, depth + 1) for k in kids]
    return {k["exp"]: expand(mi, k["name"], k, depth + 1) for k in kids}


def map_expr(name):
    head, _, field = name.partition(".cfg.")
    return f"'main.cfg'.{field}" if field else f"'{name}'"


@pytest.mark.parametrize("case", maps_samples(), ids=toolchain_ids())
def test_mi_var_children_match_truth(case):
    """-var-create and -var-list-children on every recorded map: unique child
    names, display hint map, and every entry (expanded through MI) the
    program recorded; a nil map has no children."""
    sample = case
    mi = MI([sample.exe, sample.core])
    try:
        for i, m in enumerate(sample.truth["maps"]):
            _, v = mi.cmd(f"-var-create m{i} * {map_expr(m['name'])}")
            assert v.get("displayhint") == "map", (m["name"], v)
            got = expand(mi, f"m{i}", v)
            if m.get("nil"):
                assert got["entries"] == [], m["name"]
                continue
            assert len(got["entries"]) == m["count"], (m["name"], len(got["entries"]))
            assert_entries_equal(m["name"], got["entries"], m["entries"])
    finally:
        mi.close()


@pytest.mark.parametrize("case", maps_samples()[-1:], ids=toolchain_ids()[-1:])
def test_mi_child_ranges(case):
    """An IDE pages through a big map: -var-list-children NAME FROM TO gives
    children FROM..TO-1, named as in the full list, in key/value order."""
    sample = case
    big = next(m for m in sample.truth["maps"] if m["name"] == "main.bigIntMap")
    mi = MI([sample.exe, sample.core])
    try:
        _, v = mi.cmd("-var-create big * 'main.bigIntMap'")
        kids, res = children(mi, "big", 10, 20)
        assert [k["exp"] for k in kids] == [f"[{i}]" for i in range(10, 20)]
        assert res.get("has_more") == "1"
        recorded = {e["key"]: e["value"] for e in big["entries"]}
        for k, val in zip(kids[0::2], kids[1::2]):
            assert recorded[int(k["value"])] == int(val["value"])
        allkids, _ = children(mi, "big")
        assert len(allkids) == 2 * big["count"]
        assert [k["value"] for k in allkids[10:20]] == [k["value"] for k in kids]
    finally:
        mi.close()


def bigmap_cores():
    return [pytest.param(d, id=d.name) for d in sorted(BIGMAP.glob("go1.*"))
            if (d / "core").exists()]


@pytest.mark.parametrize("d", bigmap_cores())
def test_mi_named_map_and_scalars(d):
    """A named map type (main.Header, map[string][]string) and maps of scalar
    kinds through MI: typed children (not text), the recorded entries."""
    truth = {m["name"]: m for m in json.loads((d / "truth.json").read_text())["maps"]}
    mi = MI([d / "exe", d / "core"])
    try:
        _, v = mi.cmd("-var-create h * 'main.header'")
        assert v.get("type") == "main.Header" and v.get("displayhint") == "map", v
        kids, _ = children(mi, "h")
        assert len(kids) == 2 * truth["main.header"]["count"]
        want = {bytes.fromhex(e["key"]["hex"]).decode(): len(e["value"])
                for e in truth["main.header"]["entries"]}
        for k, val in zip(kids[0::2], kids[1::2]):
            assert k["type"] == "string", k
            key = scalar(k["value"], k["type"])
            elems, _ = children(mi, val["name"])
            assert len(elems) == want.pop(key), key
        assert not want
        for name in ("main.uintMap", "main.floatMap"):
            _, v = mi.cmd(f"-var-create x * '{name}'")
            kids, _ = children(mi, "x")
            m = truth[name]
            assert {k["type"] for k in kids[0::2]} == {m["key_type"]}
            got = [{"key": scalar(k["value"], k["type"]), "value": scalar(x["value"], x["type"])}
                   for k, x in zip(kids[0::2], kids[1::2])]
            assert len(got) == m["count"]
            if name == "main.uintMap":
                assert sorted((e["key"], e["value"]) for e in got) == \
                    sorted((e["key"], e["value"]) for e in m["entries"])
            mi.cmd("-var-delete x")
    finally:
        mi.close()
