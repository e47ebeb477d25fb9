// Package datatest makes the special files that the tests of the packages
// reading files need: inputs must be regular files, and a named pipe that
// nobody writes is how an open can block for ever.
package datatest

import "testing"

// Mkfifo makes a named pipe at path, or skips the test where the system
// has none.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	if err := mkfifo(path); err != nil {
		t.Skip("mkfifo:", err)
	}
}
