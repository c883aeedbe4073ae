// Command bigmap fills maps big enough to measure the gdb printers on (100,000
// entries of map[int]int and map[string]int) and small maps of every scalar kind
// the printers render themselves, writes what it put in them to OUTDIR/truth.json,
// then crashes (GOTRACEBACK=crash: SIGABRT, a core).
//
//	GOTRACEBACK=crash bigmap OUTDIR
//
// truth.json: {"go_version", "maps": [{"name", "key_type", "elem_type", "count",
// "entries": [{"key", "value"}]}]}. Strings are recorded as their bytes in hex
// ({"hex": "6162"}): JSON cannot hold invalid UTF-8, and the printers must show
// every byte.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Header is a named map type: the printers must know it is a map from DWARF,
// not from its name.
type Header map[string][]string

type node struct{ id int }

var (
	bigIntMap map[int]int
	bigStrMap map[string]int
	strStrMap map[string]string
	floatMap  map[float64]float32
	boolMap   map[bool]uint8
	smallInts map[int8]uint64
	uintMap   map[uint32]int16
	header    Header
	ptrMap    map[string]*node
	runeMap   map[rune]byte
	keepAlive []*node
	// as in Go's runtime-gdb_test.go (its TestGdbPython program), whose
	// expected `print` output tests/test_gdb_bigmap.py reads from that file
	smallmapvar map[string]string
	mapvar      map[string]string
)

type entry struct {
	Key   any `json:"key"`
	Value any `json:"value"`
}

type mapTruth struct {
	Name     string  `json:"name"`
	KeyType  string  `json:"key_type"`
	ElemType string  `json:"elem_type"`
	Count    int     `json:"count"`
	Entries  []entry `json:"entries"`
}

func str(s string) any { return map[string]string{"hex": hex.EncodeToString([]byte(s))} }

// special: strings whose printing needs care (escapes, invalid UTF-8, runs
// that gdb folds with <repeats N times>, longer than `print elements`).
var special = []string{
	"", "plain", "tab\there", "nl\nx", "cr\rx", "quote\"q", "back\\slash", "bell\a",
	"nul\x00byte", "\x01\x02ctl", "del\x7f", "esc\x1b[0m", "caf\u00e9", "\u65e5\u672c\u8a9e",
	"emoji \U0001F600", "bad\xff\xfeutf8", "trunc\xe6\x97", "'single'",
	strings.Repeat("a", 11), strings.Repeat("ab", 30), strings.Repeat("x", 300),
	"zero width\u200b", "nbsp\u00a0", "\u2028sep",
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bigmap OUTDIR")
		os.Exit(64)
	}
	var maps []mapTruth
	add := func(name, k, v string, n int, es []entry) {
		maps = append(maps, mapTruth{Name: name, KeyType: k, ElemType: v, Count: n, Entries: es})
	}
	const n = 100000

	bigIntMap = make(map[int]int)
	var es []entry
	for i := 0; i < n; i++ {
		k, v := i*7919-300000, i*i-17
		bigIntMap[k] = v
		es = append(es, entry{k, v})
	}
	add("main.bigIntMap", "int", "int", len(bigIntMap), es)

	bigStrMap = make(map[string]int)
	es = nil
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("key-%06d", i)
		if i < len(special) {
			k = special[i]
		}
		bigStrMap[k] = -i
		es = append(es, entry{str(k), -i})
	}
	add("main.bigStrMap", "string", "int", len(bigStrMap), es)

	strStrMap = make(map[string]string)
	es = nil
	for i, s := range special {
		v := special[(i+5)%len(special)]
		strStrMap[s] = v
		es = append(es, entry{str(s), str(v)})
	}
	add("main.strStrMap", "string", "string", len(strStrMap), es)

	floatMap = make(map[float64]float32)
	es = nil
	for i, f := range []float64{0, 0.1, -2.5, 1e300, 1e-300, math.Pi, 123456789.125, -0.0001, 1 << 53, 3} {
		v := float32(i)*0.37 - 1
		floatMap[f] = v
		es = append(es, entry{f, float64(v)})
	}
	add("main.floatMap", "float64", "float32", len(floatMap), es)

	boolMap = map[bool]uint8{true: 255, false: 0}
	add("main.boolMap", "bool", "uint8", 2, []entry{{true, 255}, {false, 0}})

	smallInts = make(map[int8]uint64)
	es = nil
	for i := -128; i < 128; i += 5 {
		v := uint64(math.MaxUint64) - uint64(i+128)
		smallInts[int8(i)] = v
		es = append(es, entry{i, v})
	}
	add("main.smallInts", "int8", "uint64", len(smallInts), es)

	uintMap = make(map[uint32]int16)
	es = nil
	for i := 0; i < 40; i++ {
		k, v := uint32(math.MaxUint32-i*1000), int16(-32768+i*1000)
		uintMap[k] = v
		es = append(es, entry{k, v})
	}
	add("main.uintMap", "uint32", "int16", len(uintMap), es)

	runeMap = make(map[rune]byte)
	es = nil
	for i, r := range "a\u00e9\u65e5\U0001F600" {
		runeMap[r] = byte(i)
		es = append(es, entry{int(r), i})
	}
	add("main.runeMap", "int32", "uint8", len(runeMap), es)

	header = Header{"Accept": {"text/html", "*/*"}, "X-Empty": {}, "Cookie": {"a=1"}}
	es = nil
	for k, v := range header {
		vs := []any{}
		for _, s := range v {
			vs = append(vs, str(s))
		}
		es = append(es, entry{str(k), vs})
	}
	add("main.header", "string", "[]string", len(header), es)

	ptrMap = make(map[string]*node)
	es = nil
	for i := 0; i < 5; i++ {
		p := &node{id: i}
		keepAlive = append(keepAlive, p)
		k := fmt.Sprintf("n%d", i)
		ptrMap[k] = p
		es = append(es, entry{str(k), map[string]int{"id": i}})
	}
	add("main.ptrMap", "string", "*main.node", len(ptrMap), es)

	smallmapvar = map[string]string{"abc": "def"}
	mapvar = make(map[string]string, 10)
	mapvar["abc"] = "def"
	mapvar["ghi"] = "jkl"
	add("main.smallmapvar", "string", "string", 1, []entry{{str("abc"), str("def")}})
	add("main.mapvar", "string", "string", 2, []entry{{str("abc"), str("def")}, {str("ghi"), str("jkl")}})

	data, err := json.MarshalIndent(map[string]any{"go_version": runtime.Version(), "maps": maps}, "", " ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(os.Args[1], "truth.json"), data, 0o644); err != nil {
		panic(err)
	}
	runtime.KeepAlive(keepAlive)
	panic("bigmap: crashing for a core")
}
