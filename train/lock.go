package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// runLock is an exclusive lock on a run folder, held by the process that
// writes it: an advisory flock on the folder's .lock file, which holds the
// holder's pid. The kernel drops the lock when the process ends, however
// it ends, so a crash never leaves a folder locked.
type runLock struct{ f *os.File }

// lockRun takes the lock of dir or fails with an error naming the folder
// and the pid of the process that holds it.
func lockRun(dir string) (*runLock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		holder := strings.TrimSpace(string(b[:n]))
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if _, perr := strconv.Atoi(holder); perr == nil {
				return nil, fmt.Errorf("run folder %s is in use by another training process (pid %s)", dir, holder)
			}
			return nil, fmt.Errorf("run folder %s is in use by another training process", dir)
		}
		return nil, fmt.Errorf("run folder %s: lock: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &runLock{f: f}, nil
}

// release drops the lock.
func (l *runLock) release() {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
