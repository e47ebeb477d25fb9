package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dcim/cmd/internal/clitest"
	"dcim/train/checkpoint"
)

// TestCommand runs the built command: usage errors exit 2 with one line
// on stderr; SIGINT saves a loadable checkpoint and exits 130 saying how
// to resume.
func TestCommand(t *testing.T) {
	bin := clitest.Build(t, "train-dense")
	clitest.Check(t, bin, []clitest.Case{
		{Name: "help", Args: []string{"-h"}, Code: 0, Msg: "-reverse-weight"},
		{Name: "bad flag", Args: []string{"-bogus"}, Code: 2, Msg: "train-dense: flag provided but not defined: -bogus"},
		{Name: "bad objective", Args: []string{"-objective", "gan"}, Code: 2, Msg: `train-dense: -objective: unknown objective "gan"`},
		{Name: "bad arch", Args: []string{"-arch", "(512),(512),(9)"}, Code: 2, Msg: "want 10 classes"},
		{Name: "bad arch syntax", Args: []string{"-arch", "(512;(10)"}, Code: 2, Msg: `-arch: arch "(512;(10)"`},
		{Name: "bad epochs", Args: []string{"-epochs", "-3"}, Code: 2, Msg: "-epochs -3: want at least 1"},
		{Name: "resume nothing", Args: []string{"-resume", t.TempDir()}, Code: 2, Msg: "holds no run to resume"},
	})

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
		if code := clitest.ExitCode(err); code != 130 {
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
