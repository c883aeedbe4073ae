// heapgraph holds a heap of known shape (so many objects of each type, all
// reachable from globals), retention chains of known addresses (from a global,
// through a map value, from a parked goroutine's local), and goroutines it
// deliberately leaks (blocked on channels, a Mutex, a WaitGroup nothing live
// can reach) next to goroutines merely waiting on things globals hold. It
// writes all of that to DIR/truth.json and then panics with
// GOTRACEBACK=crash so that the kernel writes a core.
//
//	heapgraph DIR
//
// Every number and address in the truth is what the program did or saw
// itself: counts are the loops' bounds, sizes unsafe.Sizeof, addresses taken
// with unsafe.Pointer, goroutine ids and wait states read back from
// runtime.Stack once each goroutine is parked.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// ---- the census: types and how many of each ----

const (
	nSessions = 100000
	nItems    = 50000
	nNodes    = 30000
	nRecords  = 20000
	nShapes   = 10000 // half *Circle, half Square
	nClosures = 5000
	nBuf64    = 20000
	nBuf1K    = 2000
	nBuf40K   = 100
)

type Session struct {
	id   int
	name string
	buf  []byte
	next *Session
}

type Item struct {
	key int
	val float64
	tag *Node
}

type Node struct {
	val  int
	next *Node
}

type Record struct {
	id    int
	owner *Session
	score float64
}

type Shape interface{ Area() float64 }

type Circle struct {
	r     float64
	label string
}

func (c *Circle) Area() float64 { return 3 * c.r * c.r }

// Square is stored by value: the interface boxes a copy on the heap. 24
// bytes, so the box is a small object of its own (a pointer-free value under
// 16 bytes would share a tiny-allocator block and not be one object).
type Square struct{ side, x, y float64 }

func (s Square) Area() float64 { return s.side * s.side }

var (
	sessions []*Session
	items    []Item
	head     *Node
	records  map[string]*Record
	shapes   []Shape
	closures []func() int
	buf64    [][]byte
	buf1K    [][]byte
	buf40K   [][]byte
)

// ---- retention chains ----

type A struct {
	name string
	b    *B
}

type B struct {
	n int
	c *C
}

type C struct {
	n       int
	payload []byte
}

type Holder struct {
	name string
	data *Leaf
}

type Leaf struct{ v [4]int }

type Local struct {
	tag   int
	inner *Inner
}

type Inner struct{ v [3]int }

var (
	chainRoot *A
	holders   map[string]*Holder
)

// ---- what the waiting (not leaked) goroutines block on: all globals ----

var (
	gchan = make(chan int)      // waitChan receives from it
	gpark = make(chan struct{}) // holdLocal parks on it
	gmu   sync.Mutex            // main holds it; waitMutex blocks in Lock
	gwg   sync.WaitGroup        // never Done; waitWG blocks in Wait
)

// ---- truth.json ----

type typeTruth struct {
	Type    string `json:"type"`    // as reflect prints it (%T)
	Objects int    `json:"objects"` // heap objects of this type
	Size    int    `json:"size"`    // unsafe.Sizeof of one element
	Len     int    `json:"len,omitempty"`
	How     string `json:"how"`
	Example string `json:"example"` // the address of one of them
}

type rootTruth struct {
	Kind string `json:"kind"` // global | goroutine | finalizer
	Name string `json:"name,omitempty"`
	Goid int    `json:"goid,omitempty"`
	Func string `json:"func,omitempty"`
}

type chainTruth struct {
	Name    string    `json:"name"`
	Root    rootTruth `json:"root"`
	Key     string    `json:"key,omitempty"`
	Objects []string  `json:"objects"` // from the root's first object to the target
	Types   []string  `json:"types"`   // the type of each of objects
	Target  string    `json:"target"`
}

