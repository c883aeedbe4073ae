module coretool/libsuite

go 1.22
