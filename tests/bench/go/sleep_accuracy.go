// Go twin of tests/bench/sleep_accuracy.c: G goroutines (default 100) each
// doing SLEEPS (default 100) time.Sleep calls of 50 us..2 ms; lateness =
// actual - requested, none may be negative (checked).
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

func main() {
	n, sleeps := 100, 100
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		sleeps, _ = strconv.Atoi(os.Args[2])
	}
	if n < 1 || sleeps < 1 {
		fmt.Fprintln(os.Stderr, "usage: sleep_accuracy [G>0 [SLEEPS>0]]")
		os.Exit(2)
	}
	late := make([]int64, n*sleeps)
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := uint32(g)*2654435761 + 1
			for i := 0; i < sleeps; i++ {
				x = x*1103515245 + 12345
				req := time.Duration(50000 + int64((x>>8)%1950000))
				t0 := time.Now()
				time.Sleep(req)
				late[g*sleeps+i] = int64(time.Since(t0) - req)
			}
		}(g)
	}
	wg.Wait()
	early := 0
	for _, l := range late {
		if l < 0 {
			early++
		}
	}
	if early > 0 {
		fmt.Fprintf(os.Stderr, "sleep_accuracy: %d sleeps returned early\n", early)
		os.Exit(1)
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	q := func(f float64) float64 { return float64(late[int(f*float64(len(late)-1)+0.5)]) / 1e3 }
	fmt.Printf("RESULT name=sleep_accuracy p50_us=%.1f p99_us=%.1f max_us=%.1f sleeps=%d\n", q(0.5), q(0.99), q(1), len(late))
}
