// Command xmlcrash is a Go program that uses libxml2 (Debian's libxml2.so.2, no debug info)
// through cgo the way real programs do, with the usual cgo mistakes in its Go code. Each
// case sets up its documents, writes what it knows of its own memory to OUTDIR/truth.json
// (write + fsync + close), then makes the mistake and crashes inside libxml2 (or glibc).
//
//	GOTRACEBACK=crash xmlcrash CASE OUTDIR
//
// Cases: see caseList and samples/README.md ("The libxml2 suite").
package main

/*
#cgo pkg-config: libxml-2.0
#cgo CFLAGS: -D_GNU_SOURCE
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The main goroutine stays on the main thread: every libxml2 call it makes runs there (main
// arena, the main thread's tcache), so the heap states the cases rely on are those of one
// thread.
func init() { runtime.LockOSThread() }

type crashCase struct {
	name    string
	godebug string // GODEBUG setting the case needs (the program re-executes itself with it)
	run     func(outdir string)
}

var caseList = []crashCase{
	{"doc-map-uaf", "", caseDocMapUAF},
	{"reader-null", "", caseReaderNull},
	{"node-double-free", "", caseNodeDoubleFree},
	{"stale-node-slice", "", caseStaleNodeSlice},
	{"freed-string-global", "", caseFreedStringGlobal},
	{"buffer-write-uaf", "", caseBufferWriteUAF},
	{"buffer-append-uaf", "", caseBufferAppendUAF},
	{"go-handler-uaf", "clobberfree=1", caseGoHandlerUAF},
	{"deep-tree-overflow", "", caseDeepTreeOverflow},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: xmlcrash CASE OUTDIR\ncases:")
	for _, c := range caseList {
		fmt.Fprintf(os.Stderr, " %s", c.name)
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
	var cc *crashCase
	for i := range caseList {
		if caseList[i].name == name {
			cc = &caseList[i]
		}
	}
	if cc == nil {
		fmt.Fprintf(os.Stderr, "xmlcrash: unknown case %q\n", name)
		usage()
	}
	if st, err := os.Stat(outdir); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "xmlcrash: %s is not a directory\n", outdir)
		os.Exit(2)
	}
	if cc.godebug != "" {
		reexecWithGodebug(cc.godebug)
	}
	C.xc_init()
	warmUpThreads()
	cc.run(outdir)
	time.Sleep(30 * time.Second)
	fmt.Fprintf(os.Stderr, "xmlcrash: case %s did not crash\n", name)
	os.Exit(1)
}

// reexecWithGodebug makes sure the runtime runs with setting (e.g. clobberfree=1, which the
// runtime reads only at start): if GODEBUG lacks it, exec this program again with it added.
func reexecWithGodebug(setting string) {
	cur := os.Getenv("GODEBUG")
	for _, s := range strings.Split(cur, ",") {
		if s == setting {
			return
		}
	}
	v := setting
	if cur != "" {
		v = cur + "," + setting
	}
	env := []string{"GODEBUG=" + v}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GODEBUG=") {
			env = append(env, e)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		die("re-exec: %v", err)
	}
	err = syscall.Exec(exe, os.Args, env)
	die("re-exec %s: %v", exe, err)
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
			C.xc_block_ms(30)
		}()
	}
	wg.Wait()
}

// libraryVersion is "libxml2 2.9.14" from the library's own xmlParserVersion ("20914").
func libraryVersion() string {
	v := C.GoString(C.xc_parser_version())
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 10000 {
		return "libxml2 " + v
	}
	return fmt.Sprintf("libxml2 %d.%d.%d", n/10000, n/100%100, n%100)
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "xmlcrash: "+format+"\n", args...)
	os.Exit(1)
}

func warn(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "TRUTH-WARNING: "+format+"\n", args...)
}
