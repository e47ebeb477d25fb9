package train

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockedRange is the byte range LockFileEx locks: one byte far beyond the
// pid the file holds. Windows locks are mandatory, so locking the pid's
// own bytes would keep other processes from reading who holds the folder.
var lockedRange = windows.Overlapped{OffsetHigh: 1 << 30}

// tryLock takes an exclusive lock on f without waiting; errLocked when
// another open file holds it.
func tryLock(f *os.File) error {
	ol := lockedRange
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}

// unlock drops the lock on f.
func unlock(f *os.File) {
	ol := lockedRange
	windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}
