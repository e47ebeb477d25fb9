package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// runLock is an exclusive lock on a run folder, held by the process that
// writes it: an OS lock on the folder's .lock file (flock on Unix,
// LockFileEx on Windows), which holds the holder's pid. The OS drops the
// lock when the process ends, however it ends, so a crash never leaves a
// folder locked. The .lock file is never followed through a symbolic link:
// a link there is refused, and whatever it points to is left untouched.
type runLock struct{ f *os.File }

// errLocked is what tryLock returns when another process holds the lock.
var errLocked = errors.New("locked")

// lockRun takes the lock of dir or fails with an error naming the folder
// and the pid of the process that holds it.
func lockRun(dir string) (*runLock, error) {
	path := filepath.Join(dir, LockName)
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		holder := strings.TrimSpace(string(b[:n]))
		if errors.Is(err, errLocked) {
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
	unlock(l.f)
	l.f.Close()
}

// errSymlink is the error for a .lock file that is a symbolic link.
func errSymlink(path string) error {
	return fmt.Errorf("%s is a symbolic link; a run never writes through one (remove it)", path)
}

// checkRegular refuses a .lock that is not a regular file (a device, a
// pipe): writing the pid into it could block or write somewhere else.
func checkRegular(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	return nil
}
