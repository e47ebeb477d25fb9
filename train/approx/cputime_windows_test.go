package approx

import (
	"math"

	"golang.org/x/sys/windows"
)

// cpuSeconds is the CPU time (user and kernel) the process has used.
func cpuSeconds() float64 {
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user); err != nil {
		return math.NaN()
	}
	ticks := func(f windows.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) } // of 100 ns
	return float64(ticks(kernel)+ticks(user)) * 100e-9
}
