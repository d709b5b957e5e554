module contend/bench/sync/go_chan

go 1.19
