// Go twin of examples/pingpong: two goroutines hand a token back and forth
// N round trips (a round trip is two switches), timed by goroutine A after
// both are running:
//   cond:  sync.Mutex + sync.Cond on a shared turn variable
//   yield: spinning on the turn variable with runtime.Gosched
//   chan:  two unbuffered channels (the twin of the C "sem" mode)
// Prints "RESULT name=pingpong_<mode> ns_per_op=<ns per switch> ops=<2N>".
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
	if n < 1 || (mode != "cond" && mode != "yield" && mode != "chan") {
		fmt.Fprintln(os.Stderr, "usage: pingpong cond|yield|chan [ROUND_TRIPS>0]")
		os.Exit(2)
	}
	var mu sync.Mutex
	cv := sync.NewCond(&mu)
	var turn int32
	ch := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var ready, done sync.WaitGroup
	var elapsed time.Duration
	var handovers [2]int
	pass := func(me int32) {
		switch mode {
		case "cond":
			mu.Lock()
			for turn != me {
				cv.Wait()
			}
			turn = 1 - me
			cv.Signal()
			mu.Unlock()
		case "yield":
			for atomic.LoadInt32(&turn) != me {
				runtime.Gosched()
			}
			atomic.StoreInt32(&turn, 1-me)
		}
	}
	player := func(me int32) {
		defer done.Done()
		ready.Done()
		ready.Wait()
		start := time.Now()
		for i := 0; i < n; i++ {
			if mode == "chan" {
				if me == 0 {
					ch[1] <- struct{}{}
					<-ch[0]
				} else {
					<-ch[1]
					ch[0] <- struct{}{}
				}
			} else {
				pass(me)
			}
			handovers[me]++
		}
		if me == 0 && mode == "cond" {
			// wait for B's last hand-back: N complete round trips
			mu.Lock()
			for turn != 0 {
				cv.Wait()
			}
			mu.Unlock()
		} else if me == 0 && mode == "yield" {
			for atomic.LoadInt32(&turn) != 0 {
				runtime.Gosched()
			}
		}
		if me == 0 {
			elapsed = time.Since(start)
		}
	}
	ready.Add(2)
	done.Add(2)
	go player(0)
	go player(1)
	done.Wait()
	if handovers[0] != n || handovers[1] != n || turn != 0 {
		fmt.Fprintf(os.Stderr, "pingpong: hand-overs %d/%d (want %d each), final turn %d\n", handovers[0], handovers[1], n, turn)
		os.Exit(1)
	}
	fmt.Printf("RESULT name=pingpong_%s ns_per_op=%.1f ops=%d\n", mode, float64(elapsed.Nanoseconds())/float64(2*n), 2*n)
}
