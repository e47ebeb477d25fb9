//go:build !unix && !windows

package cputime

import "time"

// Process is 0 where the process's CPU time is not wired up.
func Process() time.Duration { return 0 }
