package cputime

import (
	"runtime"
	"testing"
)

// TestThread: a busy loop on a locked thread shows as that thread's CPU
// time.
func TestThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := Thread()
	x := 0.0
	for i := range 50_000_000 {
		x += float64(i % 7)
	}
	after := Thread()
	if x == 0 || after <= before {
		t.Errorf("thread CPU time %v, then %v after a busy loop", before, after)
	}
}
