// Copyright 2026 The contend Authors.
//
// W7, the config pointer, in Go: T reader goroutines load the current config
// through atomic.Pointer[Config] and read a field while one writer goroutine
// publishes a fresh config and sleeps 1 ms, the same loop as
// bench/sync/snapshot_benchmark.cc (bench/sync/snapshot_vs_go runs both).
// Go's garbage collector frees replaced configs; this is the cell the article
// *sync — Senior* (section 4) recommends for ">99% reads".
//
// ns/op is the time of one load on one reader: every reader does b.N loads,
// all readers run at once, and the elapsed time is divided by b.N.
// writer_swaps/s is what the writer achieved (at most ~1000/s).
package go_snapshot

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type config struct {
	limit int64
	pad   [7]int64
}

var sink int64

func w7(b *testing.B, readers int) {
	var cell atomic.Pointer[config]
	cell.Store(&config{})
	var stop atomic.Bool
	var swaps int64
	writerDone := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(writerDone)
		for v := int64(1); !stop.Load(); v++ {
			cell.Store(&config{limit: v})
			swaps++
			time.Sleep(time.Millisecond)
		}
	}()
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(readers)
	done.Add(readers)
	sums := make([]int64, readers*8) // one cache line apart
	for r := 0; r < readers; r++ {
		go func(r int) {
			defer done.Done()
			ready.Done()
			<-gate
			var sum int64
			for i := 0; i < b.N; i++ {
				sum += cell.Load().limit
			}
			sums[r*8] = sum
		}(r)
	}
	ready.Wait()
	b.ResetTimer()
	close(gate)
	done.Wait()
	b.StopTimer()
	stop.Store(true)
	<-writerDone
	for _, s := range sums {
		sink += s
	}
	b.ReportMetric(float64(swaps)/time.Since(start).Seconds(), "writer_swaps/s")
}

func BenchmarkW7AtomicPointerReaders1(b *testing.B) { w7(b, 1) }
func BenchmarkW7AtomicPointerReaders2(b *testing.B) { w7(b, 2) }
func BenchmarkW7AtomicPointerReaders4(b *testing.B) { w7(b, 4) }
