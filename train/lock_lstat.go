//go:build !(unix && !aix)

package train

import (
	"io/fs"
	"os"
)

// openLockFile opens (or creates) the .lock file at path, refusing a
// symbolic link there. Without O_NOFOLLOW (unix has it, see
// lock_unix.go) the link is looked for before the file is opened.
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
