// Go twin of tests/bench/ring.c: the Benchmarks Game thread ring with
// goroutines and unbuffered channels. THREADS goroutines (default 503) pass
// a token HOPS times (default 1,000,000); the goroutine that receives 0
// must be number (HOPS mod THREADS) + 1, and each must have passed its
// share (checked). Timed from the first send, per hop.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	threads, hops := 503, 1000000
	if len(os.Args) > 1 {
		threads, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		hops, _ = strconv.Atoi(os.Args[2])
	}
	if threads < 2 || hops < 1 {
		fmt.Fprintln(os.Stderr, "usage: ring [THREADS>1 [HOPS>0]]")
		os.Exit(2)
	}
	ch := make([]chan int, threads)
	for i := range ch {
		ch[i] = make(chan int)
	}
	passes := make([]int, threads)
	winner := make(chan int)
	for i := 0; i < threads; i++ {
		go func(me int) {
			in, out := ch[me], ch[(me+1)%threads]
			for {
				t := <-in
				if t == 0 {
					winner <- me + 1
					return
				}
				passes[me]++
				out <- t - 1
			}
		}(i)
	}
	start := time.Now()
	ch[0] <- hops
	w := <-winner
	elapsed := time.Since(start)
	bad := 0
	for i := 0; i < threads; i++ {
		share := hops / threads
		if i < hops%threads {
			share++
		}
		if passes[i] != share {
			bad++
		}
	}
	if w != hops%threads+1 || bad != 0 {
		fmt.Fprintf(os.Stderr, "ring: winner %d (want %d), %d goroutines with a wrong pass count\n", w, hops%threads+1, bad)
		os.Exit(1)
	}
	fmt.Printf("RESULT name=ring ns_per_op=%.1f ops=%d winner=%d\n", float64(elapsed.Nanoseconds())/float64(hops), hops, w)
}
