// Go twin of tests/sync/bench_lock.c and bench_contended.c:
//   mutex lock [N]                 uncontended Lock+Unlock pairs in one goroutine
//   mutex contended [G [PER]]      G goroutines (default 1,000) each doing PER
//                                  (default 10,000) locked increments of one counter
// ns per Lock+Unlock pair; the counter must come out exact (checked).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func arg(i, def int) int {
	if len(os.Args) > i {
		v, err := strconv.Atoi(os.Args[i])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: mutex lock [N] | mutex contended [G [PER]]")
			os.Exit(2)
		}
		return v
	}
	return def
}

func main() {
	var mu sync.Mutex
	counter := 0
	mode := "lock"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "lock":
		n := arg(2, 50000000)
		done := make(chan time.Duration)
		go func() { // in a created goroutine, as the C twin
			start := time.Now()
			for i := 0; i < n; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			done <- time.Since(start)
		}()
		d := <-done
		if counter != n {
			fmt.Fprintf(os.Stderr, "mutex: counter %d, expected %d\n", counter, n)
			os.Exit(1)
		}
		fmt.Printf("RESULT name=uncontended_lock ns_per_op=%.2f ops=%d\n", float64(d.Nanoseconds())/float64(n), n)
	case "contended":
		g, per := arg(2, 1000), arg(3, 10000)
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < g; i++ {
			wg.Add(1)
			go func() {
				for j := 0; j < per; j++ {
					mu.Lock()
					counter++
					mu.Unlock()
				}
				wg.Done()
			}()
		}
		wg.Wait()
		d := time.Since(start)
		if counter != g*per {
			fmt.Fprintf(os.Stderr, "mutex: counter %d, expected %d\n", counter, g*per)
			os.Exit(1)
		}
		fmt.Printf("RESULT name=contended_mutex_%d ns_per_op=%.1f ops=%d\n", g, float64(d.Nanoseconds())/float64(g*per), g*per)
	default:
		arg(100, 0)
		fmt.Fprintln(os.Stderr, "usage: mutex lock [N] | mutex contended [G [PER]]")
		os.Exit(2)
	}
}
