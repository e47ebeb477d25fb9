//go:build unix && !aix

package train

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// openLockFile opens (or creates) the .lock file at path without following
// a symbolic link there (O_NOFOLLOW), and without blocking on a pipe.
func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o644)
	if err != nil {
		// O_NOFOLLOW fails with ELOOP on Linux, EMLINK on FreeBSD,
		// EFTYPE on NetBSD: ask the file itself.
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, errSymlink(path)
		}
		return nil, err
	}
	if err := checkRegular(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tryLock takes an exclusive flock on f without waiting; errLocked when
// another open file holds it.
func tryLock(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

// unlock drops the flock on f.
func unlock(f *os.File) { unix.Flock(int(f.Fd()), unix.LOCK_UN) }
