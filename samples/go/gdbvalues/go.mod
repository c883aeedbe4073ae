module coretool/samples/gdbvalues

go 1.22
