module coretool/samples

go 1.22
