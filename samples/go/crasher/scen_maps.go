package main

// #include "crasher.h"
import "C"

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// ---- the maps (every global map of package main in this scenario) ----

type structKey struct {
	A int32
	B string
}

// bigVal is 208 bytes (> 128: stored out of line, the bucket/group holds a pointer).
type bigVal struct {
	ID   int64
	Tag  string
	Data [23]int64
}

type node struct {
	ID   int
	Next *node
}

// Header is a named map type (as net/http.Header): DWARF names the map main.Header.
type Header map[string][]string

var (
	nilMap      map[string]int
	emptyMap    map[string]int
	smallMap    map[string]int                  // <= 8 entries
	bigIntMap   map[int]int                     // 3000 entries (several Swiss tables)
	int64StrMap map[int64]string                // 100 entries
	growingMap  map[int]int                     // 53 = 6.5*2^3+1 entries: classic maps are mid-growth
	bigKVMap    map[[20]int64]bigVal            // key 160 bytes, value 208 bytes
	structMap   map[structKey]int               // struct keys
	strMap      map[string]string               // string keys and values
	nestedMap   map[string]map[string]int       // nested
	cptrMap     map[string]unsafe.Pointer       // C chunks (live)
	tombMap     map[int]int                     // 100 inserted, 40 deleted
	flagMap     map[string]bool                 // bools
	ptrKeyMap   map[*node]int                   // pointer keys (the keys keep the nodes alive)
	cfg         struct{ byName map[string]int } // a map inside a global struct
	namedMap    Header                          // a named map type
	zeroKeyMap  map[struct{}]int                // zero-sized key: one entry at most
	zeroValMap  map[int]struct{}                // zero-sized values (a set)
)

// mapNames are the globals' paths as the symbols/DWARF name them, in mapValues() order.
var mapNames = []string{"main.nilMap", "main.emptyMap", "main.smallMap", "main.bigIntMap",
	"main.int64StrMap", "main.growingMap", "main.bigKVMap", "main.structMap", "main.strMap",
	"main.nestedMap", "main.cptrMap", "main.tombMap", "main.flagMap", "main.ptrKeyMap",
	"main.cfg.byName", "main.namedMap", "main.zeroKeyMap", "main.zeroValMap"}

var goGlobalVar int64 = 0x60d1

func buildMaps() {
	emptyMap = make(map[string]int)
	smallMap = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
	bigIntMap = make(map[int]int)
	for i := 0; i < 3000; i++ {
		bigIntMap[i*7+1] = i * i
	}
	int64StrMap = make(map[int64]string)
	for i := int64(0); i < 100; i++ {
		k := i*1000003 - 50000000
		switch i % 4 {
		case 0:
			int64StrMap[k] = "value-" + strconv.FormatInt(i, 10)
		case 1:
			int64StrMap[k] = "héllo wörld " + strconv.FormatInt(i, 10)
		case 2:
			int64StrMap[k] = "日本語 " + strings.Repeat("x", int(i%40))
		default:
			int64StrMap[k] = ""
		}
	}
	growingMap = make(map[int]int)
	for i := 0; i < 53; i++ { // 6.5*2^3+1: the 53rd insert starts growing B=3 -> B=4
		growingMap[i*11] = -i
	}
	bigKVMap = make(map[[20]int64]bigVal)
	for i := int64(0); i < 6; i++ {
		var k [20]int64
		for j := range k {
			k[j] = i*100 + int64(j)
		}
		v := bigVal{ID: i, Tag: "big-" + strconv.FormatInt(i, 10)}
		for j := range v.Data {
			v.Data[j] = i*1000 + int64(j)
		}
		bigKVMap[k] = v
	}
	structMap = make(map[structKey]int)
	for i := 0; i < 20; i++ {
		structMap[structKey{A: int32(i - 10), B: "sk" + strconv.Itoa(i%7)}] = i * 10
	}
	strMap = map[string]string{"": "empty key", "alpha": "a", "beta": "b", "gamma": "",
		"ünïcödé": "ok", "with space": "v", "long-" + strings.Repeat("k", 100): strings.Repeat("v", 300)}
	for i := 0; i < 23; i++ {
		strMap["s"+strconv.Itoa(i)] = "v" + strconv.Itoa(i*i)
	}
	nestedMap = map[string]map[string]int{
		"a":     {"x": 1, "y": 2},
		"b":     {},
		"big":   make(map[string]int),
		"third": {"p": -1},
	}
	for i := 0; i < 20; i++ {
		nestedMap["big"]["n"+strconv.Itoa(i)] = i
	}
	tombMap = make(map[int]int)
	for i := 0; i < 100; i++ {
		tombMap[i] = i + 1000
	}
	for i := 0; i < 100; i++ {
		if i%5 < 2 { // 40 deletions
			delete(tombMap, i)
		}
	}
	flagMap = map[string]bool{"on": true, "off": false, "maybe": true}
	ptrKeyMap = make(map[*node]int)
	var prev *node
	for i := 0; i < 5; i++ {
		n := &node{ID: i, Next: prev}
		ptrKeyMap[n] = i
		prev = n
	}
	cfg.byName = map[string]int{"alpha": 1, "beta": 2, "gamma": 3}
	namedMap = Header{"Accept": {"text/html", "application/json"}, "Host": {"example.com"},
		"X-Empty": {}}
	zeroKeyMap = map[struct{}]int{{}: 42}
	zeroValMap = make(map[int]struct{})
	for i := 0; i < 12; i++ { // more than a bucket/group: 2 buckets, a table of 2 groups
		zeroValMap[i*3] = struct{}{}
	}
}

