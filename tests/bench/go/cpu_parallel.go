// Go twin of tests/bench/cpu_parallel.c: the same integer hash work done by
// one goroutine, then split over N goroutines at once; every chunk's result
// must agree (checked); speedup = t(1) / t(N).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

var stepsPerChunk int

func chunk(seed uint64) uint64 {
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := 0; i < stepsPerChunk; i++ {
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 29
	}
	return x
}

func main() {
	n, millions := 2, 200
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		millions, _ = strconv.Atoi(os.Args[2])
	}
	if n < 1 || millions < 1 {
		fmt.Fprintln(os.Stderr, "usage: cpu_parallel [THREADS>0 [MILLIONS>0]]")
		os.Exit(2)
	}
	stepsPerChunk = millions * 1000000 / n
	one, par := make([]uint64, n), make([]uint64, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		done := make(chan uint64)
		go func(i int) { done <- chunk(uint64(i)) }(i)
		one[i] = <-done
	}
	t1 := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { par[i] = chunk(uint64(i)); wg.Done() }(i)
	}
	wg.Wait()
	t2 := time.Now()
	for i := range one {
		if one[i] != par[i] {
			fmt.Fprintf(os.Stderr, "cpu_parallel: chunk %d differs between the runs\n", i)
			os.Exit(1)
		}
	}
	a, b := float64(t1.Sub(t0).Microseconds())/1e3, float64(t2.Sub(t1).Microseconds())/1e3
	fmt.Printf("RESULT name=cpu_parallel speedup=%.3f t1_ms=%.1f tn_ms=%.1f threads=%d\n", a/b, a, b, n)
}