type gTruth struct {
	Goid     int    `json:"goid"`
	Func     string `json:"func"`
	BlocksOn string `json:"blocks_on"`
	State    string `json:"state"` // the wait state runtime.Stack printed
	// the addresses of what it blocks on (channels: their runtime.hchan); none
	// for a nil channel or a sleep
	Objects       []string `json:"objects"`
	ReachableFrom string   `json:"reachable_from,omitempty"`
}

type truth struct {
	Go      string       `json:"go"`
	Types   []typeTruth  `json:"types"`
	Chains  []chainTruth `json:"chains"`
	Leaked  []gTruth     `json:"leaked"`
	Waiting []gTruth     `json:"waiting"`
	// the address of the Decoy only a stack object's uintptr word holds
	StackDecoy string `json:"stack_decoy"`
	// the goroutine that panics for the core, in main.main
	MainGoid int `json:"main_goid"`
}

func hex(p unsafe.Pointer) string { return fmt.Sprintf("0x%x", uintptr(p)) }

func goid() int {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	n, _ := strconv.Atoi(strings.Fields(strings.TrimPrefix(s, "goroutine "))[0])
	return n
}

// ---- the heap ----

func build() []typeTruth {
	buf64 = make([][]byte, nBuf64)
	for i := range buf64 {
		buf64[i] = make([]byte, 64)
		buf64[i][0] = byte(i)
	}
	buf1K = make([][]byte, nBuf1K)
	for i := range buf1K {
		buf1K[i] = make([]byte, 1024)
	}
	buf40K = make([][]byte, nBuf40K)
	for i := range buf40K {
		buf40K[i] = make([]byte, 40<<10)
	}

	// names are 21 bytes, so that each is a small object of its own (a
	// string under 16 bytes would go to the tiny allocator)
	sessions = make([]*Session, nSessions)
	for i := range sessions {
		s := &Session{id: i, name: fmt.Sprintf("session-%08d/user", i), buf: buf64[i%nBuf64]}
		if i > 0 {
			sessions[i-1].next = s
		}
		sessions[i] = s
	}

	head = nil
	var nodes [2]*Node // the first and the last, for the examples
	for i := 0; i < nNodes; i++ {
		head = &Node{val: i, next: head}
		if i == 0 {
			nodes[0] = head
		}
	}
	nodes[1] = head

	items = make([]Item, nItems)
	for i := range items {
		items[i] = Item{key: i, val: float64(i) / 2, tag: head}
	}

	// keys 17 bytes: not tiny either
	records = make(map[string]*Record)
	var rec0 *Record
	for i := 0; i < nRecords; i++ {
		r := &Record{id: i, owner: sessions[i], score: float64(i)}
		records[fmt.Sprintf("record-%010d", i)] = r
		if i == 0 {
			rec0 = r
		}
	}

	shapes = make([]Shape, 0, nShapes)
	for i := 0; i < nShapes/2; i++ {
		shapes = append(shapes, &Circle{r: float64(i), label: sessions[i].name})
		shapes = append(shapes, Square{side: float64(i), x: 1, y: 2})
	}

	closures = make([]func() int, nClosures)
	for i := range closures {
		v := i * 3 // each closure captures its own v (by value: never written after)
		closures[i] = func() int { return v }
	}

	var c0 *Circle
	var sq0 unsafe.Pointer
	c0 = shapes[0].(*Circle)
	// the data word of the interface holding a Square: its heap box
	sq0 = (*[2]unsafe.Pointer)(unsafe.Pointer(&shapes[1]))[1]
	fn0 := *(*unsafe.Pointer)(unsafe.Pointer(&closures[0])) // a func value points to its closure
	name0 := unsafe.StringData(sessions[0].name)
	var key0 *byte
	for k := range records { // the key's header is a copy: its bytes are the map's key's
		key0 = unsafe.StringData(k)
		break
	}

	return []typeTruth{
		{"main.Session", nSessions, int(unsafe.Sizeof(Session{})), 0, "new: &Session{}, in main.sessions", hex(unsafe.Pointer(sessions[0]))},
		{"[]main.Item", 1, int(unsafe.Sizeof(Item{})), nItems, "make([]Item, n): one backing array, main.items", hex(unsafe.Pointer(&items[0]))},
		{"main.Node", nNodes, int(unsafe.Sizeof(Node{})), 0, "new: &Node{}, a list from main.head", hex(unsafe.Pointer(nodes[0]))},
		{"main.Record", nRecords, int(unsafe.Sizeof(Record{})), 0, "new: &Record{}, values of the map main.records", hex(unsafe.Pointer(rec0))},
		{"main.Circle", nShapes / 2, int(unsafe.Sizeof(Circle{})), 0, "new: &Circle{} in the interface slice main.shapes", hex(unsafe.Pointer(c0))},
		{"main.Square", nShapes / 2, int(unsafe.Sizeof(Square{})), 0, "boxed: a Square value converted to Shape, in main.shapes", hex(sq0)},
		{"func() int", nClosures, int(unsafe.Sizeof(uintptr(0)) + unsafe.Sizeof(int(0))), 0, "closure: code pointer + one captured int, in main.closures", hex(fn0)},
		{"[]uint8", nBuf64, 1, 64, "make([]byte, 64), in main.buf64", hex(unsafe.Pointer(&buf64[0][0]))},
		{"[]uint8", nBuf1K, 1, 1024, "make([]byte, 1024), in main.buf1K", hex(unsafe.Pointer(&buf1K[0][0]))},
		{"[]uint8", nBuf40K, 1, 40 << 10, "make([]byte, 40960), in main.buf40K", hex(unsafe.Pointer(&buf40K[0][0]))},
		{"string", nSessions, 1, len(sessions[0].name), "fmt.Sprintf: the bytes of main.Session.name", hex(unsafe.Pointer(name0))},
		{"string", nRecords, 1, len("record-0000000000"), "fmt.Sprintf: the bytes of main.records' keys", hex(unsafe.Pointer(key0))},
	}
}

// ---- the chains ----

func chains() []chainTruth {
	chainRoot = &A{name: "root", b: &B{n: 1, c: &C{n: 2, payload: make([]byte, 256)}}}
	g := chainTruth{
		Name: "global", Root: rootTruth{Kind: "global", Name: "main.chainRoot"},
		Objects: []string{hex(unsafe.Pointer(chainRoot)), hex(unsafe.Pointer(chainRoot.b)),
			hex(unsafe.Pointer(chainRoot.b.c)), hex(unsafe.Pointer(&chainRoot.b.c.payload[0]))},
		Types:  []string{"main.A", "main.B", "main.C", "[]uint8"},
		Target: hex(unsafe.Pointer(&chainRoot.b.c.payload[0])),
	}

	holders = make(map[string]*Holder)
	for i := 0; i < 100; i++ {
		k := "k" + strconv.Itoa(i)
		holders[k] = &Holder{name: k, data: &Leaf{v: [4]int{i, i, i, i}}}
	}
	h := holders["k42"]
	m := chainTruth{
		Name: "map", Root: rootTruth{Kind: "global", Name: "main.holders"}, Key: "k42",
		Objects: []string{hex(unsafe.Pointer(h)), hex(unsafe.Pointer(h.data))},
		Types:   []string{"main.Holder", "main.Leaf"},
		Target:  hex(unsafe.Pointer(h.data)),
	}
	return []chainTruth{g, m}
}

type localMsg struct {
	goid         int
	local, inner uintptr
}

// newLocal allocates on the heap (its result escapes), so that holdLocal's x
// is a pointer in its frame to a heap object and not a stack object.
//
//go:noinline
func newLocal(tag int) *Local {
	return &Local{tag: tag, inner: &Inner{v: [3]int{tag, tag + 1, tag + 2}}}
}

