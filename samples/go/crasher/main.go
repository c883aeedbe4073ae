// Command crasher sets up memory the way one crash scenario needs, writes what it knows by
// construction to OUTDIR/truth.json (write + fsync + close), then crashes.
//
//	GOTRACEBACK=crash crasher SCENARIO OUTDIR
//
// Scenarios: c-uaf-map go-uaf map-grow-stale concurrent-map-writes c-double-free
// c-null-deref c-stack-overflow maps cgocheck go-nil-deref c-null-field-far c-uaf-mmap-field
// c-uaf-mmap-write c-noncanonical c-freelist-small c-freelist-key c-call-freed-fnptr
// c-stack-overflow-main go-panic-callback go-panic-error. See samples/README.md.
package main

/*
#cgo CFLAGS: -D_GNU_SOURCE -O0 -g -I${SRCDIR}/../../c
#cgo LDFLAGS: -lpthread
#include "crasher.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// The main goroutine stays on the main thread: every cgo call it makes runs there, so the C
// heap plan lives in glibc's main arena and the main thread's tcache.
func init() { runtime.LockOSThread() }

type scenario struct {
	name string
	run  func(outdir string)
}

// A slice, not a map: package main's only global maps are the ones the truth describes.
var scenarioList = []scenario{
	{"c-uaf-map", scenarioCUAFMap},
	{"go-uaf", scenarioGoUAF},
	{"map-grow-stale", scenarioMapGrowStale},
	{"concurrent-map-writes", scenarioConcurrentMapWrites},
	{"c-double-free", scenarioCDoubleFree},
	{"c-null-deref", scenarioCNullDeref},
	{"c-stack-overflow", scenarioCStackOverflow},
	{"maps", scenarioMaps},
	{"cgocheck", scenarioCgocheck},
	{"go-nil-deref", scenarioGoNilDeref},
	{"c-null-field-far", scenarioCNullFieldFar},
	{"c-uaf-mmap-field", scenarioCUAFMmapField},
	{"c-uaf-mmap-write", scenarioCUAFMmapWrite},
	{"c-noncanonical", scenarioCNonCanonical},
	{"c-freelist-small", scenarioCFreelistSmall},
	{"c-freelist-key", scenarioCFreelistKey},
	{"c-call-freed-fnptr", scenarioCCallFreedFnptr},
	{"c-stack-overflow-main", scenarioCStackOverflowMain},
	{"go-panic-callback", scenarioGoPanicCallback},
	{"go-panic-error", scenarioGoPanicError},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: crasher SCENARIO OUTDIR\nscenarios:")
	for _, s := range scenarioList {
		fmt.Fprintf(os.Stderr, " %s", s.name)
	}
	fmt.Fprintln(os.Stderr)
	os.Exit(64)
}

func main() {
	debug.SetTraceback("crash")
	if len(os.Args) != 3 {
		usage()
	}
	name, outdir := os.Args[1], os.Args[2]
	var run func(string)
	for _, s := range scenarioList {
		if s.name == name {
			run = s.run
		}
	}
	if run == nil {
		fmt.Fprintf(os.Stderr, "crasher: unknown scenario %q\n", name)
		usage()
	}
	if st, err := os.Stat(outdir); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "crasher: %s is not a directory\n", outdir)
		os.Exit(2)
	}
	C.crasher_init()
	warmUpThreads()
	run(outdir)
	time.Sleep(30 * time.Second)
	fmt.Fprintf(os.Stderr, "crasher: scenario %s did not crash\n", name)
	os.Exit(1)
}

// warmUpThreads makes the runtime start a few Ms now (goroutines blocked in C each hold one),
// so that later it finds idle Ms instead of creating threads from the main thread: creating
// a thread mallocs on the creating thread and would disturb the main arena's bins.
func warmUpThreads() {
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			C.crasher_block_ms(30)
		}()
	}
	wg.Wait()
}

// waitIfAsked is where a scenario would crash: with CRASHER_READY=FILE in the environment
// the program creates FILE and waits there instead, for a debugger to attach and dump it
// while it runs (samples/build.sh: gdb -p, Delve). Sleeping, not blocking forever: with
// every goroutine blocked the runtime would report a deadlock and exit.
func waitIfAsked() {
	ready := os.Getenv("CRASHER_READY")
	if ready == "" {
		return
	}
	if f, err := os.Create(ready); err == nil {
		f.Close()
	}
	for {
		time.Sleep(time.Hour)
	}
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "crasher: "+format+"\n", args...)
	os.Exit(1)
}

func warn(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "TRUTH-WARNING: "+format+"\n", args...)
}
