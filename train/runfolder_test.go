package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/train/checkpoint"
)

// interruptedRun trains the tiny run into dir and stops it after
// iteration 17 (mid-epoch 2), leaving a folder to resume.
func interruptedRun(t *testing.T, dir string) Options {
	t.Helper()
	return interrupt(t, tinyOptions(t, dir))
}

// interrupt runs opts and stops it after iteration 17.
func interrupt(t *testing.T, opts Options) Options {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.AfterStep = func(it int) {
		if it == 17 {
			cancel()
		}
	}
	if _, err := Run(ctx, opts); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	return opts
}

// editState rewrites the loop state inside dir/resume.npz.
func editState(t *testing.T, dir string, edit func(*state)) {
	t.Helper()
	path := filepath.Join(dir, ResumeName)
	arrays, err := checkpoint.ReadNPZArrays(path)
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(arrays[stateKey].Data.([]uint8), &st); err != nil {
		t.Fatal(err)
	}
	edit(&st)
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out []checkpoint.NamedArray
	for name, a := range arrays {
		if name == stateKey {
			a = checkpoint.NamedArray{Name: stateKey, Shape: []int{len(js)}, Data: js}
		}
		a.Name = name
		out = append(out, a)
	}
	b, err := checkpoint.EncodeNPZ(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.WriteFileAtomic(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedRunFolders: a run folder left damaged by a kill, a full disk
// or a careless copy either resumes to the same end as an untouched one,
// or is refused with an error naming the file and what is wrong with it.
func TestDamagedRunFolders(t *testing.T) {
	other := filepath.Join(t.TempDir(), "other")
	otherOpts := tinyOptions(t, other)
	otherOpts.Settings.Seed = 9
	otherOpts.Settings.Epochs = 1
	if _, err := Run(context.Background(), otherOpts); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string) (undo func())
		want   string // error text; "" means the resume must succeed
		log    string // text the resumed run must print
	}{
		{"torn metrics row", func(t *testing.T, dir string) func() {
			f, err := os.OpenFile(filepath.Join(dir, MetricsName), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("20,1.6,3.5,0.9") // no newline: the disk filled up
			f.Close()
			return nil
		}, "", "dropped a row left incomplete"},
		{"stale temporaries", func(t *testing.T, dir string) func() {
			for _, n := range []string{".model.npz.tmp123", ".resume.npz.tmp456"} {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("half"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		}, "", "removed .model.npz.tmp123"},
		{"model.npz behind resume.npz", func(t *testing.T, dir string) func() {
			path := filepath.Join(dir, checkpoint.JSONName)
			b, _ := os.ReadFile(path)
			os.WriteFile(path, bytes.Replace(b, []byte(`"iteration": 17`), []byte(`"iteration": 12`), 1), 0o644)
			return nil
		}, "", "model.npz does not match resume.npz (iteration 17); written again"},
		{"summary.json lost after the end", nil, "", "is complete"},
		{"resume.npz of another run", func(t *testing.T, dir string) func() {
			b, err := os.ReadFile(filepath.Join(other, ResumeName))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, ResumeName), b, 0o644)
			return nil
		}, "resume.npz belongs to run", ""},
		{"step beyond the epoch", func(t *testing.T, dir string) func() {
			editState(t, dir, func(s *state) { s.Step = 1000 })
			return nil
		}, "resume.npz: state step 1000, but an epoch of 192 training images in batches of 16 has 12 steps", ""},
		{"negative step", func(t *testing.T, dir string) func() {
			editState(t, dir, func(s *state) { s.Step = -3 })
			return nil
		}, "resume.npz: state epoch 1, step -3", ""},
		{"folder in use", func(t *testing.T, dir string) func() {
			l, err := lockRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			return l.release
		}, "is in use by another training process (pid ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			opts := interruptedRun(t, dir)
			if tc.damage == nil { // finish the run, then lose its summary
				if _, err := Run(context.Background(), Options{Settings: Settings{Command: "train-dense"}, Resume: dir, Train: opts.Train, Test: opts.Test}); err != nil {
					t.Fatal(err)
				}
				os.Remove(filepath.Join(dir, SummaryName))
			} else if undo := tc.damage(t, dir); undo != nil {
				defer undo()
			}
			var log bytes.Buffer
			s, err := Run(context.Background(), Options{Settings: Settings{Command: "train-dense"}, Resume: dir, Train: opts.Train, Test: opts.Test, Log: &log, Plain: true})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				if !strings.Contains(err.Error(), dir) {
					t.Errorf("error %q does not name the folder", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tc.log) {
				t.Errorf("log does not say %q:\n%s", tc.log, log.String())
			}
			if s.Epochs != 3 || s.Iterations != 36 {
				t.Errorf("summary: %d epochs, %d iterations, want 3, 36", s.Epochs, s.Iterations)
			}
			rows, err := ReadMetrics(filepath.Join(dir, MetricsName))
			if err != nil || len(rows) != 10 {
				t.Errorf("metrics after the resume: %d rows, %v; want 10", len(rows), err)
			}
			if _, err := os.Stat(filepath.Join(dir, SummaryName)); err != nil {
				t.Error(err)
			}
			if ms, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(ms) > 0 {
				t.Errorf("temporaries left: %v", ms)
			}
		})
	}
}

// TestDivergenceNamesTerm: a reverse weight far too large makes the loss
// infinite, and the error names the term and λ.
func TestDivergenceNamesTerm(t *testing.T) {
	opts := tinyOptions(t, filepath.Join(t.TempDir(), "run"))
	opts.Settings.ReverseWeight = 1e308
	_, err := Run(context.Background(), opts)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "term draw2") || !strings.Contains(err.Error(), "λ 1e+308") {
		t.Fatalf("error %v, want ErrNonFinite naming term draw2 and λ", err)
	}
}

// A kill during the run's first write leaves only the lock and a
// temporary file of resume.npz: the same command starts the run again
// without -force, and removes it. A temporary file of the user's own
// makes the folder non-empty as any other file does.
func TestFirstWriteKilled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{LockName, ".resume.npz.tmp4242"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := tinyOptions(t, dir)
	opts.Settings.Epochs = 1
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatalf("a folder with only a killed first write: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".resume.npz.tmp4242")); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there: %v", err)
	}
	mine := filepath.Join(t.TempDir(), "mine")
	os.MkdirAll(mine, 0o755)
	if err := os.WriteFile(filepath.Join(mine, ".notes.tmp"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts = tinyOptions(t, mine)
	if _, err := Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "is not empty (holds .notes.tmp)") {
		t.Errorf("a user's .tmp file: %v", err)
	}
}