func mapValues() []any {
	return []any{nilMap, emptyMap, smallMap, bigIntMap, int64StrMap, growingMap, bigKVMap, structMap, strMap, nestedMap, cptrMap, tombMap, flagMap, ptrKeyMap, cfg.byName, namedMap, zeroKeyMap, zeroValMap}
}

// ---- Go heap objects of several kinds ----

type smallScan struct { // 48 bytes, has pointers: size class 48, no header
	p *int
	a [5]int64
}

type kib struct { // 1024 bytes, has pointers: header + 1024 = 1032 -> size class 1152
	p    *byte
	data [127]int64
}

const magic1536 = 0x1536f3ee

type slot1536 struct { // 1500 bytes, has pointers: header + 1500 -> size class 1536 (5 per page)
	p    *byte
	data [186]int64
	tail [4]byte
}

var (
	tinyObj    *[12]byte    // tiny allocator (noscan < 16 bytes): a 16-byte block
	smallObj   *smallScan   // 48
	kibObj     *kib         // 1152 with header
	largeObj   *[5000]int64 // 40000 bytes: large object, 5 pages
	keep1536   []*slot1536  // neighbours of the freed 1536 slot
	victim1536 *slot1536    // dropped (and collected) right before the crash
	intTarget  int
)

//go:noinline
func allocObjects() (victim uintptr) {
	tinyObj = new([12]byte)
	tinyObj[0] = 1
	smallObj = &smallScan{p: &intTarget}
	kibObj = &kib{}
	largeObj = new([5000]int64)
	largeObj[0] = 7
	all := make([]*slot1536, 10)
	for i := range all {
		all[i] = &slot1536{}
		all[i].data[0] = magic1536
	}
	v := -1
	for i := 1; i < len(all)-1 && v < 0; i++ {
		a, b, c := uintptr(unsafe.Pointer(all[i-1])), uintptr(unsafe.Pointer(all[i])), uintptr(unsafe.Pointer(all[i+1]))
		if b-a == 1536 && c-b == 1536 {
			v = i
		}
	}
	if v < 0 {
		die("maps: no 1536-byte object with both neighbours in its span")
	}
	victim1536 = all[v]
	for i, s := range all {
		if i != v {
			keep1536 = append(keep1536, s)
		}
		all[i] = nil
	}
	return uintptr(unsafe.Pointer(victim1536))
}

// ---- a parked goroutine ----

// parkedWorker reports the address of one of its locals and parks on a channel receive for
// good. It stays on its starting stack (the minimum size, which the GC never shrinks, and its
// few small frames never grow it), so the address stays valid until the crash.
//
//go:noinline
func parkedWorker(report chan<- uintptr, block <-chan struct{}) {
	var local [4]uint64
	local[0] = 0x57ac4
	report <- uintptr(unsafe.Pointer(&local[0]))
	<-block
	local[1] = local[0]
}

// goidOf finds the goroutine whose stack trace has fn in it, once it is parked with the given
// wait reason ("goroutine 18 [chan receive]:").
func goidOf(fn, reason string) int64 {
	buf := make([]byte, 1<<16)
	for try := 0; try < 1000; try++ {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if !strings.Contains(g, "\n"+fn+"(") {
				continue
			}
			// "goroutine 18 [chan receive]:" (with GOTRACEBACK=crash, Go >= 1.23 puts
			// "gp=... m=... mp=..." before the bracket)
			f := strings.Fields(g)
			i := strings.Index(g, "[")
			if len(f) < 3 || f[0] != "goroutine" || i < 0 || !strings.HasPrefix(g[i+1:], reason) {
				continue
			}
			if id, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return id
			}
		}
		time.Sleep(time.Millisecond)
	}
	warn("maps: goroutine running %s not found parked (%s)", fn, reason)
	return -1
}

