//go:build go1.26 || (go1.24 && goexperiment.swissmap)

package main

// Swiss tables: the default from Go 1.24, the only implementation from Go 1.26.
const mapImpl = "swiss"
