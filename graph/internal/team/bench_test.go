package team

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkRun times a loop of two pieces of about 100 µs each followed by
// a serial gap, as a training step's split GEMMs are, run by the team
// (polling workers, and workers that sleep at once) and by a goroutine
// started per piece. The metric loop-µs is the time per loop without the
// gap: about 100 µs means the pieces ran side by side, 200 µs or more that
// waking a core cost as much as the work.
func BenchmarkRun(b *testing.B) {
	withProcs(b, 2)
	data := make([][]float32, 2)
	for i := range data {
		data[i] = make([]float32, 1<<14)
	}
	piece := func(i int) {
		d := data[i]
		for t0 := time.Now(); time.Since(t0) < 100*time.Microsecond; {
			for k := range d {
				d[k] = d[k]*0.5 + 1
			}
		}
	}
	spawn := func(p int, f func(int)) {
		var wg sync.WaitGroup
		for i := 1; i < p; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(i)
			}()
		}
		f(0)
		wg.Wait()
	}
	for _, gap := range []time.Duration{0, 20 * time.Microsecond, 400 * time.Microsecond} {
		for _, m := range []struct {
			name string
			spin time.Duration
			run  func(int, func(int))
		}{
			{"team", defaultSpin, Run},
			{"team-nospin", 0, Run},
			{"goroutines", 0, spawn},
		} {
			b.Run(fmt.Sprintf("gap=%v/%s", gap, m.name), func(b *testing.B) {
				withSpin(b, m.spin)
				var work time.Duration
				for range b.N {
					t0 := time.Now()
					m.run(2, piece)
					work += time.Since(t0)
					for t1 := time.Now(); time.Since(t1) < gap; {
					}
				}
				b.ReportMetric(float64(work.Microseconds())/float64(b.N), "loop-µs")
			})
		}
	}
}
