//go:build !purego

package simd

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadTime is the CPU time the calling thread has used, which a busy
// machine disturbs less than wall time.
func threadTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
