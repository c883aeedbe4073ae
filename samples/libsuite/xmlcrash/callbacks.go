package main

// Go functions libxml2 calls back. (A file with //export may only declare in its preamble.)

// #include <stdlib.h>
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

// xmlcrashReaderError is the xmlTextReaderErrorFunc the feed reader installs.
//
//export xmlcrashReaderError
func xmlcrashReaderError(arg unsafe.Pointer, msg *C.char, severity C.int, locator unsafe.Pointer) {
	fmt.Fprintf(os.Stderr, "feed: %s", C.GoString(msg))
}

// xmlcrashLegacyInput is the input converter of the legacy encoding (xmlCharEncodingInputFunc):
// Latin-1 to UTF-8.
//
//export xmlcrashLegacyInput
func xmlcrashLegacyInput(out *C.uchar, outlen *C.int, in *C.uchar, inlen *C.int) C.int {
	o := unsafe.Slice((*byte)(unsafe.Pointer(out)), int(*outlen))
	i := unsafe.Slice((*byte)(unsafe.Pointer(in)), int(*inlen))
	n, m := 0, 0
	for ; m < len(i); m++ {
		c := i[m]
		if c < 0x80 {
			if n+1 > len(o) {
				break
			}
			o[n] = c
			n++
		} else {
			if n+2 > len(o) {
				break
			}
			o[n], o[n+1] = 0xc0|c>>6, 0x80|c&0x3f
			n += 2
		}
	}
	*outlen, *inlen = C.int(n), C.int(m)
	return C.int(n)
}
