// Copyright 2026 The contend Authors.
//
// W6 for Go's sync.Pool, the peer of //bench/pool:pool_benchmark: get a
// zeroed 1 KiB buffer, touch it, put it back. -cpu 1,2,4 gives T = 1, 2, 4
// (RunParallel runs GOMAXPROCS goroutines).
package pool

import (
	"sync"
	"testing"
)

const size = 1024

var pool = sync.Pool{New: func() any { b := make([]byte, size); return &b }}

func BenchmarkW6SyncPool(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := pool.Get().(*[]byte)
			buf := *p
			for i := range buf {
				buf[i] = 0
			}
			buf[0], buf[size-1] = 1, 2
			pool.Put(p)
		}
	})
}

func BenchmarkW6Make(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf := make([]byte, size)
			buf[0], buf[size-1] = 1, 2
			sink = buf
		}
	})
}

var sink []byte
