module coretool/samples/bigmap

go 1.22
