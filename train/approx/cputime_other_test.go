//go:build !unix && !windows

package approx

import "math"

// cpuSeconds is NaN where the process's CPU time is not wired up.
func cpuSeconds() float64 { return math.NaN() }
