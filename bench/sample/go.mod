module coretool/bench/sample

go 1.22
