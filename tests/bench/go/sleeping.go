// Go twin of tests/bench/sleeping.c: N goroutines (default 100,000) all
// asleep at once until one deadline SECONDS (default 3) after start, then
// waited for. Taken while all N sleep (checked: none has woken yet), per
// goroutine: VmRSS, VmPTE and /proc/meminfo KernelStack+Slab growth, and
// stack_b = the runtime's StackInuse / N. Wall times as the C program.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func kb(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		l := s.Text()
		if strings.HasPrefix(l, key+":") {
			v, _ := strconv.ParseInt(strings.Fields(l[len(key)+1:])[0], 10, 64)
			return v * 1024
		}
	}
	return -1
}

type mem struct{ rss, pte, kernel int64 }

func memNow() mem {
	return mem{kb("/proc/self/status", "VmRSS"), kb("/proc/self/status", "VmPTE"),
		kb("/proc/meminfo", "KernelStack") + kb("/proc/meminfo", "Slab")}
}

func main() {
	n, secs := 100000, 3
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		secs, _ = strconv.Atoi(os.Args[2])
	}
	if n < 1 || secs < 1 {
		fmt.Fprintln(os.Stderr, "usage: sleeping [GOROUTINES>0 [SECONDS>0]]")
		os.Exit(2)
	}
	before := memNow()
	start := time.Now()
	deadline := start.Add(time.Duration(secs) * time.Second)
	var arrived, woken, early int64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&arrived, 1)
			time.Sleep(time.Until(deadline))
			if time.Now().Before(deadline) {
				atomic.AddInt64(&early, 1)
			}
			atomic.AddInt64(&woken, 1)
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&arrived) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	tAll := time.Now()
	after := memNow()
	kthreads := kb("/proc/self/status", "Threads") / 1024
	wokeBefore := atomic.LoadInt64(&woken)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("sleeping: %d goroutines asleep at once after %.3f s; kernel threads %d\n", n, tAll.Sub(start).Seconds(), kthreads)
	wg.Wait()
	end := time.Now()
	if wokeBefore != 0 {
		fmt.Fprintf(os.Stderr, "sleeping: %d goroutines had woken before all %d were asleep: raise SECONDS\n", wokeBefore, n)
		os.Exit(1)
	}
	if early != 0 {
		fmt.Fprintf(os.Stderr, "sleeping: %d sleeps returned early\n", early)
		os.Exit(1)
	}
	f := float64(n)
	rss, pte, kern := float64(after.rss-before.rss)/f, float64(after.pte-before.pte)/f, float64(after.kernel-before.kernel)/f
	fmt.Printf("RESULT name=sleeping threads=%d total_b=%.0f rss_b=%.0f pte_b=%.0f kernel_b=%.0f stack_b=%.0f "+
		"kthreads=%d create_s=%.3f wake_s=%.3f wall_s=%.3f failed=0\n",
		n, rss+pte+kern, rss, pte, kern, float64(ms.StackInuse)/f, kthreads, tAll.Sub(start).Seconds(),
		end.Sub(deadline).Seconds(), end.Sub(start).Seconds())
}
