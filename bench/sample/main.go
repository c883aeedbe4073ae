// Command bigheap is the bench sample: a Go+cgo program that grows a production-sized heap and
// then dies in C through cgo, so that the kernel writes a multi-GiB core.
//
//	bigheap [-scale F] OUTDIR
//
// It builds (at scale 1):
//   - about 10.6 million live Go objects, about 2.2 GiB: four linked lists of pointerful records
//     (16, 48, 112 and 256 bytes), a million small byte slices the largest records point to, and
//     byte blobs of 4 KiB, 32 KiB and 1 MiB filled with non-zero bytes;
//   - the global main.benchMap, a map[int]int of 1.2 million entries, grown by inserts;
//   - a glibc heap of one million chunks of 16..240 bytes malloc'd from C and kept in a table C
//     owns, every 16th chunk freed again;
//   - 1,000 parked goroutines.
//
// Then it runs a full GC, writes OUTDIR/truth.json (what it built, and a few addresses with what
// they are) and OUTDIR/addrs.txt (100,000 addresses for the batch-classification task, one hex
// address a line), and calls C code that writes through a NULL pointer. Run it with
// GOTRACEBACK=crash and `ulimit -c unlimited`: Go re-raises the SIGSEGV as SIGABRT and the kernel
// writes the core.
package main

