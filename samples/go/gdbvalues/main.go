// gdbvalues holds Go values of every shape the gdb printers render (slices,
// strings, channels, interfaces) in globals and in the locals of a parked
// goroutine, writes truth.json of what it holds, then panics with
// GOTRACEBACK=crash so that the kernel (or gdb) writes a core.
//
//	gdbvalues DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// T, V and N are the dynamic types the interfaces hold: a pointer, a struct
// and an integer.
type T struct {
	A int
	B string
}

func (t *T) String() string { return t.B }

type V struct{ X, Y int }

func (v V) String() string { return "v" }

type N int

func (n N) String() string { return "n" }

var (
	gNilSlice   []int
	gEmptySlice = []int{}
	gStrSlice   = []string{"f", "g", "h"}
	gIntSlice   []int
	gLargeSlice []int

	gEmptyStr = ""
	gStr      = "abc"
	gUniStr   = "héllo, 世界"

	gChanPart   chan int
	gChanWrap   chan int
	gChanStr    chan string
	gChanClosed chan int
	gChanNil    chan int
	gChanUnbuf  chan int
	gChanT      chan T
	gChanEmpty  chan struct{}

	gEfacePtr    interface{}
	gEfaceStruct interface{}
	gEfaceInt    interface{}
	gEfaceStr    interface{}
	gEfaceNil    interface{}
	gEfaceChan   interface{} // a pointer-shaped dynamic type that is not a pointer
	gIfacePtr    fmt.Stringer
	gIfaceStruct fmt.Stringer
	gIfaceInt    fmt.Stringer
	gIfaceNil    fmt.Stringer

	// for $len only (the map printers have their own samples)
	gMap      = map[string]int{}
	gNilMap   map[string]int
	gNamedMap Header

	block = make(chan struct{})
)

// Header is a named map type, as net/http's.
type Header map[string][]string

type truthVal struct {
	Kind   string        `json:"kind"` // slice, string, chan, iface, eface, map
	Type   string        `json:"type"` // the static Go type
	Len    int           `json:"len"`
	Cap    int           `json:"cap"`
	Nil    bool          `json:"nil"`
	Elems  []interface{} `json:"elems,omitempty"` // slice elements; channel buffer in queue order
	Str    *string       `json:"str,omitempty"`
	Closed bool          `json:"closed,omitempty"`
	Sendq  int           `json:"sendq"` // goroutines blocked sending
	Recvq  int           `json:"recvq"`
	// interfaces: the dynamic type (%T), whether the data word is the value
	// (a pointer), the pointer, and the value it holds (fields or scalar)
	DType  string      `json:"dtype,omitempty"`
	Ptr    string      `json:"ptr,omitempty"`
	DValue interface{} `json:"dvalue,omitempty"`
}

type truth struct {
	Go       string              `json:"go"`
	Globals  map[string]truthVal `json:"globals"`
	Locals   map[string]truthVal `json:"locals"`
	HolderG  int                 `json:"holder_goid"`
	HolderFn string              `json:"holder_func"`
	// The goroutines blocked on purpose and what they wait on (blocked.go).
	Blocked []blockedTruth `json:"blocked"`
}

func sliceTruth[E any](typ string, s []E) truthVal {
	tv := truthVal{Kind: "slice", Type: typ, Len: len(s), Cap: cap(s), Nil: s == nil, Elems: []interface{}{}}
	for _, e := range s {
		tv.Elems = append(tv.Elems, e)
	}
	return tv
}

func strTruth(s string) truthVal {
	return truthVal{Kind: "string", Type: "string", Len: len(s), Str: &s}
}

// chanTruth: what the channel holds, read back by draining a copy of the
// queue: the values were put there by this program, so it knows them.
func chanTruth[E any](typ string, c chan E, elems []E, closed bool, sendq int) truthVal {
	return chanTruthQ(typ, c, elems, closed, sendq, 0)
}

func chanTruthQ[E any](typ string, c chan E, elems []E, closed bool, sendq, recvq int) truthVal {
	tv := truthVal{Kind: "chan", Type: typ, Len: len(c), Cap: cap(c), Nil: c == nil,
		Closed: closed, Sendq: sendq, Recvq: recvq, Elems: []interface{}{}}
	for _, e := range elems {
		tv.Elems = append(tv.Elems, e)
	}
	return tv
}

