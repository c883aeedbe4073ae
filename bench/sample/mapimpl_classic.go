//go:build !go1.24 || (!go1.26 && !goexperiment.swissmap)

package main

// Classic maps (hmap and buckets): Go 1.22/1.23, and 1.24/1.25 with GOEXPERIMENT=noswissmap.
const mapImpl = "classic"
