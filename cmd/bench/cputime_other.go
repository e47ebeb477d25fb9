//go:build !unix && !windows

package main

import "time"

// cpuTime is 0 where the process's CPU time is not wired up: the
// cpu_ms_per_step column then reads 0.
func cpuTime() time.Duration { return 0 }
