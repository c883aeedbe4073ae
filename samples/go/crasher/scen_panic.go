package main

// #include "crasher.h"
import "C"

import (
	"fmt"
	"os"
)

// callbackPanicMsg is the value main.goCallbackPanics (export_panic.go) panics with.
const callbackPanicMsg = "bad record 42: checksum mismatch"

// go-panic-callback: Go calls C, C calls back into the exported Go function
// main.goCallbackPanics, which panics with a string; nothing recovers it.
func scenarioGoPanicCallback(outdir string) {
	t := newTruth("go-panic-callback")
	t.Crash = map[string]any{
		"class":       "go-panic",
		"signal":      "SIGABRT",
		"core_signal": "SIGABRT",
		"panic_msg":   callbackPanicMsg,
		"panic_type":  fmt.Sprintf("%T", any(callbackPanicMsg)),
		"goid":        curGoid(), // the callback runs on the calling goroutine
		"go_function": "main.goCallbackPanics",
		"c_function":  "call_go_callback",
		"go_caller":   "main.runCallback",
	}
	t.write(outdir)
	runCallback()
}

//go:noinline
func runCallback() { C.call_go_callback() }

// configError is the error main.openConfigPanics panics with.
func configError() error { return fmt.Errorf("open %s: %w", "db.conf", os.ErrNotExist) }

// go-panic-error: plain Go code (no cgo call on the way) panics with an error value.
func scenarioGoPanicError(outdir string) {
	e := configError()
	t := newTruth("go-panic-error")
	t.Crash = map[string]any{
		"class":       "go-panic",
		"signal":      "SIGABRT",
		"core_signal": "SIGABRT",
		"panic_msg":   e.Error(),
		"panic_type":  fmt.Sprintf("%T", e),
		"goid":        curGoid(),
		"go_function": "main.openConfigPanics",
	}
	t.write(outdir)
	openConfigPanics()
}

//go:noinline
func openConfigPanics() { panic(configError()) }
