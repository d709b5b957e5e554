module contend/bench/sync/go_snapshot

go 1.19
