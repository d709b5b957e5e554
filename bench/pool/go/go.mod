module contend/bench/pool

go 1.19
