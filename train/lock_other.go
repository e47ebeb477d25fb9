//go:build !(unix && !aix) && !windows

package train

import (
	"io/fs"
	"os"
)

// openLockFile opens (or creates) the .lock file at path, refusing a
// symbolic link there.
func openLockFile(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tryLock takes no lock: this platform has no file locks Go can reach, so
// the .lock file only records the pid of the last process to open the
// folder, and two trainings in one folder are not kept apart.
func tryLock(*os.File) error { return nil }

// unlock does nothing, as tryLock locks nothing.
func unlock(*os.File) {}
