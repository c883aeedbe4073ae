//go:build !goexperiment.mapsplitgroup

package main

const splitGroup = false
