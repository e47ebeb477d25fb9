//go:build unix

package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"dcim/train/checkpoint"
)

// crashOptions is a short run (2 epochs of 12 steps, an evaluation every
// 5) whose every file write is a point where TestKillAtEveryWrite kills it.
func crashOptions(t *testing.T, out string) Options {
	o := tinyOptions(t, out)
	o.Settings.Epochs = 2
	return o
}

// Environment of the helper process of TestKillAtEveryWrite.
const (
	crashDirEnv = "DCIM_TEST_CRASH_DIR"
	crashAtEnv  = "DCIM_TEST_CRASH_AT"
)

// TestCrashHelper is not a test: run by TestKillAtEveryWrite in a process
// of its own, it trains crashOptions and kills itself (SIGKILL, as kill -9
// does) at the N-th point where checkpoint.WriteFileAtomic changes the
// disk: a temporary file written, or a file replaced.
func TestCrashHelper(t *testing.T) {
	dir, at := os.Getenv(crashDirEnv), os.Getenv(crashAtEnv)
	if dir == "" {
		t.Skip("helper process of TestKillAtEveryWrite")
	}
	n, err := strconv.Atoi(at)
	if err != nil {
		t.Fatal(err)
	}
	points := 0
	checkpoint.SetWriteHook(func(path string, renamed bool) {
		if points++; points == n {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	})
	if _, err := Run(context.Background(), crashOptions(t, dir)); err != nil {
		t.Fatal(err)
	}
}

// TestKillAtEveryWrite kills a run at every point where it writes a file
// (after each temporary file is written and after each rename), resumes
// it, and checks that the resumed run ends exactly as an uninterrupted
// one: the same weights, bit for bit, and the same metrics and summary
// figures. Only a kill before the first resume.npz is in place leaves
// nothing to resume: then -resume says so.
func TestKillAtEveryWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the training about 30 times")
	}
	straight := filepath.Join(t.TempDir(), "straight")
	wantSummary, err := Run(context.Background(), crashOptions(t, straight))
	if err != nil {
		t.Fatal(err)
	}
	want := readArrays(t, filepath.Join(straight, checkpoint.NPZName))
	wantRows, err := ReadMetrics(filepath.Join(straight, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for n := 1; ; n++ {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashAtEnv+"="+strconv.Itoa(n))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err == nil {
			break // the run wrote fewer than n times: every point was tried
		}
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("point %d: helper ended with %v, not killed:\n%s", n, err, out)
		}
		killed++
		t.Run(fmt.Sprintf("point %d", n), func(t *testing.T) {
			opts := crashOptions(t, dir)
			resumed := Options{Settings: Settings{Command: "train-dense"}, Resume: dir, Train: opts.Train, Test: opts.Test}
			s, err := Run(context.Background(), resumed)
			if _, statErr := os.Stat(filepath.Join(dir, ResumeName)); errors.Is(statErr, os.ErrNotExist) {
				var se *SettingError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), "holds no run to resume") {
					t.Fatalf("killed before resume.npz was written: -resume gives %v, want a setting error saying there is nothing to resume", err)
				}
				if n != 1 {
					t.Errorf("no resume.npz after %d write points, want one from the second point on", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			if s.Iterations != wantSummary.Iterations || s.ValAccuracy != wantSummary.ValAccuracy || s.ValCE != wantSummary.ValCE ||
				s.TrainLoss != wantSummary.TrainLoss || s.ValReverseBCE != wantSummary.ValReverseBCE {
				t.Errorf("summary %+v\nwant %+v", s, wantSummary)
			}
			sameArrays(t, filepath.Join(dir, checkpoint.NPZName), want)
			sameRows(t, dir, wantRows, nil)
			meta, err := checkpoint.ReadMeta(dir)
			if err != nil || meta.Extra["iteration"] != float64(wantSummary.Iterations) {
				t.Errorf("model.json after the resumed run: %v, %v", meta.Extra, err)
			}
		})
	}
	if killed < 20 {
		t.Errorf("the run was killed at %d points, want one for each of its 20-odd write points", killed)
	}
}
