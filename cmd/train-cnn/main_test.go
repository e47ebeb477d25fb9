package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommand runs the built command on -h and on bad flags.
func TestCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "train-cnn")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"help shows the CNN defaults", []string{"-h"}, 0, `(default "spin")`},
		{"bad encoding", []string{"-encoding", "ising"}, 2, `train-cnn: -encoding: unknown encoding "ising"`},
		{"bad arch", []string{"-arch", "(3,2,32),(10)"}, 2, "stride 2 does not tile input 28×28"},
		{"sampled needs a hidden layer", []string{"-objective", "generative-sampled", "-arch", "(10)"}, 2, "has none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stderr = &stderr
			if tc.code == 0 {
				cmd.Stdout = &stderr // -h prints to stdout
			}
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.msg)
			}
		})
	}
}
