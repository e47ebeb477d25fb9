package sweep

import "syscall"

// parentDeathSignal has the kernel send a child SIGTERM when the sweep
// dies without passing a signal on (kill -9): the child then saves a
// checkpoint and stops.
func parentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGTERM }
