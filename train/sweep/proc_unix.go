//go:build unix

package sweep

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// detach puts a child in a process group of its own, so that a Ctrl-C at
// the terminal reaches the sweep only, which passes it on once.
func detach(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	parentDeathSignal(c.SysProcAttr)
}

// interrupt asks a child to stop with a checkpoint (SIGINT).
func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }

// alive reports whether a process of that pid exists on this machine.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