// holdLocal: x is reachable only from this goroutine's frame, live across the
// park (KeepAlive after it). gpark is a global: not a leak.
func holdLocal(ready chan<- localMsg) {
	x := newLocal(7)
	ready <- localMsg{goid(), uintptr(unsafe.Pointer(x)), uintptr(unsafe.Pointer(x.inner))}
	<-gpark
	runtime.KeepAlive(x)
}

// ---- a stack object whose one copy of an address is not a pointer ----

// Decoy is held by nothing: its address stays only in decoyFrame.addr, a
// uintptr word of a stack object (holdDecoy's f: address-taken, not
// escaping) beside a pointer word. The GC scans a stack object by its type's
// pointer mask, so the uintptr keeps nothing alive. Made after the last
// collection, so it is still allocated in the core.
type Decoy struct {
	v    [5]int
	next *Decoy
}

type decoyFrame struct {
	addr uintptr
	keep *int
}

var (
	decoyKeep = 1
	decoySink uintptr
)

//go:noinline
func newDecoy() *Decoy { return &Decoy{v: [5]int{9, 9, 9, 9, 9}} }

//go:noinline
func touchDecoy(f *decoyFrame) { decoySink += f.addr&1 + uintptr(*f.keep) } // no copy of the address

// holdDecoy parks on gpark (a global: not a leak) with f live across it.
func holdDecoy(ready chan<- localMsg) {
	var f decoyFrame
	f.addr = uintptr(unsafe.Pointer(newDecoy()))
	f.keep = &decoyKeep
	touchDecoy(&f)
	ready <- localMsg{goid: goid(), local: f.addr}
	<-gpark
	touchDecoy(&f)
}

// ---- a finalizer's object ----

type FinObj struct{ data *FinData }
type FinData struct{ v [6]int }

// finalized makes an object that only its finalizer record keeps (made after
// the last collection, so the finalizer never runs), in a goroutine that
// then exits: no stack of a live goroutine keeps a copy of the pointer.
//
//go:noinline
func finalized() chainTruth {
	f := &FinObj{data: &FinData{v: [6]int{1, 2, 3, 4, 5, 6}}}
	runtime.SetFinalizer(f, func(*FinObj) {})
	return chainTruth{
		Name: "finalizer", Root: rootTruth{Kind: "finalizer"},
		Objects: []string{hex(unsafe.Pointer(f)), hex(unsafe.Pointer(f.data))},
		Types:   []string{"main.FinObj", "main.FinData"},
		Target:  hex(unsafe.Pointer(f.data)),
	}
}

func finalizedAlone() chainTruth {
	n := runtime.NumGoroutine()
	done := make(chan chainTruth)
	go func() { done <- finalized() }()
	c := <-done
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return c
}

// ---- goroutines: leaked and waiting ----

type started struct {
	goid int
	fn   string
	objs []uintptr // what it blocks on: the channels' hchan, the Mutex, the WaitGroup
}

// chanAddr: a channel value is a pointer to its runtime.hchan.
func chanAddr[E any](c chan E) uintptr { return *(*uintptr)(unsafe.Pointer(&c)) }

// Each goroutine function sends its goid, then blocks. The ready channel
// itself is dead in its frame after the send (main drops it too).

func leakRecv(ready chan<- started) {
	c := make(chan int) // nobody else has it
	ready <- started{goid(), "main.leakRecv", []uintptr{chanAddr(c)}}
	<-c
}

func leakSend(c chan int, ready chan<- started) {
	ready <- started{goid(), "main.leakSend", []uintptr{chanAddr(c)}}
	c <- 1
}

func leakSelect(ready chan<- started) {
	a, b := make(chan int), make(chan string)
	ready <- started{goid(), "main.leakSelect", []uintptr{chanAddr(a), chanAddr(b)}}
	select {
	case <-a:
	case <-b:
	}
}

func leakMutex(mu *sync.Mutex, ready chan<- started) {
	ready <- started{goid(), "main.leakMutex", []uintptr{uintptr(unsafe.Pointer(mu))}}
	mu.Lock()
}