/*
#cgo CFLAGS: -O1 -g
#include "bigc.h"
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"unsafe"
)

// The main goroutine stays on the main thread, so the C allocations land in glibc's main arena.
func init() { runtime.LockOSThread() }

type rec16 struct {
	next *rec16
	v    int64
}

type rec48 struct {
	next *rec48
	a    [5]int64
}

type rec112 struct {
	next *rec112
	a    [13]int64
}

type rec256 struct {
	next *rec256
	name []byte
	a    [28]int64
}

var (
	benchMap map[int]int
	list16   *rec16
	list48   *rec48
	list112  *rec112
	list256  *rec256
	names    [][]byte
	blobs    [][]byte
	parked   = make(chan struct{})
)

// sample is one Go object the program remembers the address of (the object stays reachable
// from the lists above; the GC does not move objects).
type sample struct {
	addr uintptr
	size uintptr
}

type kind struct {
	name    string
	count   int
	size    uintptr
	samples []sample
}

type Addr struct {
	Addr   string `json:"addr"`
	What   string `json:"what"`
	Region string `json:"region"`
	State  string `json:"state"`
}

type KindTruth struct {
	Type    string `json:"type"`
	Count   int    `json:"count"`
	Size    uint64 `json:"size"`
	Samples int    `json:"samples"`
}

type Truth struct {
	Program    string         `json:"program"`
	GoVersion  string         `json:"go_version"`
	MapImpl    string         `json:"map_impl"`
	Scale      float64        `json:"scale"`
	Pid        int            `json:"pid"`
	Map        map[string]any `json:"map"`
	GoHeap     map[string]any `json:"go_heap"`
	CHeap      map[string]any `json:"c_heap"`
	Goroutines int            `json:"goroutines"`
	Addresses  []Addr         `json:"addresses"`
	AddrsFile  map[string]any `json:"addrs_file"`
}

func hex(p uintptr) string { return fmt.Sprintf("0x%x", p) }

func scaled(n int, f float64) int {
	v := int(float64(n) * f)
	if v < 1 {
		v = 1
	}
	return v
}

// every returns the sampling stride that keeps about want samples of n objects.
func every(n, want int) int {
	if n <= want {
		return 1
	}
	return n / want
}

func fill(b []byte, seed int) {
	for i := range b {
		b[i] = byte(i+seed) | 1
	}
}

func buildGoHeap(scale float64) []*kind {
	const want = 20000
	k16 := &kind{name: "main.rec16", count: scaled(3_000_000, scale), size: unsafe.Sizeof(rec16{})}
	k48 := &kind{name: "main.rec48", count: scaled(3_000_000, scale), size: unsafe.Sizeof(rec48{})}
	k112 := &kind{name: "main.rec112", count: scaled(2_000_000, scale), size: unsafe.Sizeof(rec112{})}
	k256 := &kind{name: "main.rec256", count: scaled(1_500_000, scale), size: unsafe.Sizeof(rec256{})}
	kname := &kind{name: "[]byte (24..64 bytes)", count: scaled(1_000_000, scale)}
	k4k := &kind{name: "[]byte (4 KiB)", count: scaled(100_000, scale), size: 4 << 10}
	k32k := &kind{name: "[]byte (32 KiB)", count: scaled(10_000, scale), size: 32 << 10}
	k1m := &kind{name: "[]byte (1 MiB)", count: scaled(700, scale), size: 1 << 20}

	names = make([][]byte, kname.count)
	st := every(kname.count, want)
	for i := range names {
		b := make([]byte, 24+i%41)
		fill(b, i)
		names[i] = b
		if i%st == 0 {
			kname.samples = append(kname.samples, sample{uintptr(unsafe.Pointer(&b[0])), uintptr(len(b))})
		}
	}
	st = every(k16.count, want)
	for i := 0; i < k16.count; i++ {
		r := &rec16{next: list16, v: int64(i)}
		list16 = r
		if i%st == 0 {
			k16.samples = append(k16.samples, sample{uintptr(unsafe.Pointer(r)), k16.size})
		}
	}
	st = every(k48.count, want)
	for i := 0; i < k48.count; i++ {
		r := &rec48{next: list48}
		r.a[0] = int64(i)
		list48 = r
		if i%st == 0 {
			k48.samples = append(k48.samples, sample{uintptr(unsafe.Pointer(r)), k48.size})
		}
	}
	st = every(k112.count, want)
	for i := 0; i < k112.count; i++ {
		r := &rec112{next: list112}
		r.a[0] = int64(i)
		list112 = r
		if i%st == 0 {
			k112.samples = append(k112.samples, sample{uintptr(unsafe.Pointer(r)), k112.size})
		}
	}
	st = every(k256.count, want)
	for i := 0; i < k256.count; i++ {
		r := &rec256{next: list256, name: names[i%len(names)]}
		r.a[0] = int64(i)
		list256 = r
		if i%st == 0 {
			k256.samples = append(k256.samples, sample{uintptr(unsafe.Pointer(r)), k256.size})
		}
	}
	blobs = make([][]byte, 0, k4k.count+k32k.count+k1m.count)
	for _, k := range []*kind{k4k, k32k, k1m} {
		st = every(k.count, want)
		for i := 0; i < k.count; i++ {
			b := make([]byte, k.size)
			fill(b, i)
			blobs = append(blobs, b)
			if i%st == 0 {
				k.samples = append(k.samples, sample{uintptr(unsafe.Pointer(&b[0])), k.size})
			}
		}
	}
	return []*kind{k16, k48, k112, k256, kname, k4k, k32k, k1m}
}

func buildMap(n int) {
	benchMap = make(map[int]int) // no size hint: it grows the way a service's map grows
	for i := 0; i < n; i++ {
		benchMap[i*7+3] = i
	}
}

//go:noinline
func park(depth int) {
	if depth > 0 {
		park(depth - 1)
		return
	}
	<-parked
}

// mapHeader is the address the map variable holds (a *hmap, or a *maps.Map with Swiss tables).
func mapHeader() uintptr { return *(*uintptr)(unsafe.Pointer(&benchMap)) }

func main() {
	scale := flag.Float64("scale", 1, "multiply every count by this (for quick trials)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: bigheap [-scale F] OUTDIR")
		os.Exit(64)
	}
	outdir := flag.Arg(0)
	debug.SetTraceback("crash")
	// No GC while the heap is built: nothing here is garbage but the map's outgrown storage,
	// and a full GC runs once at the end.
	debug.SetGCPercent(-1)

	const nGoroutines = 1000
	for i := 0; i < nGoroutines; i++ {
		go park(i % 8)
	}
	kinds := buildGoHeap(*scale)
	nMap := scaled(1_200_000, *scale)
	buildMap(nMap)

	nC := scaled(1_000_000, *scale)
	const freeEvery = 16
	freed := int(C.bigc_alloc(C.size_t(nC), 12345, freeEvery))

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	rng := rand.New(rand.NewSource(1))
	t := Truth{
		Program:   "bigheap",
		GoVersion: runtime.Version(),
		MapImpl:   mapImpl,
		Scale:     *scale,
		Pid:       os.Getpid(),
		Map: map[string]any{
			"name": "main.benchMap", "key_type": "int", "elem_type": "int", "count": len(benchMap),
			"addr": hex(mapHeader()), "keys": "i*7+3 for i in [0,count)", "values": "i",
		},
		CHeap: map[string]any{
			"chunks": nC, "freed": freed, "live": nC - freed, "free_every": freeEvery,
			"user_sizes": "16..240", "arena": "main",
		},
		Goroutines: runtime.NumGoroutine(),
	}
	var kt []KindTruth
	var objs int
	var bytes uint64
	for _, k := range kinds {
		sz := uint64(k.size)
		if sz == 0 {
			sz = 44 // mean of 24..64
		}
		kt = append(kt, KindTruth{Type: k.name, Count: k.count, Size: uint64(k.size), Samples: len(k.samples)})
		objs += k.count
		bytes += uint64(k.count) * sz
	}
	t.GoHeap = map[string]any{
		"kinds": kt, "objects_built": objs, "bytes_built": bytes,
		"heap_alloc": ms.HeapAlloc, "heap_objects": ms.HeapObjects, "heap_inuse": ms.HeapInuse,
		"heap_sys": ms.HeapSys, "num_gc": ms.NumGC,
	}

	// A few addresses with what they are.
	k48, k256, k1m := kinds[1], kinds[3], kinds[7]
	liveC, freeC := 0, freeEvery-1
	t.Addresses = []Addr{
		{hex(k48.samples[0].addr), "main.rec48 object (base)", "go-heap", "allocated"},
		{hex(k256.samples[1].addr + 100), "main.rec256 object + 100", "go-heap", "allocated"},
		{hex(k1m.samples[0].addr + 12345), "1 MiB []byte blob + 12345", "go-heap", "allocated"},
		{hex(mapHeader()), "main.benchMap's header", "go-heap", "allocated"},
		{hex(uintptr(C.bigc_chunk(C.size_t(liveC)))), fmt.Sprintf("C chunk #%d (user pointer, %d bytes)", liveC, int(C.bigc_req(C.size_t(liveC)))), "c-heap", "allocated"},
		{hex(uintptr(C.bigc_chunk(C.size_t(freeC)))), fmt.Sprintf("C chunk #%d, freed (user pointer)", freeC), "c-heap", "free"},
		{hex(uintptr(unsafe.Pointer(&benchMap))), "the global main.benchMap", "image", ""},
		{"0x10", "NULL + 16", "unmapped", ""},
	}

	// The batch-classification input: 100,000 addresses, shuffled.
	const nAddrs = 100000
	var heapSamples []sample
	for _, k := range kinds {
		heapSamples = append(heapSamples, k.samples...)
	}
	globals := []uintptr{
		uintptr(unsafe.Pointer(&benchMap)), uintptr(unsafe.Pointer(&list16)),
		uintptr(unsafe.Pointer(&names)), uintptr(unsafe.Pointer(&blobs)),
		reflect.ValueOf(main).Pointer(), reflect.ValueOf(buildMap).Pointer(),
	}
	mix := map[string]int{}
	addrs := make([]uintptr, 0, nAddrs)
	for len(addrs) < nAddrs {
		r := rng.Intn(100)
		switch {
		case r < 65:
			s := heapSamples[rng.Intn(len(heapSamples))]
			addrs = append(addrs, s.addr+uintptr(rng.Int63n(int64(s.size))))
			mix["go-heap"]++
		case r < 90:
			i := rng.Intn(nC)
			addrs = append(addrs, uintptr(C.bigc_chunk(C.size_t(i)))+uintptr(rng.Intn(int(C.bigc_req(C.size_t(i))))))
			mix["c-heap"]++
		case r < 95:
			addrs = append(addrs, globals[rng.Intn(len(globals))]+uintptr(rng.Intn(256)))
			mix["image"]++
		case r < 97:
			addrs = append(addrs, uintptr(rng.Intn(1<<16)))
			mix["null-page"]++
		default:
			addrs = append(addrs, 0xdead000000000000|uintptr(rng.Int63n(1<<40)))
			mix["non-canonical"]++
		}
	}
	var sb strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&sb, "0x%x\n", a)
	}
	must(os.WriteFile(filepath.Join(outdir, "addrs.txt"), []byte(sb.String()), 0o644))
	t.AddrsFile = map[string]any{"path": "addrs.txt", "count": len(addrs), "mix": mix}

	js, err := json.MarshalIndent(t, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(outdir, "truth.json"), append(js, '\n'), 0o644))
	fmt.Fprintf(os.Stderr, "bigheap: %d Go objects built, heap_alloc %d MiB, map %d entries, %d C chunks (%d freed); crashing\n",
		objs, ms.HeapAlloc>>20, len(benchMap), nC, freed)
	crash()
}

//go:noinline
func crash() { C.bigc_crash() }

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigheap:", err)
		os.Exit(1)
	}
}
