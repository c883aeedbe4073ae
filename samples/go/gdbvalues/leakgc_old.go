//go:build !go1.27

package main

// runLeakDetector: before Go 1.27 the leak profile needs
// GOEXPERIMENT=goroutineleakprofile (1.26) or does not exist; not run.
func runLeakDetector() bool { return false }
