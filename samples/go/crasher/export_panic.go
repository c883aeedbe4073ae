package main

// A file with //export may only have declarations in its preamble: this one has none (the
// C trampoline, call_go_callback, is in crasher.c).

import "C"

// goCallbackPanics is called from C (call_go_callback) and panics.
//
//export goCallbackPanics
//go:noinline
func goCallbackPanics() { panic(callbackPanicMsg) }
