package main

import "runtime"

type nilRecord struct {
	id    int64
	count int64 // offset 8
}

// go-nil-deref: Go code (no cgo on the way) reads a field through a nil pointer. The
// runtime turns the SIGSEGV into a panic (sigpanic), and with GOTRACEBACK=crash the panic
// ends in SIGABRT: the fault survives only in the goroutine (g.sig, g.sigcode1, g.sigpc).
func scenarioGoNilDeref(outdir string) {
	t := newTruth("go-nil-deref")
	t.add(Addr{Addr: "0x8", What: "fault address: &((*nilRecord)(nil)).count", Region: "unmapped", State: "unmapped",
		Detail: map[string]any{"reason": "null-page"}})
	t.Crash = map[string]any{
		"class":       "null-deref",
		"signal":      "SIGSEGV",
		"core_signal": "SIGABRT",
		"fault_addr":  "0x8",
		"go_caller":   "main.readNilRecord",
		"source":      "goroutine",
		// The Go frames below the faulting one, as the runtime sees them here:
		// a backtrace must go on through them after sigpanic.
		"go_callers": callerNames(),
	}
	t.write(outdir)
	println(readNilRecord(nil))
}

//go:noinline
func readNilRecord(r *nilRecord) int64 { return r.count }

// callerNames: the functions of the calling goroutine's stack, from the caller
// of callerNames outwards.
func callerNames() []string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for {
		f, more := frames.Next()
		out = append(out, f.Function)
		if !more {
			break
		}
	}
	return out
}
