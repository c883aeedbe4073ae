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
)

// Truth is the schema of truth.json (samples/README.md, "The libxml2 suite").
type Truth struct {
	Suite       string         `json:"suite"`
	Case        string         `json:"case"`
	Program     string         `json:"program"`
	GoVersion   string         `json:"go_version"`
	Library     string         `json:"library"`
	LibraryFile string         `json:"library_file,omitempty"`
	Pid         int            `json:"pid"`
	Godebug     string         `json:"godebug,omitempty"`
	Addresses   []Addr         `json:"addresses"`
	Maps        []MapTruth     `json:"maps,omitempty"`
	Crash       map[string]any `json:"crash"`
	Notes       []string       `json:"notes,omitempty"`
}

// Addr is one address with its expected classification.
type Addr struct {
	Addr   string         `json:"addr"`
	What   string         `json:"what"`
	Region string         `json:"region"`
	State  string         `json:"state"`
	Detail map[string]any `json:"detail,omitempty"`
}

// MapTruth describes one Go map reachable from a global (no implementation internals here).
type MapTruth struct {
	Name     string  `json:"name"`
	Addr     string  `json:"addr,omitempty"`
	KeyType  string  `json:"key_type"`
	ElemType string  `json:"elem_type"`
	Count    int     `json:"count"`
	Entries  []Entry `json:"entries"`
}

// Entry is one key/value pair.
type Entry struct {
	Key   any `json:"key"`
	Value any `json:"value"`
}

func newTruth(name string) *Truth {
	return &Truth{
		Suite:       "libsuite",
		Case:        name,
		Program:     "xmlcrash",
		GoVersion:   runtime.Version(),
		Library:     libraryVersion(),
		LibraryFile: libraryFile(),
		Pid:         os.Getpid(),
		Godebug:     os.Getenv("GODEBUG"),
		Addresses:   []Addr{},
		Crash:       map[string]any{},
	}
}

func hexp(p uintptr) string { return "0x" + strconv.FormatUint(uint64(p), 16) }

func (t *Truth) add(a Addr) { t.Addresses = append(t.Addresses, a) }

func (t *Truth) note(format string, args ...any) {
	t.Notes = append(t.Notes, fmt.Sprintf(format, args...))
}

// write marshals the truth and writes it: write + fsync + close, before the crash.
func (t *Truth) write(outdir string) {
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
	if _, err := f.Write(buf.Bytes()); err != nil {
		die("write truth: %v", err)
	}
	if err := f.Sync(); err != nil {
		die("fsync truth: %v", err)
	}
	if err := f.Close(); err != nil {
		die("close truth: %v", err)
	}
}

// libraryFile is the libxml2 file mapped into this process (from /proc/self/maps).
func libraryFile() string {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 && strings.Contains(filepath.Base(f[5]), "libxml2.so") {
			return f[5]
		}
	}
	return ""
}

// ---- Go values to JSON (as in samples/go/crasher/truth.go) ----

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
	}
	panic(fmt.Sprintf("jsonValue: unsupported kind %s", v.Kind()))
}

// mapTruth describes the map m held by the global called name ("main.docs").
func mapTruth(name string, m any) MapTruth {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map {
		die("mapTruth %s: not a map", name)
	}
	mt := MapTruth{Name: name, KeyType: v.Type().Key().String(), ElemType: v.Type().Elem().String(),
		Count: v.Len(), Entries: []Entry{}}
	if v.IsNil() {
		return mt
	}
	mt.Addr = hexp(v.Pointer())
	it := v.MapRange()
	for it.Next() {
		mt.Entries = append(mt.Entries, Entry{jsonValue(it.Key()), jsonValue(it.Value())})
	}
	sort.Slice(mt.Entries, func(i, j int) bool {
		a, _ := json.Marshal(mt.Entries[i].Key)
		b, _ := json.Marshal(mt.Entries[j].Key)
		return string(a) < string(b)
	})
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
