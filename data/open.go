package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is the error of [OpenFile] for a path that names a folder,
// a named pipe, a device or a socket.
var ErrNotRegular = errors.New("not a regular file")

// OpenFile opens path for reading only if it is a regular file (or a
// symbolic link to one): a named pipe, a device, a socket or a folder is
// refused before it is opened, so that reading an input never blocks on a
// pipe nobody writes or on a terminal, nor reads without end from a
// device. The file is opened without blocking and checked again after the
// open, in case it was replaced in between. Errors are *fs.PathError, as
// os.Open's are: errors.Is(err, fs.ErrNotExist) holds for a missing file,
// errors.Is(err, ErrNotRegular) for one of another kind.
func OpenFile(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, st); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = regular(path, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file at path (see [OpenFile]) if it holds at
// most limit bytes; a larger one is refused, naming the limit, before it
// is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: &TooLargeError{Size: st.Size(), Limit: limit}}
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && n < len(b) {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return b, nil
}

// TooLargeError is the error of [ReadFile] for a file above its limit.
type TooLargeError struct{ Size, Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("file of %d bytes, more than the %d accepted", e.Size, e.Limit)
}

// regular returns nil if st is a regular file's, else an *fs.PathError
// wrapping ErrNotRegular that says what the path is.
func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "a special file"
	switch {
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	}
	return &fs.PathError{Op: "open", Path: path, Err: &notRegularError{kind}}
}

// notRegularError says what a path is instead of a regular file.
type notRegularError struct{ kind string }

func (e *notRegularError) Error() string { return e.kind + ", not a regular file" }
func (e *notRegularError) Is(target error) bool {
	return target == ErrNotRegular
}
