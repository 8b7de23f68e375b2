// Go twin of examples/create_join: start a goroutine and wait for it, N
// times one after another; each goroutine hands back its index, which is
// checked.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if n < 1 {
		fmt.Fprintln(os.Stderr, "usage: create_join [N>0]")
		os.Exit(2)
	}
	var wg sync.WaitGroup
	got := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { got = i; wg.Done() }(i)
		wg.Wait()
		if got != i {
			fmt.Fprintf(os.Stderr, "create_join: goroutine %d returned %d\n", i, got)
			os.Exit(1)
		}
	}
	fmt.Printf("RESULT name=create_join ns_per_op=%.1f ops=%d\n", float64(time.Since(start).Nanoseconds())/float64(n), n)
}
