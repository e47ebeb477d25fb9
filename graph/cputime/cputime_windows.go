package cputime

import (
	"time"

	"golang.org/x/sys/windows"
)

// Process is the CPU time (user and kernel) this process has used so
// far, 0 where it cannot be read.
func Process() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user); err != nil {
		return 0
	}
	// A Filetime counts 100 ns ticks; Nanoseconds would read it as a date.
	ticks := func(f windows.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100)
}
