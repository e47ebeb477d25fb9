//go:build unix || windows

package cputime

import "testing"

// TestProcess: a busy loop shows as CPU time, and the time only grows.
func TestProcess(t *testing.T) {
	before := Process()
	x := 0.0
	for i := range 50_000_000 {
		x += float64(i % 7)
	}
	after := Process()
	if x == 0 || after <= before {
		t.Errorf("CPU time %v, then %v after a busy loop", before, after)
	}
}
