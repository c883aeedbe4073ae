package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// Truth is the schema of truth.json (see samples/README.md).
type Truth struct {
	Scenario  string         `json:"scenario"`
	Program   string         `json:"program"`
	GoVersion string         `json:"go_version"`
	MapImpl   string         `json:"map_impl"`
	Pid       int            `json:"pid"`
	Addresses []Addr         `json:"addresses"`
	Maps      []MapTruth     `json:"maps"`
	Crash     map[string]any `json:"crash"`
	Notes     []string       `json:"notes,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"` // scenario-specific truth (cgocheck)
}

// Addr is one address with its expected classification.
type Addr struct {
	Addr   string         `json:"addr"`
	What   string         `json:"what"`
	Region string         `json:"region"`
	State  string         `json:"state"`
	Detail map[string]any `json:"detail,omitempty"`
}

// MapTruth describes one Go map reachable from a global.
type MapTruth struct {
	Name      string         `json:"name"`
	Type      string         `json:"type"` // as reflect names it: main.Header, map[string]int
	Named     bool           `json:"named,omitempty"`
	Addr      string         `json:"addr,omitempty"`
	KeyType   string         `json:"key_type"`
	ElemType  string         `json:"elem_type"`
	Count     int            `json:"count"`
	Nil       bool           `json:"nil,omitempty"`
	Growing   *bool          `json:"growing,omitempty"`
	Internals map[string]any `json:"internals,omitempty"`
	Entries   []Entry        `json:"entries"`
}

// Entry is one key/value pair.
type Entry struct {
	Key   any `json:"key"`
	Value any `json:"value"`
}

func newTruth(scenario string) *Truth {
	return &Truth{
		Scenario:  scenario,
		Program:   "crasher",
		GoVersion: runtime.Version(),
		MapImpl:   mapImpl,
		Pid:       os.Getpid(),
		Addresses: []Addr{},
		Maps:      []MapTruth{},
		Crash:     map[string]any{},
	}
}

func hexp(p uintptr) string { return "0x" + strconv.FormatUint(uint64(p), 16) }

func (t *Truth) add(a Addr) { t.Addresses = append(t.Addresses, a) }

// pendingTruth is a truth already marshalled with its file already open: committing it
// allocates nothing on the Go heap and calls no malloc.
type pendingTruth struct {
	f    *os.File
	data []byte
}

func (t *Truth) prepare(outdir string) *pendingTruth {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		die("marshal truth: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(outdir, "truth.json"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		die("%v", err)
	}
	return &pendingTruth{f: f, data: buf.Bytes()}
}

func (p *pendingTruth) commit() {
	if _, err := p.f.Write(p.data); err != nil {
		die("write truth: %v", err)
	}
	if err := p.f.Sync(); err != nil {
		die("fsync truth: %v", err)
	}
	if err := p.f.Close(); err != nil {
		die("close truth: %v", err)
	}
}

func (t *Truth) write(outdir string) { t.prepare(outdir).commit() }

// ---- Go values to JSON, the truth's entry format ----

// jsonValue renders a Go value: integers as numbers, strings as strings, bools, pointers as
// "0x..." strings, structs as objects keyed by Go field name, arrays as arrays, maps as
// {"addr","key_type","elem_type","count","entries"} objects (nil map: null).
func jsonValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.String:
		return v.String()
	case reflect.Ptr, reflect.UnsafePointer:
		return hexp(v.Pointer())
	case reflect.Struct:
		o := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			o[v.Type().Field(i).Name] = jsonValue(v.Field(i))
		}
		return o
	case reflect.Array, reflect.Slice:
		a := make([]any, v.Len())
		for i := range a {
			a[i] = jsonValue(v.Index(i))
		}
		return a
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		return map[string]any{
			"addr":      hexp(v.Pointer()),
			"key_type":  v.Type().Key().String(),
			"elem_type": v.Type().Elem().String(),
			"count":     v.Len(),
			"entries":   mapEntries(v),
		}
	}
	panic(fmt.Sprintf("jsonValue: unsupported kind %s", v.Kind()))
}

func mapEntries(v reflect.Value) []Entry {
	type kv struct {
		num     *float64
		sortKey string
		e       Entry
	}
	var all []kv
	it := v.MapRange()
	for it.Next() {
		k := jsonValue(it.Key())
		sk, _ := json.Marshal(k)
		x := kv{sortKey: string(sk), e: Entry{k, jsonValue(it.Value())}}
		switch n := k.(type) {
		case int64:
			f := float64(n)
			x.num = &f
		case uint64:
			f := float64(n)
			x.num = &f
		}
		all = append(all, x)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].num != nil && all[j].num != nil {
			return *all[i].num < *all[j].num
		}
		return all[i].sortKey < all[j].sortKey
	})
	out := make([]Entry, len(all))
	for i := range all {
		out[i] = all[i].e
	}
	return out
}

// mapTruth describes the map value m held by the global called name ("main.x",
// "main.cfg.byName"). It reads the map's own header for the implementation details.
func mapTruth(name string, m any) MapTruth {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map {
		die("mapTruth %s: not a map", name)
	}
	mt := MapTruth{
		Name:     name,
		Type:     v.Type().String(),
		Named:    v.Type().Name() != "",
		KeyType:  v.Type().Key().String(),
		ElemType: v.Type().Elem().String(),
		Count:    v.Len(),
		Entries:  []Entry{},
	}
	if v.IsNil() {
		mt.Nil = true
		return mt
	}
	h := unsafe.Pointer(v.Pointer())
	mt.Addr = hexp(uintptr(h))
	mt.Growing = mapGrowing(h)
	mt.Internals = mapInternals(h)
	mapGrowthTruth(h, v.Type(), mt.Internals)
	mt.Entries = mapEntries(v)
	if len(mt.Entries) != mt.Count {
		die("mapTruth %s: %d entries but len %d", name, len(mt.Entries), mt.Count)
	}
	return mt
}

// goid of the calling goroutine, from the first line of its stack trace.
func curGoid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := strings.Fields(string(buf[:n]))
	if len(f) < 2 || f[0] != "goroutine" {
		return -1
	}
	id, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return -1
	}
	return id
}

// reflectMapPointer is the map header pointer of a map value.
func reflectMapPointer(m any) uintptr { return reflect.ValueOf(m).Pointer() }
