//go:build !linux && !purego

package simd

import "time"

// threadTime is 0 where a thread's own CPU time is not wired up (Linux
// has it): the benchmark's cpu-ns/op then reads 0.
func threadTime() time.Duration { return 0 }
