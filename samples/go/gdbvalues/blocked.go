// The goroutines of this sample that block on purpose, and what each waits
// on: the truth of coretool's model of blocked goroutines (lib/go/goblock.c).
// Each goroutine records its goid and the addresses of the primitives it is
// about to block on, then blocks; main waits until the runtime reports every
// one of them parked (runtime.Stack of all goroutines) and records the wait
// reason the runtime gave, so the truth is what this program saw of itself.
package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// A primitive: the hchan a channel value points to (Size 0: the address
// itself is the answer), or a sync object whose semaphore word (or notify
// list) lies in [Addr, Addr+Size).
type primTruth struct {
	Addr string `json:"addr"`
	Size int    `json:"size"`
}

type blockedTruth struct {
	Goid int    `json:"goid"`
	What string `json:"what"` // chan-recv, chan-send, select, nilchan, select-empty, mutex, rwmutex-r, waitgroup, cond
	// Leaked: nothing but the goroutine itself can reach its primitives.
	Leaked bool        `json:"leaked"`
	Prims  []primTruth `json:"prims"`
	Wait   string      `json:"wait"` // the runtime's wait reason, as runtime.Stack printed it
	// The runtime's own leak detector (run where it exists) marked it
	// "(leaked)": status _Gleaked.
	RuntimeLeaked bool `json:"runtime_leaked"`
}

var (
	gSelA  chan int
	gMu    sync.Mutex
	gRW    sync.RWMutex
	gCondL sync.Mutex
	gCond  = sync.NewCond(&gCondL)
)

func chanPrim[E any](c chan E) primTruth {
	return primTruth{Addr: fmt.Sprintf("%p", c)}
}

func objPrim(p unsafe.Pointer, size uintptr) primTruth {
	return primTruth{Addr: fmt.Sprintf("0x%x", uintptr(p)), Size: int(size)}
}

// spawn starts a goroutine that records itself and then runs block.
func spawn(rec chan<- blockedTruth, what string, leaked bool, prims []primTruth, block func()) {
	go func() {
		rec <- blockedTruth{Goid: goid(), What: what, Leaked: leaked, Prims: prims}
		block()
	}()
}

// startBlocked starts the blocked goroutines (besides the holder, parked on
// block, and the sender on gChanUnbuf, which main starts and passes in).
func startBlocked(rec chan blockedTruth) int {
	n := 0
	go1 := func(what string, leaked bool, prims []primTruth, block func()) {
		spawn(rec, what, leaked, prims, block)
		n++
	}
	// A channel only the receiver knows: leaked.
	priv := make(chan int)
	go1("chan-recv", true, []primTruth{chanPrim(priv)}, func() { <-priv })
	gSelA = make(chan int)
	selB := make(chan string)
	go1("select", false, []primTruth{chanPrim(gSelA), chanPrim(selB)}, func() {
		select {
		case <-gSelA:
		case selB <- "x":
		}
	})
	go1("nilchan", true, nil, func() {
		var c chan int
		<-c
	})
	go1("select-empty", true, nil, func() { select {} })
	gMu.Lock()
	go1("mutex", false, []primTruth{objPrim(unsafe.Pointer(&gMu), unsafe.Sizeof(gMu))},
		func() { gMu.Lock() })
	gRW.Lock()
	go1("rwmutex-r", false, []primTruth{objPrim(unsafe.Pointer(&gRW), unsafe.Sizeof(gRW))},
		func() { gRW.RLock() })
	wg := new(sync.WaitGroup)
	wg.Add(1)
	go1("waitgroup", true, []primTruth{objPrim(unsafe.Pointer(wg), unsafe.Sizeof(*wg))},
		func() { wg.Wait() })
	go1("cond", false, []primTruth{objPrim(unsafe.Pointer(gCond), unsafe.Sizeof(*gCond))},
		func() {
			gCondL.Lock()
			gCond.Wait()
		})
	return n
}

// parkedReasons: goid -> the wait reason runtime.Stack prints in each
// goroutine's header ("goroutine 7 [chan receive]:" or "[select, 2 minutes]").
func parkedReasons() map[int]string {
	buf := make([]byte, 1<<20)
	s := string(buf[:runtime.Stack(buf, true)])
	r := map[int]string{}
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "goroutine ") {
			continue
		}
		f := strings.SplitN(strings.TrimPrefix(line, "goroutine "), " ", 2)
		id, err := strconv.Atoi(f[0])
		if err != nil || len(f) < 2 {
			continue
		}
		st := strings.TrimSuffix(strings.TrimPrefix(f[1], "["), "]:")
		if i := strings.Index(st, ","); i >= 0 {
			st = st[:i]
		}
		r[id] = st // "chan receive", or "chan receive (leaked)"
	}
	return r
}

// awaitParked waits (bounded) until every recorded goroutine is parked, runs
// the runtime's leak detector where the toolchain has it, and fills in the
// reason the runtime gave and whether it found the goroutine leaked.
func awaitParked(bs []blockedTruth) {
	for try := 0; try < 400; try++ {
		reasons := parkedReasons()
		all := true
		for i := range bs {
			st := reasons[bs[i].Goid]
			bs[i].Wait, bs[i].RuntimeLeaked = strings.CutSuffix(st, " (leaked)")
			if st == "" || st == "runnable" || st == "running" || st == "syscall" {
				all = false
			}
		}
		if all {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if runLeakDetector() {
		// read the reasons again: the leaked ones now say so
		reasons := parkedReasons()
		for i := range bs {
			bs[i].Wait, bs[i].RuntimeLeaked = strings.CutSuffix(reasons[bs[i].Goid], " (leaked)")
		}
	}
}
