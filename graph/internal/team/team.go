// Package team runs the pieces of a parallel loop on a team of goroutines
// that stay awake for a while between loops.
//
// A training step is a chain of short parallel loops (a GEMM split in two
// takes 100–300 µs) with microseconds of serial work between most of them.
// Starting goroutines for each loop wakes an idle core each time, and where
// the OS has halted that core, as a virtual machine's hypervisor does, the
// wake-up can cost more than the loop: in BenchmarkRun, two pieces of
// 100 µs started as goroutines took 228 µs side by side with no gap between
// loops and 274 µs with 400 µs gaps, more than the 200 µs of running them
// one after the other. The team's workers instead poll for the next loop
// for a while after finishing one (see [SetSpin]), yielding their core to
// any other goroutine or thread every 20 µs, and sleep only when none
// comes; the same loops then take 115 µs.
package team

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spin is how long an idle worker keeps polling for the next loop before it
// goes to sleep, in nanoseconds (see SetSpin).
var spin atomic.Int64

func init() { spin.Store(int64(spinFromEnv(os.Getenv("DCIM_SPIN")))) }

// SetSpin sets how long an idle worker keeps polling for the next loop
// before it goes to sleep, and returns the previous setting; 0 makes workers
// sleep at once. The environment variable DCIM_SPIN, a Go duration ("0",
// "500us", "20ms"), sets it at start-up.
func SetSpin(d time.Duration) time.Duration { return time.Duration(spin.Swap(int64(d))) }

// defaultSpin covers nearly all the serial gaps between the loops of a
// training step: in a dense eq. (21) step 95% were under 128 µs and 4%
// between 1 and 4 ms.
const defaultSpin = 5 * time.Millisecond

// spinFromEnv parses DCIM_SPIN, falling back to defaultSpin for an empty,
// malformed or negative value.
func spinFromEnv(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return defaultSpin
	}
	return d
}

// job is one call of Run: pieces [0, p) of f, claimed one at a time.
type job struct {
	f    func(piece int)
	p    int32
	next atomic.Int32 // the next piece to claim
	done atomic.Int32 // pieces finished
}

// work runs pieces of j until none is left to claim.
func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.p {
			return
		}
		j.f(int(i))
		j.done.Add(1)
	}
}

var (
	current  atomic.Pointer[job] // the latest job
	mu       sync.Mutex          // guards started, and the wait of sleeping workers
	wake     = sync.NewCond(&mu)
	started  int          // workers started
	sleeping atomic.Int32 // workers asleep or about to be; changed under mu
)

// Run calls f(piece) for every piece in [0, p) on the calling goroutine and
// up to p-1 workers of the team (no more than GOMAXPROCS-1), and returns
// when all calls have returned. Each piece runs once, on whichever
// goroutine claims it first. The caller claims pieces too, so Run finishes
// even when no worker comes (when all are busy with another Run, or asleep
// and slow to wake).
func Run(p int, f func(piece int)) {
	if p <= 1 {
		if p == 1 {
			f(0)
		}
		return
	}
	grow(min(p, runtime.GOMAXPROCS(0)) - 1)
	j := &job{f: f, p: int32(p)}
	current.Store(j)
	// A worker counts itself sleeping before it looks at current a last
	// time, so either it sees j or this sees it and wakes it.
	if sleeping.Load() > 0 {
		mu.Lock()
		wake.Broadcast()
		mu.Unlock()
	}
	j.work()
	spinUntil(func() bool { return j.done.Load() == j.p }, -1)
}

const (
	clockEvery = 256                   // polls between readings of the clock, about a microsecond
	yieldAfter = 20 * time.Microsecond // polling between yields of the core
)

// grow starts workers until there are at least n.
func grow(n int) {
	mu.Lock()
	defer mu.Unlock()
	for ; started < n; started++ {
		go worker(started)
	}
}

// worker runs the pieces of every new job it finds, polls for the next one
// for the spin time, then sleeps until Run wakes it. Worker id (from 0)
// takes part only while GOMAXPROCS leaves a core for it beside the
// caller's: workers left over from a higher GOMAXPROCS sleep, and skip the
// jobs they are woken for, instead of taking turns with those at work.
func worker(id int) {
	var last *job
	for {
		var j *job
		if active(id) {
			j = poll(last)
		}
		if j == nil {
			mu.Lock()
			sleeping.Add(1)
			for j = current.Load(); j == last; j = current.Load() {
				wake.Wait()
			}
			sleeping.Add(-1)
			mu.Unlock()
		}
		last = j
		if active(id) {
			j.work()
		}
	}
}

// active reports whether GOMAXPROCS leaves a core for worker id.
func active(id int) bool { return id < runtime.GOMAXPROCS(0)-1 }

// poll returns the current job once it is not last, polling for up to the
// spin time; it returns nil if none came.
func poll(last *job) *job {
	d := time.Duration(spin.Load())
	if d <= 0 {
		return nil
	}
	var j *job
	if !spinUntil(func() bool { j = current.Load(); return j != last }, d) {
		return nil
	}
	return j
}

// spinUntil polls done until it returns true, for up to limit (no limit if
// limit is negative), and reports whether it did. It reads the clock every
// clockEvery polls and every yieldAfter yields its core, to other
// goroutines and to other threads, of this process or another, that wait
// for it: yielding after every few hundred polls instead made a dense
// eq. (21) step about 15% slower on two cores, and without the OS's yield
// two processes training side by side on two cores made 40% less progress
// together, and GOMAXPROCS 4 on two cores 60% less.
func spinUntil(done func() bool, limit time.Duration) bool {
	start := time.Now()
	deadline, yield := start.Add(limit), start.Add(yieldAfter)
	for i := 1; !done(); i++ {
		if i%clockEvery != 0 {
			continue
		}
		now := time.Now()
		if limit >= 0 && now.After(deadline) {
			return false
		}
		if now.After(yield) {
			runtime.Gosched()
			osYield()
			yield = now.Add(yieldAfter)
		}
	}
	return true
}
