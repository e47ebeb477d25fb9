package sweep

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// detach puts a child in a console process group of its own, so that
// interrupt can send it a Ctrl-Break, which Go delivers as os.Interrupt.
func detach(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// interrupt asks a child to stop with a checkpoint (Ctrl-Break to its
// process group), or kills it where that fails.
func interrupt(p *os.Process) error {
	if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(p.Pid)); err != nil {
		return p.Kill()
	}
	return nil
}

// alive is false: the running points of a sweep are told by its folders
// on Windows.
func alive(int) bool { return false }
