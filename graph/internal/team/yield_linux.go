package team

import "syscall"

// osYield offers the core to other threads, of this process or another,
// that are waiting for it (sched_yield).
func osYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
