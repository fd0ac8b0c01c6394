// The compare workloads in Go, for the `go` column of `compare`. The sync workloads
// (mutex1, mutex2, mutex4, rwlock95, map90, wground, oncefast, sema) ignore <kind>; Go has no
// semaphore in its standard library, so "sema" uses the idiomatic buffered channel.
//
//
//	go-bench <workload> <kind> <n>
//
// workload: seq | spsc | mpsc | mpmc (4 senders / 4 receivers, as in the Rust harness);
// kind: bounded0 | bounded1 | boundedN | unbounded. Go has no unbounded channel: like
// crossbeam's Go benchmarks, "unbounded" uses a buffer of n. Prints ns per message.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const T = 4

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go-bench <workload> <kind> <n>")
		os.Exit(2)
	}
	workload, kind := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if ns, ok := runSync(workload, n); ok {
		fmt.Printf("%.2f\n", ns)
		return
	}
	var capacity int
	switch kind {
	case "bounded0":
		capacity = 0
	case "bounded1":
		capacity = 1
	case "boundedN", "unbounded":
		capacity = n
	default:
		fmt.Fprintln(os.Stderr, "unknown kind", kind)
		os.Exit(2)
	}
	ch := make(chan uint64, capacity)
	var expect uint64
	for i := 0; i < n; i++ {
		expect += uint64(i)
	}
	if workload == "select_rx" || workload == "select_both" {
		ns, ok := runSelect(workload, capacity, n, expect)
		if !ok {
			os.Exit(1)
		}
		fmt.Printf("%.2f\n", ns)
		return
	}
	senders, receivers := 1, 1
	switch workload {
	case "seq", "spsc":
	case "mpsc":
		senders = T
	case "mpmc":
		senders, receivers = T, T
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", workload)
		os.Exit(2)
	}
	start := time.Now()
	var sum uint64
	if workload == "seq" {
		for i := 0; i < n; i++ {
			ch <- uint64(i)
		}
		for i := 0; i < n; i++ {
			sum += <-ch
		}
	} else {
		var wg sync.WaitGroup
		for t := 0; t < senders; t++ {
			wg.Add(1)
			go func(t int) {
				defer wg.Done()
				for i := t; i < n; i += senders {
					ch <- uint64(i)
				}
			}(t)
		}
		sums := make(chan uint64, receivers)
		for t := 0; t < receivers; t++ {
			count := n / receivers
			if t < n%receivers {
				count++
			}
			go func(count int) {
				var s uint64
				for i := 0; i < count; i++ {
					s += <-ch
				}
				sums <- s
			}(count)
		}
		for t := 0; t < receivers; t++ {
			sum += <-sums
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	if sum != expect {
		fmt.Fprintln(os.Stderr, "wrong sum", sum, expect)
		os.Exit(1)
	}
	fmt.Printf("%.2f\n", float64(elapsed.Nanoseconds())/float64(n))
}

// runSelect: select_rx (4 senders each on its own channel, one receiver selecting over the 4)
// and select_both (4 selecting senders, 4 selecting receivers over 4 channels).
func runSelect(workload string, capacity, n int, expect uint64) (float64, bool) {
	var chans [4]chan uint64
	for i := range chans {
		chans[i] = make(chan uint64, capacity)
	}
	recv4 := func() uint64 {
		select {
		case v := <-chans[0]:
			return v
		case v := <-chans[1]:
			return v
		case v := <-chans[2]:
			return v
		case v := <-chans[3]:
			return v
		}
	}
	start := time.Now()
	var sum uint64
	if workload == "select_rx" {
		for t := 0; t < T; t++ {
			go func(t int) {
				for i := t; i < n; i += T {
					chans[t] <- uint64(i)
				}
			}(t)
		}
		for i := 0; i < n; i++ {
			sum += recv4()
		}
	} else {
		for t := 0; t < T; t++ {
			go func(t int) {
				for i := t; i < n; i += T {
					v := uint64(i)
					select {
					case chans[0] <- v:
					case chans[1] <- v:
					case chans[2] <- v:
					case chans[3] <- v:
					}
				}
			}(t)
		}
		sums := make(chan uint64, T)
		for t := 0; t < T; t++ {
			count := n / T
			if t < n%T {
				count++
			}
			go func(count int) {
				var s uint64
				for i := 0; i < count; i++ {
					s += recv4()
				}
				sums <- s
			}(count)
		}
		for t := 0; t < T; t++ {
			sum += <-sums
		}
	}
	elapsed := time.Since(start)
	if sum != expect {
		fmt.Fprintln(os.Stderr, "wrong sum", sum, expect)
		return 0, false
	}
	return float64(elapsed.Nanoseconds()) / float64(n), true
}

// runSync runs a sync workload; ok is false if the name is not one.
func runSync(workload string, n int) (float64, bool) {
	start := time.Now()
	switch workload {
	case "mutex1", "mutex2", "mutex4":
		threads := map[string]int{"mutex1": 1, "mutex2": 2, "mutex4": 4}[workload]
		var mu sync.Mutex
		var count uint64
		var wg sync.WaitGroup
		for t := 0; t < threads; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n/threads; i++ {
					mu.Lock()
					count++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	case "rwlock95":
		var mu sync.RWMutex
		var value, sink uint64
		var wg sync.WaitGroup
		for t := 0; t < 4; t++ {
			wg.Add(1)
			go func(t int) {
				defer wg.Done()
				var local uint64
				for i := 0; i < n/4; i++ {
					if (i+t)%20 == 0 {
						mu.Lock()
						value++
						mu.Unlock()
					} else {
						mu.RLock()
						local += value
						mu.RUnlock()
					}
				}
				mu.Lock()
				sink += local
				mu.Unlock()
			}(t)
		}
		wg.Wait()
	case "wground":
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			wg.Done()
			wg.Wait()
		}
	case "oncefast":
		var once sync.Once
		once.Do(func() {})
		for i := 0; i < n; i++ {
			once.Do(func() {})
		}
	case "map90":
		// sync.Map with 1024 keys; 4 goroutines, 90% Load / 10% Store on xorshift keys.
		var m sync.Map
		for k := uint64(0); k < 1024; k++ {
			m.Store(k, k)
		}
		start = time.Now()
		var wg sync.WaitGroup
		var sink atomic.Uint64
		for t := 0; t < 4; t++ {
			wg.Add(1)
			go func(t int) {
				defer wg.Done()
				x := uint64(0x9E3779B97F4A7C15) ^ uint64(t+1)
				var sum uint64
				for i := 0; i < n/4; i++ {
					x ^= x << 13
					x ^= x >> 7
					x ^= x << 17
					k := x % 1024
					if i%10 == 0 {
						m.Store(k, uint64(i))
					} else if v, ok := m.Load(k); ok {
						sum += v.(uint64)
					}
				}
				sink.Add(sum)
			}(t)
		}
		wg.Wait()
	case "sema":
		sem := make(chan struct{}, 4)
		for i := 0; i < n; i++ {
			sem <- struct{}{}
			<-sem
		}
	default:
		return 0, false
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n), true
}
