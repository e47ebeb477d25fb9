//go:build !unix && !windows

package graph

import "time"

// cpuTime is 0 where the process's CPU time is not wired up.
func cpuTime() time.Duration { return 0 }
