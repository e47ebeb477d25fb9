//go:build unix && !linux

package sweep

import "syscall"

// parentDeathSignal does nothing where the kernel has no such signal: a
// child of a sweep killed with kill -9 runs its point to the end.
func parentDeathSignal(*syscall.SysProcAttr) {}