func leakWaitGroup(wg *sync.WaitGroup, ready chan<- started) {
	ready <- started{goid(), "main.leakWaitGroup", []uintptr{uintptr(unsafe.Pointer(wg))}}
	wg.Wait()
}

func leakNilChan(ready chan<- started) {
	var c chan int
	ready <- started{goid(), "main.leakNilChan", nil}
	<-c
}

func waitChan(ready chan<- started) {
	ready <- started{goid(), "main.waitChan", []uintptr{chanAddr(gchan)}}
	<-gchan
}

func waitMutex(ready chan<- started) {
	ready <- started{goid(), "main.waitMutex", []uintptr{uintptr(unsafe.Pointer(&gmu))}}
	gmu.Lock()
}

func waitWG(ready chan<- started) {
	ready <- started{goid(), "main.waitWG", []uintptr{uintptr(unsafe.Pointer(&gwg))}}
	gwg.Wait()
}

func sleeper(ready chan<- started) {
	ready <- started{goid(), "main.sleeper", nil}
	time.Sleep(time.Hour)
}

// blocksOn: what each goroutine function blocks on (as the program made it),
// and for the waiting ones what global (or the timer heap) reaches it.
var (
	blocksOn = map[string]string{
		"main.leakRecv": "chan receive", "main.leakSend": "chan send", "main.leakSelect": "select",
		"main.leakMutex": "sync.Mutex.Lock", "main.leakWaitGroup": "sync.WaitGroup.Wait",
		"main.leakNilChan": "chan receive (nil chan)",
		"main.waitChan":    "chan receive", "main.waitMutex": "sync.Mutex.Lock",
		"main.waitWG": "sync.WaitGroup.Wait", "main.sleeper": "sleep", "main.holdLocal": "chan receive",
	}
	reachableFrom = map[string]string{
		"main.waitChan": "main.gchan", "main.waitMutex": "main.gmu", "main.waitWG": "main.gwg",
		"main.sleeper": "timer", "main.holdLocal": "main.gpark",
	}
)

// spawnLeaks starts the leaked goroutines and says how many; what they block
// on is made here and dropped when it returns (not inlined: no frame of
// main's keeps it).
//
//go:noinline
func spawnLeaks(ready chan<- started) int {
	for i := 0; i < 3; i++ {
		go leakRecv(ready)
	}
	c := make(chan int) // unbuffered, two senders, no receiver
	go leakSend(c, ready)
	go leakSend(c, ready)
	go leakSelect(ready)
	// 8 bytes without pointers: the tiny allocator's, it shares a 16-byte
	// block with whatever small pointer-free value comes next (as any
	// new(sync.Mutex) does)
	mu := new(sync.Mutex)
	mu.Lock()
	go leakMutex(mu, ready)
	wg := new(sync.WaitGroup)
	wg.Add(1)
	go leakWaitGroup(wg, ready)
	go leakNilChan(ready)
	return 9
}

// collect reads n starts and pairs each with what its function blocks on.
func collect(ready <-chan started, n int) []gTruth {
	var out []gTruth
	for i := 0; i < n; i++ {
		s := <-ready
		g := gTruth{Goid: s.goid, Func: s.fn, BlocksOn: blocksOn[s.fn],
			ReachableFrom: reachableFrom[s.fn], Objects: []string{}}
		for _, o := range s.objs {
			g.Objects = append(g.Objects, fmt.Sprintf("0x%x", o))
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Goid < out[j].Goid })
	return out
}

// states: goid -> the text in brackets of runtime.Stack's "goroutine N [...]:".
func states() map[int]string {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	out := map[int]string{}
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if !strings.HasPrefix(line, "goroutine ") {
			continue
		}
		f := strings.SplitN(strings.TrimPrefix(line, "goroutine "), " ", 2)
		id, err := strconv.Atoi(f[0])
		if err != nil || len(f) < 2 {
			continue
		}
		st := strings.TrimSuffix(f[1], ":")
		st = strings.TrimSuffix(strings.TrimPrefix(st, "["), "]")
		out[id] = st
	}
	return out
}

