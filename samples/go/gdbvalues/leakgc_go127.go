//go:build go1.27

package main

import (
	"io"
	"runtime/pprof"
)

// runLeakDetector runs the runtime's goroutine-leak GC (Go 1.27: the
// goroutineleak profile, on by default), which moves the goroutines it
// finds leaked to status _Gleaked; runtime.Stack then marks them "(leaked)".
func runLeakDetector() bool {
	return pprof.Lookup("goroutineleak").WriteTo(io.Discard, 1) == nil
}