var parkBlock = make(chan struct{}) // never closed

// pickUnmapped returns an address far (>= 1 GiB) from every mapping in /proc/self/maps.
func pickUnmapped() uintptr {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		die("%v", err)
	}
	type rng struct{ lo, hi uint64 }
	var rs []rng
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		lh := strings.SplitN(f[0], "-", 2)
		lo, _ := strconv.ParseUint(lh[0], 16, 64)
		hi, _ := strconv.ParseUint(lh[1], 16, 64)
		rs = append(rs, rng{lo, hi})
	}
	const gib = 1 << 30
	for _, c := range []uint64{0x7ff000000000, 0x600000000000, 0x500000000000, 0x300000000000, 0x100000000000} {
		ok := true
		for _, r := range rs {
			if c+gib > r.lo && c < r.hi+gib {
				ok = false
			}
		}
		if ok {
			return uintptr(c)
		}
	}
	die("maps: no unmapped candidate address")
	return 0
}

func funcPC(f any) uintptr { return reflect.ValueOf(f).Pointer() }

// maps: see samples/README.md.
func scenarioMaps(outdir string) {
	buildMaps()
	freed1536 := allocObjects()
	runtime.GC()
	debug.SetGCPercent(-1) // from here on no GC but the explicit ones at the end

	report := make(chan uintptr)
	go parkedWorker(report, parkBlock)
	parkedLocal := <-report
	parkedGoid := goidOf("main.parkedWorker", "chan receive")

	var helper C.struct_helper_info
	C.start_helper_thread(&helper)

	// The C heap plan last: from here to the crash the main thread calls no malloc.
	if C.plan_alloc(C.HP_WITH_MMAP_LIVE) != 0 {
		warn("maps: heap plan allocation did not go as designed")
	}
	chunks := planChunks()
	cptrMap = make(map[string]unsafe.Pointer)
	firstOf := map[int]planChunk{}
	for _, c := range chunks {
		if _, ok := firstOf[c.expect]; !ok {
			firstOf[c.expect] = c
		}
	}
	liveSmall, liveMmap := firstOf[C.HP_LIVE], planChunk{}
	for _, c := range chunks {
		if c.expect == C.HP_LIVE && c.mmapped {
			liveMmap = c
		}
	}
	cptrMap["small-live"] = liveSmall.p
	cptrMap["mmapped-live"] = liveMmap.p
	cptrMap["thread-arena-live"] = helper.chunk
	cptrMap["guard"] = firstOf[C.HP_GUARD].p

	unmapped := pickUnmapped()

	t := newTruth("maps")
	for i, m := range mapValues() {
		t.Maps = append(t.Maps, mapTruth(mapNames[i], m))
	}

	kibBase := uintptr(unsafe.Pointer(kibObj)) - 8
	large := uintptr(unsafe.Pointer(largeObj))
	tiny := uintptr(unsafe.Pointer(tinyObj))
	small := uintptr(unsafe.Pointer(smallObj))
	heap := func(p uintptr, what string, state string, d map[string]any) {
		t.add(Addr{Addr: hexp(p), What: what, Region: "go-heap", State: state, Detail: d})
	}
	heap(tiny, "tiny object (new([12]byte), tiny allocator)", "allocated", map[string]any{"elemsize": 16, "base": hexp(tiny &^ 15), "offset": tiny & 15, "noscan": true, "tiny": true})
	heap(small, "small scan object (48 bytes)", "allocated", map[string]any{"elemsize": 48, "base": hexp(small), "offset": 0, "header": false, "noscan": false})
	d := goHeapSlot(uintptr(unsafe.Pointer(kibObj)), 1152, true)
	d["noscan"] = false
	heap(uintptr(unsafe.Pointer(kibObj)), "1 KiB scan object (allocation header)", "allocated", d)
	heap(kibBase+8+100, "interior pointer: 1 KiB object + 100", "allocated", map[string]any{"elemsize": 1152, "base": hexp(kibBase), "offset": 108, "header": true})
	heap(large, "large object (40000 bytes, 5 pages)", "allocated", map[string]any{"elemsize": 40960, "base": hexp(large), "offset": 0, "large": true, "noscan": true})
	heap(large+1000, "interior pointer: large object + 1000", "allocated", map[string]any{"elemsize": 40960, "base": hexp(large), "offset": 1000, "large": true})
	d = goHeapSlot(freed1536, 1536, true)
	heap(freed1536, "1536-class object dropped and collected right before the crash (neighbours live)", "free", d)
	heap(reflectMapPointer(bigIntMap), "map header of main.bigIntMap", "allocated", map[string]any{"elemsize": 48, "base": hexp(reflectMapPointer(bigIntMap)), "offset": 0})

	t.add(Addr{Addr: hexp(parkedLocal), What: "local variable of goroutine main.parkedWorker, parked on a channel receive", Region: "go-stack", State: "allocated",
		Detail: map[string]any{"goid": parkedGoid, "function": "main.parkedWorker", "wait_reason": "chan receive"}})

	for _, e := range []int{C.HP_LIVE, C.HP_TCACHE, C.HP_FASTBIN, C.HP_UNSORTED, C.HP_SMALLBIN, C.HP_LARGEBIN, C.HP_TOP} {
		c := firstOf[e]
		var holder map[string]any
		for k, v := range cptrMap {
			if v == c.p {
				holder = map[string]any{"map": "main.cptrMap", "key": k}
			}
		}
		t.add(c.addr(holder))
	}
	a := liveMmap.addr(map[string]any{"map": "main.cptrMap", "key": "mmapped-live"})
	t.add(a)
	t.add(Addr{Addr: hexp(uintptr(helper.chunk)), What: "C chunk malloc(200) made by a C pthread (thread arena)", Region: "c-heap", State: "allocated",
		Detail: map[string]any{"arena": "thread", "user_size": 200, "mmapped": false, "holder": map[string]any{"map": "main.cptrMap", "key": "thread-arena-live"}}})
	t.add(Addr{Addr: hexp(uintptr(helper.stack_local)), What: "local variable of a parked C pthread (not a Go M)", Region: "thread-stack", State: "allocated",
		Detail: map[string]any{"stack_lo": hexp(uintptr(helper.stack_lo)), "stack_hi": hexp(uintptr(helper.stack_hi))}})
	t.add(Addr{Addr: hexp(uintptr(helper.anon_page) + 0x80), What: "anonymous mmap page made by C (between two PROT_NONE pages)", Region: "mapped", State: "allocated",
		Detail: map[string]any{"perms": "rw-p"}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(&goGlobalVar))), What: "Go global variable main.goGlobalVar", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "main.goGlobalVar"}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(&cfg))), What: "Go global variable main.cfg", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "main.cfg"}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(&C.c_global_counter))), What: "C global variable c_global_counter", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "c_global_counter"}})
	t.add(Addr{Addr: hexp(funcPC(parkedWorker)), What: "Go function main.parkedWorker (code)", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "main.parkedWorker"}})
	t.add(Addr{Addr: hexp(uintptr(unsafe.Pointer(C.record_count))), What: "C function record_count (code)", Region: "image", State: "allocated",
		Detail: map[string]any{"symbol": "record_count"}})
	t.add(Addr{Addr: "0x8", What: "null page", Region: "unmapped", State: "unmapped", Detail: map[string]any{"reason": "null-page"}})
	t.add(Addr{Addr: hexp(unmapped), What: "an address >= 1 GiB from any mapping (checked in /proc/self/maps)", Region: "unmapped", State: "unmapped", Detail: map[string]any{"reason": "plain"}})
	t.add(Addr{Addr: "0xdead000000000000", What: "non-canonical address", Region: "unmapped", State: "unmapped", Detail: map[string]any{"reason": "non-canonical"}})

	t.Crash = map[string]any{
		"class":       "null-deref",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  "0x10",
		"c_function":  "record_count",
		"go_caller":   "main.finishMaps",
	}
	t.Notes = append(t.Notes, "C chunk states are predictions made before the frees (see samples/c/heapplan.h); TRUTH-WARNING lines on stderr say where glibc disagreed")
	if C.addr_mapped(C.uintptr_t(unmapped)) != 0 {
		warn("maps: %s is mapped", hexp(unmapped))
	}
	pending := t.prepare(outdir)

	// Drop the 1536-byte victim and collect it now, after all the allocations above.
	// runtime.GC sweeps before returning; the parked goroutine's stack is at its minimum
	// size, which the GC does not shrink.
	victim1536 = nil
	runtime.GC()
	runtime.GC()
	// A reallocation would have zeroed the slot: its old contents must still be there.
	if *(*uint64)(unsafe.Pointer(freed1536 + 8)) != magic1536 {
		warn("maps: the freed 1536-class slot %s was reused", hexp(freed1536))
	}
	pending.commit()
	runtime.KeepAlive(kibObj)
	finishMaps()
}

//go:noinline
func finishMaps() {
	waitIfAsked()
	C.maps_release_and_crash(nil)
	fmt.Fprintln(os.Stderr, "unreachable")
}