func parked(st string) bool {
	return st != "" && !strings.HasPrefix(st, "running") && !strings.HasPrefix(st, "runnable") &&
		!strings.HasPrefix(st, "syscall")
}

// waitParked: every goroutine of gs parked, within 10 s; fills in State.
func waitParked(gs ...[]gTruth) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := states()
		bad := ""
		for _, l := range gs {
			for i := range l {
				l[i].State = st[l[i].Goid]
				if !parked(l[i].State) {
					bad = fmt.Sprintf("goroutine %d (%s) is %q", l[i].Goid, l[i].Func, l[i].State)
				}
			}
		}
		if bad == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not parked after 10 s: %s", bad)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: heapgraph DIR")
		os.Exit(64)
	}
	dir := os.Args[1]
	debug.SetTraceback("crash")

	tr := truth{Go: runtime.Version(), MainGoid: goid()}
	tr.Types = build()
	tr.Chains = chains()

	lready := make(chan localMsg)
	go holdLocal(lready)
	lm := <-lready
	tr.Chains = append(tr.Chains, chainTruth{
		Name: "local", Root: rootTruth{Kind: "goroutine", Goid: lm.goid, Func: "main.holdLocal"},
		Objects: []string{fmt.Sprintf("0x%x", lm.local), fmt.Sprintf("0x%x", lm.inner)},
		Types:   []string{"main.Local", "main.Inner"},
		Target:  fmt.Sprintf("0x%x", lm.inner),
	})

	ready := make(chan started)
	tr.Leaked = collect(ready, spawnLeaks(ready))

	gmu.Lock()
	gwg.Add(1)
	go waitChan(ready)
	go waitMutex(ready)
	go waitWG(ready)
	go sleeper(ready)
	tr.Waiting = collect(ready, 4)
	tr.Waiting = append(tr.Waiting, gTruth{Goid: lm.goid, Func: "main.holdLocal",
		BlocksOn: blocksOn["main.holdLocal"], ReachableFrom: reachableFrom["main.holdLocal"],
		Objects: []string{fmt.Sprintf("0x%x", chanAddr(gpark))}})
	sort.Slice(tr.Waiting, func(i, j int) bool { return tr.Waiting[i].Goid < tr.Waiting[j].Goid })

	if err := waitParked(tr.Leaked, tr.Waiting); err != nil {
		fmt.Fprintln(os.Stderr, "heapgraph:", err)
		os.Exit(1)
	}
	// Two collections: the first frees what building left behind, the second
	// what the first's finalizers and sweeps let go; then none until the crash,
	// so that no cycle is under way in the core.
	runtime.GC()
	runtime.GC()
	debug.SetGCPercent(-1)
	tr.Chains = append(tr.Chains, finalizedAlone())
	dready := make(chan localMsg)
	go holdDecoy(dready)
	dm := <-dready
	tr.StackDecoy = fmt.Sprintf("0x%x", dm.local)
	// parked, not running: a running frame is scanned as words
	if err := waitParked([]gTruth{{Goid: dm.goid, Func: "main.holdDecoy"}}); err != nil {
		fmt.Fprintln(os.Stderr, "heapgraph:", err)
		os.Exit(1)
	}

	b, err := json.MarshalIndent(tr, "", " ")
	if err == nil {
		err = writeAtomic(filepath.Join(dir, "truth.json"), b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "heapgraph:", err)
		os.Exit(1)
	}
	runtime.KeepAlive(sessions)
	runtime.KeepAlive(items)
	runtime.KeepAlive(head)
	runtime.KeepAlive(records)
	runtime.KeepAlive(shapes)
	runtime.KeepAlive(closures)
	runtime.KeepAlive(chainRoot)
	runtime.KeepAlive(holders)
	panic("heapgraph: crash for the core")
}

// writeAtomic: a reader never sees half a truth file (tmp, fsync, rename).
func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
