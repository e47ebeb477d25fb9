package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// withSpin sets the spin time for the length of a test.
func withSpin(t testing.TB, d time.Duration) {
	old := SetSpin(d)
	t.Cleanup(func() { SetSpin(old) })
}

// withProcs sets GOMAXPROCS for the length of a test.
func withProcs(t testing.TB, n int) {
	old := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

// TestRun checks that every piece runs exactly once and that Run returns
// only after all have, with workers polling and with workers asleep.
func TestRun(t *testing.T) {
	withProcs(t, 4)
	for _, spin := range []time.Duration{0, defaultSpin} {
		withSpin(t, spin)
		for _, p := range []int{0, 1, 2, 3, 4, 7, 64} {
			for rep := range 50 {
				counts := make([]atomic.Int32, p)
				Run(p, func(i int) {
					if rep%2 == 0 {
						time.Sleep(time.Duration(i%3) * 10 * time.Microsecond)
					}
					counts[i].Add(1)
				})
				for i := range counts {
					if n := counts[i].Load(); n != 1 {
						t.Fatalf("spin %v, p %d, repeat %d: piece %d ran %d times, want 1", spin, p, rep, i, n)
					}
				}
			}
		}
	}
}

// TestWorkersFollowGOMAXPROCS checks that a Run of more pieces than
// GOMAXPROCS starts no more than GOMAXPROCS-1 workers.
func TestWorkersFollowGOMAXPROCS(t *testing.T) {
	withProcs(t, 3)
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return started
	}
	before := count()
	var ran atomic.Int32
	Run(64, func(int) { ran.Add(1) })
	if ran.Load() != 64 {
		t.Fatalf("%d of 64 pieces ran", ran.Load())
	}
	if after := count(); after > max(before, 2) {
		t.Errorf("%d workers after a Run of 64 pieces under GOMAXPROCS 3 (%d before), want at most %d", after, before, max(before, 2))
	}
}

// TestRunConcurrent checks that Runs from several goroutines at once, and
// Runs inside the pieces of another Run, each run all their pieces once.
func TestRunConcurrent(t *testing.T) {
	withProcs(t, 4)
	const callers, runs, p = 6, 100, 5
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range runs {
				var outer [p]atomic.Int32
				var inner [p][3]atomic.Int32
				Run(p, func(i int) {
					outer[i].Add(1)
					Run(3, func(k int) { inner[i][k].Add(1) })
				})
				for i := range outer {
					if outer[i].Load() != 1 {
						bad.Add(1)
					}
					for k := range inner[i] {
						if inner[i][k].Load() != 1 {
							bad.Add(1)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Errorf("%d pieces ran other than once", n)
	}
}

// TestRunInParallel checks that the pieces of one Run run at the same time
// on different goroutines: each piece waits until all p have started, which
// the caller alone could never bring about. It covers a worker polling for
// the job and a worker woken from sleep.
func TestRunInParallel(t *testing.T) {
	const p = 3
	withProcs(t, p)
	for _, spin := range []time.Duration{0, defaultSpin} {
		withSpin(t, spin)
		for rep := range 20 {
			var arrived atomic.Int32
			var timedOut atomic.Bool
			Run(p, func(int) {
				arrived.Add(1)
				deadline := time.Now().Add(10 * time.Second)
				for arrived.Load() < p {
					if time.Now().After(deadline) {
						timedOut.Store(true)
						return
					}
					runtime.Gosched()
				}
			})
			if timedOut.Load() {
				t.Fatalf("spin %v, repeat %d: only %d of %d pieces started within 10 s", spin, rep, arrived.Load(), p)
			}
			if spin == 0 {
				time.Sleep(time.Millisecond) // let the workers fall asleep
			}
		}
	}
}

// TestSurplusWorkersSleep checks that after GOMAXPROCS drops, the workers
// it no longer leaves a core for go to sleep instead of polling.
func TestSurplusWorkersSleep(t *testing.T) {
	withSpin(t, time.Hour)
	withProcs(t, 6)
	Run(6, func(int) {})
	runtime.GOMAXPROCS(2)
	Run(2, func(int) {})
	mu.Lock()
	n := started
	mu.Unlock()
	// Workers 1 and up (all but one) must end up asleep, although the spin
	// time would keep them polling for an hour.
	deadline := time.Now().Add(10 * time.Second)
	for int(sleeping.Load()) < n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d workers asleep after GOMAXPROCS fell to 2, want %d", sleeping.Load(), n, n-1)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSpinFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  string
		want time.Duration
	}{
		{"", defaultSpin},
		{"0", 0},
		{"500us", 500 * time.Microsecond},
		{"20ms", 20 * time.Millisecond},
		{"-1ms", defaultSpin},
		{"fast", defaultSpin},
		{"5", defaultSpin}, // a duration needs its unit
	} {
		if got := spinFromEnv(c.env); got != c.want {
			t.Errorf("spinFromEnv(%q) = %v, want %v", c.env, got, c.want)
		}
	}
}
