// Copyright 2026 The contend Authors.
//
// Go's channels on the workloads of bench/sync/chan_benchmark.cc, so that
// contend::Chan can be read beside them (bench/sync/chan_vs_go runs both).
// Each benchmark reports ns per message (or per round trip / per select),
// with GOMAXPROCS left at the machine's CPU count.
package go_chan

import (
	"sync"
	"testing"
)

const capacity = 64

// pairs producer goroutines send b.N values each; as many consumers receive.
func buffered(b *testing.B, pairs int) {
	ch := make(chan int64, capacity)
	var wg sync.WaitGroup
	b.ResetTimer()
	for p := 0; p < pairs; p++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < b.N; i++ {
				ch <- 1
			}
		}()
		go func() {
			defer wg.Done()
			var sum int64
			for i := 0; i < b.N; i++ {
				sum += <-ch
			}
			_ = sum
		}()
	}
	wg.Wait()
}

func BenchmarkBuffered64T2(b *testing.B) { buffered(b, 1) }
func BenchmarkBuffered64T4(b *testing.B) { buffered(b, 2) }

func BenchmarkUnbuffered(b *testing.B) {
	ch := make(chan int64)
	done := make(chan struct{})
	go func() {
		var sum int64
		for i := 0; i < b.N; i++ {
			sum += <-ch
		}
		_ = sum
		close(done)
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch <- 1
	}
	<-done
}

func BenchmarkPingPong(b *testing.B) {
	ping := make(chan int64)
	pong := make(chan int64)
	go func() {
		for i := 0; i < b.N; i++ {
			pong <- <-ping
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- 1
		<-pong
	}
}

func BenchmarkSelect2(b *testing.B) {
	c := [2]chan int64{make(chan int64, capacity), make(chan int64, capacity)}
	go func() {
		for i := 0; i < b.N; i++ {
			c[i%2] <- 1
		}
	}()
	b.ResetTimer()
	var sum int64
	for i := 0; i < b.N; i++ {
		select {
		case v := <-c[0]:
			sum += v
		case v := <-c[1]:
			sum += v
		}
	}
	_ = sum
}

func BenchmarkSelect4(b *testing.B) {
	var c [4]chan int64
	for i := range c {
		c[i] = make(chan int64, capacity)
	}
	go func() {
		for i := 0; i < b.N; i++ {
			c[i%4] <- 1
		}
	}()
	b.ResetTimer()
	var sum int64
	for i := 0; i < b.N; i++ {
		select {
		case v := <-c[0]:
			sum += v
		case v := <-c[1]:
			sum += v
		case v := <-c[2]:
			sum += v
		case v := <-c[3]:
			sum += v
		}
	}
	_ = sum
}
