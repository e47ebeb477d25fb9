package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dcim/train/checkpoint"
)

// build compiles the command into a temporary folder.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "train-dense")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestCommand runs the built command: usage errors exit 2 with one line
// on stderr; SIGINT saves a loadable checkpoint and exits 130 saying how
// to resume.
func TestCommand(t *testing.T) {
	bin := build(t)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"help", []string{"-h"}, 0, "-reverse-weight"},
		{"bad flag", []string{"-bogus"}, 2, "train-dense: flag provided but not defined: -bogus"},
		{"bad objective", []string{"-objective", "gan"}, 2, `train-dense: -objective: unknown objective "gan"`},
		{"bad arch", []string{"-arch", "(512),(512),(9)"}, 2, "want 10 classes"},
		{"bad arch syntax", []string{"-arch", "(512;(10)"}, 2, `-arch: arch "(512;(10)"`},
		{"bad epochs", []string{"-epochs", "-3"}, 2, "-epochs -3: want at least 1"},
		{"resume nothing", []string{"-resume", t.TempDir()}, 2, "holds no run to resume"},
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
			if code := exitCode(err); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.msg)
			}
			if tc.code == 2 && strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr.String())
			}
		})
	}

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP} { // Ctrl-C, a closed terminal
		t.Run(sig.String(), func(t *testing.T) { interrupt(t, bin, sig) })
	}
}

// interrupt starts a long run, sends sig once it trains, and checks that
// the run saves a loadable checkpoint and exits 130 saying how to resume.
func interrupt(t *testing.T, bin string, sig syscall.Signal) {
	{
		out := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bin, "-arch", "(16),(10)", "-limit", "6400", "-epochs", "1000", "-eval-every", "0", "-out", out)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			sent := false
			for sc.Scan() {
				if !sent && strings.HasPrefix(sc.Text(), "training ") {
					started <- true
					sent = true
				}
			}
			if !sent {
				started <- false
			}
		}()
		select {
		case ok := <-started:
			if !ok {
				cmd.Wait()
				t.Skipf("the run did not start (MNIST unavailable?): %s", stderr.String())
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("no start within 60 s")
		}
		time.Sleep(time.Second)
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("still running 20 s after %v", sig)
		}
		if code := exitCode(err); code != 130 {
			t.Errorf("exit %d, want 130 (stderr %q)", code, stderr.String())
		}
		if want := "continue with: train-dense -resume " + out; !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not contain %q", stderr.String(), want)
		}
		if _, _, err := checkpoint.Load(out); err != nil {
			t.Errorf("checkpoint after %v: %v", sig, err)
		}
		if _, err := os.Stat(filepath.Join(out, "resume.npz")); err != nil {
			t.Error(err)
		}
	}
}
