// Package clitest runs this module's commands as a user does, built into
// a binary, for their tests: the exit status, standard output and the
// one-line errors on standard error.
package clitest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Build compiles the command in the current folder (the package under
// test) into a temporary folder and returns the binary's path.
func Build(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ExitCode is the exit status of a finished command's error (-1 if it did
// not run to an exit).
func ExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// Run runs bin with args in an empty temporary folder, removed afterwards,
// and returns its exit status and output: whatever the command writes by
// default (a run folder under runs/, a figure) never lands in the source
// tree, so paths in args must be absolute.
func Run(bin string, args ...string) (code int, stdout, stderr string) {
	dir, err := os.MkdirTemp("", "clitest-")
	if err != nil {
		return -1, "", err.Error()
	}
	defer os.RemoveAll(dir)
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return ExitCode(err), out.String(), errOut.String()
}

// Case is one command line and what it must do: exit with Code and print
// Msg (on stdout for status 0, else on stderr, as one line for status 2).
type Case struct {
	Name string
	Args []string
	Code int
	Msg  string
}

// Check runs each case against bin.
func Check(t *testing.T, bin string, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			code, stdout, stderr := Run(bin, tc.Args...)
			if code != tc.Code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.Code, stderr)
			}
			out := stderr
			if tc.Code == 0 {
				out = stdout
			}
			if !strings.Contains(out, tc.Msg) {
				t.Errorf("output %q does not contain %q", out, tc.Msg)
			}
			if tc.Code == 2 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}