func ifaceTruth(kind, typ string, v interface{}) truthVal {
	tv := truthVal{Kind: kind, Type: typ, Nil: v == nil}
	if v == nil {
		return tv
	}
	tv.DType = fmt.Sprintf("%T", v)
	switch x := v.(type) {
	case *T:
		tv.Ptr = fmt.Sprintf("0x%x", uintptr(unsafe.Pointer(x)))
		tv.DValue = map[string]interface{}{"A": x.A, "B": x.B}
	case V:
		tv.DValue = map[string]interface{}{"X": x.X, "Y": x.Y}
	case N:
		tv.DValue = int(x)
	case chan int:
		// what it holds: the caller fills DValue (receiving would change it)
		tv.DValue = nil
	default:
		tv.DValue = x
	}
	return tv
}

func goid() int {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	n, _ := strconv.Atoi(strings.Fields(strings.TrimPrefix(s, "goroutine "))[0])
	return n
}

// holder keeps values in its locals (built with -N -l: they stay in its
// frame) and parks on block until the crash.
func holder(ready chan<- truth) {
	lSlice := []string{"x", "yy"}
	lStr := "local ☃"
	lChan := make(chan int, 3)
	lChan <- 5
	lEface := interface{}(&T{A: 9, B: "loc"})
	lIface := fmt.Stringer(V{X: 1, Y: 2})
	ready <- truth{
		HolderG:  goid(),
		HolderFn: "main.holder",
		Locals: map[string]truthVal{
			"lSlice": sliceTruth("[]string", lSlice),
			"lStr":   strTruth(lStr),
			"lChan":  chanTruth("chan int", lChan, []int{5}, false, 0),
			"lEface": ifaceTruth("eface", "interface {}", lEface),
			"lIface": ifaceTruth("iface", "fmt.Stringer", lIface),
		},
	}
	<-block
	runtime.KeepAlive(lSlice)
	runtime.KeepAlive(lStr)
	runtime.KeepAlive(lChan)
	runtime.KeepAlive(lEface)
	runtime.KeepAlive(lIface)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gdbvalues DIR")
		os.Exit(64)
	}
	dir := os.Args[1]

	gIntSlice = make([]int, 3, 10)
	copy(gIntSlice, []int{1, 2, 3})
	gLargeSlice = make([]int, 500)
	for i := range gLargeSlice {
		gLargeSlice[i] = i * 3
	}

	gChanPart = make(chan int, 10)
	gChanPart <- 99
	gChanPart <- 11
	// wrapped around: after these recvx = 2, sendx = 2 and the queue is 3 4 5 6
	gChanWrap = make(chan int, 4)
	for i := 1; i <= 4; i++ {
		gChanWrap <- i
	}
	<-gChanWrap
	<-gChanWrap
	gChanWrap <- 5
	gChanWrap <- 6
	gChanStr = make(chan string, 10)
	gChanStr <- "spongepants"
	gChanStr <- "squarebob"
	gChanClosed = make(chan int, 3)
	gChanClosed <- 7
	close(gChanClosed)
	gChanUnbuf = make(chan int)
	rec := make(chan blockedTruth, 16)
	spawn(rec, "chan-send", false, []primTruth{chanPrim(gChanUnbuf)}, func() { gChanUnbuf <- 42 })
	gChanT = make(chan T, 2)
	gChanT <- T{A: 8, B: "q"}
	gChanEmpty = make(chan struct{}, 5)
	gChanEmpty <- struct{}{}
	gChanEmpty <- struct{}{}

	for i := 0; i < 37; i++ {
		gMap[strconv.Itoa(i)] = i
	}
	gNamedMap = Header{"a": {"b"}, "c": nil}

	gEfacePtr = &T{A: 1, B: "x"}
	gEfaceStruct = V{X: 3, Y: 4}
	gEfaceInt = 42
	gEfaceStr = "hi"
	gEfaceChan = gChanPart
	gIfacePtr = &T{A: 2, B: "y"}
	gIfaceStruct = V{X: 5, Y: 6}
	gIfaceInt = N(7)

	ready := make(chan truth)
	go holder(ready)
	tr := <-ready
	tr.Go = runtime.Version()
	nblocked := 1 + startBlocked(rec)
	tr.Blocked = append(tr.Blocked, blockedTruth{Goid: tr.HolderG, What: "chan-recv",
		Prims: []primTruth{chanPrim(block)}})
	for i := 0; i < nblocked; i++ {
		tr.Blocked = append(tr.Blocked, <-rec)
	}
	tr.Globals = map[string]truthVal{
		"main.gNilSlice":   sliceTruth("[]int", gNilSlice),
		"main.gEmptySlice": sliceTruth("[]int", gEmptySlice),
		"main.gStrSlice":   sliceTruth("[]string", gStrSlice),
		"main.gIntSlice":   sliceTruth("[]int", gIntSlice),
		"main.gLargeSlice": sliceTruth("[]int", gLargeSlice),
		"main.gEmptyStr":   strTruth(gEmptyStr),
		"main.gStr":        strTruth(gStr),
		"main.gUniStr":     strTruth(gUniStr),
		"main.gChanPart":   chanTruth("chan int", gChanPart, []int{99, 11}, false, 0),
		"main.gChanWrap":   chanTruth("chan int", gChanWrap, []int{3, 4, 5, 6}, false, 0),
		"main.gChanStr":    chanTruth("chan string", gChanStr, []string{"spongepants", "squarebob"}, false, 0),
		"main.gChanClosed": chanTruth("chan int", gChanClosed, []int{7}, true, 0),
		"main.gChanNil":    chanTruth("chan int", gChanNil, nil, false, 0),
		"main.gChanUnbuf":  chanTruth("chan int", gChanUnbuf, nil, false, 1),
		"main.gChanT": chanTruth("chan main.T", gChanT,
			[]T{{A: 8, B: "q"}}, false, 0),
		"main.gChanEmpty": chanTruth("chan struct {}", gChanEmpty,
			[]struct{}{{}, {}}, false, 0),
		// the holder goroutine is parked receiving from it
		"main.block":        chanTruthQ("chan struct {}", block, nil, false, 0, 1),
		"main.gEfacePtr":    ifaceTruth("eface", "interface {}", gEfacePtr),
		"main.gEfaceStruct": ifaceTruth("eface", "interface {}", gEfaceStruct),
		"main.gEfaceInt":    ifaceTruth("eface", "interface {}", gEfaceInt),
		"main.gEfaceStr":    ifaceTruth("eface", "interface {}", gEfaceStr),
		"main.gEfaceNil":    ifaceTruth("eface", "interface {}", gEfaceNil),
		"main.gEfaceChan":   ifaceTruth("eface", "interface {}", gEfaceChan),
		"main.gIfacePtr":    ifaceTruth("iface", "fmt.Stringer", gIfacePtr),
		"main.gIfaceStruct": ifaceTruth("iface", "fmt.Stringer", gIfaceStruct),
		"main.gIfaceInt":    ifaceTruth("iface", "fmt.Stringer", gIfaceInt),
		"main.gIfaceNil":    ifaceTruth("iface", "fmt.Stringer", gIfaceNil),
		"main.gMap":         {Kind: "map", Type: "map[string]int", Len: len(gMap)},
		"main.gNilMap":      {Kind: "map", Type: "map[string]int", Len: len(gNilMap), Nil: true},
		"main.gNamedMap":    {Kind: "map", Type: "main.Header", Len: len(gNamedMap)},
	}
	ec := tr.Globals["main.gEfaceChan"]
	ec.DValue = tr.Globals["main.gChanPart"]
	tr.Globals["main.gEfaceChan"] = ec
	// the sender of gChanUnbuf (and every other blocked goroutine) must be
	// parked before the core
	awaitParked(tr.Blocked)
	time.Sleep(50 * time.Millisecond)
	b, err := json.MarshalIndent(tr, "", " ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "truth.json"), b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gdbvalues:", err)
		os.Exit(1)
	}
	panic("gdbvalues: crash for the core")
}
