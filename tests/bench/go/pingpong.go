// Go twin of examples/pingpong: two goroutines hand a turn back and forth
// with sync.Cond ("cond") or runtime.Gosched spinning ("yield").
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode, n := "cond", 1000000
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	var mu sync.Mutex
	cv := sync.NewCond(&mu)
	var turn int32
	var wg sync.WaitGroup
	player := func(me int32) {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if mode == "cond" {
				mu.Lock()
				for turn != me {
					cv.Wait()
				}
				turn = 1 - me
				cv.Signal()
				mu.Unlock()
			} else {
				for atomic.LoadInt32(&turn) != me {
					runtime.Gosched()
				}
				atomic.StoreInt32(&turn, 1-me)
			}
		}
	}
	start := time.Now()
	wg.Add(2)
	go player(0)
	go player(1)
	wg.Wait()
	fmt.Printf("RESULT name=pingpong_%s ns_per_op=%.1f ops=%d\n", mode, float64(time.Since(start).Nanoseconds())/float64(2*n), 2*n)
}
