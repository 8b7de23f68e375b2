// Go twin of examples/create_join: start a goroutine and wait for it, N times.
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
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
	fmt.Printf("RESULT name=create_join ns_per_op=%.1f ops=%d\n", float64(time.Since(start).Nanoseconds())/float64(n), n)
}
