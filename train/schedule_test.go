package train

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"dcim/train/checkpoint"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		spec, want string // want: the String() of the schedule, or a substring of the error
		ok         bool
	}{
		{"", "constant", true},
		{"constant", "constant", true},
		{"cosine", "cosine", true},
		{"step:5", "step:5", true},
		{"step:3,6,8@0.5", "step:3,6,8@0.5", true},
		{"cosine-restarts:2", "cosine-restarts:2", true},
		{"cosine-restarts:0.5*3", "cosine-restarts:0.5*3", true},
		{"linear", `unknown schedule "linear"`, false},
		{"cosine:3", `unknown schedule "cosine:3"`, false},
		{"step", `unknown schedule "step"`, false},
		{"step:", `epoch "": want a whole number`, false},
		{"step:0", `epoch "0": want a whole number of epochs of at least 1`, false},
		{"step:2.5", `epoch "2.5"`, false},
		{"step:5,3", "epochs 5 then 3: want them increasing", false},
		{"step:3,3", "epochs 3 then 3: want them increasing", false},
		{"step:3@0", `factor: "0": want a positive number`, false},
		{"step:3@NaN", `factor: "NaN"`, false},
		{"step:3@Inf", `factor: "Inf"`, false},
		{"cosine-restarts:", `period: "": want a positive number`, false},
		{"cosine-restarts:-1", `period: "-1"`, false},
		{"cosine-restarts:2*0.9", `period multiplier "0.9": want a number of at least 1`, false},
		{"cosine-restarts:2*x", `period multiplier "x"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("error %v", err)
			case tc.ok && s.String() != tc.want:
				t.Errorf("String() = %q, want %q", s, tc.want)
			case !tc.ok && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case !tc.ok && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestScheduleMultiplier checks the multipliers at known iterations of a
// run of 4 epochs of 10 steps.
func TestScheduleMultiplier(t *testing.T) {
	const perEpoch, epochs = 10, 4
	cos := func(f float64) float64 { return 0.5 * (1 + math.Cos(math.Pi*f)) }
	tests := []struct {
		spec string
		at   map[int]float64 // iteration: multiplier
	}{
		{"constant", map[int]float64{0: 1, 17: 1, 39: 1}},
		{"step:1,3", map[int]float64{0: 1, 9: 1, 10: 0.1, 29: 0.1, 30: 0.01, 39: 0.01}},
		{"step:2@0.5", map[int]float64{0: 1, 19: 1, 20: 0.5, 39: 0.5}},
		{"step:9", map[int]float64{0: 1, 39: 1}}, // beyond the run
		{"cosine", map[int]float64{0: 1, 10: cos(0.25), 20: 0.5, 30: cos(0.75), 39: cos(39.0 / 40), 40: 0}},
		{"cosine-restarts:1", map[int]float64{0: 1, 5: 0.5, 9: cos(0.9), 10: 1, 15: 0.5, 30: 1, 38: cos(0.8)}},
		// periods [0,1), [1,3), [3,7) epochs
		{"cosine-restarts:1*2", map[int]float64{0: 1, 5: 0.5, 10: 1, 20: 0.5, 29: cos(1.9 / 2), 30: 1, 35: cos(0.125)}},
		// periods [0,0.5), [0.5,2), [2,6.5) epochs
		{"cosine-restarts:0.5*3", map[int]float64{0: 1, 4: cos(0.8), 5: 1, 19: cos(1.4 / 1.5), 20: 1, 35: 0.75}},
	}
	for _, tc := range tests {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		for it, want := range tc.at {
			if got := s.Multiplier(it, perEpoch, epochs); math.Abs(got-want) > 1e-15 {
				t.Errorf("%s at iteration %d: %.17g, want %.17g", tc.spec, it, got, want)
			}
		}
	}
}

// TestRestartBoundaries: with one step an epoch, every period of
// cosine-restarts starts at multiplier 1 exactly and its last step is below
// 1, whatever the logarithm rounds to.
func TestRestartBoundaries(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		starts []int
	}{
		{"cosine-restarts:1*2", []int{0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023}},
		{"cosine-restarts:1*3", []int{0, 1, 4, 13, 40, 121, 364, 1093}},
		{"cosine-restarts:3", []int{0, 3, 6, 9, 300, 3000}},
	} {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range tc.starts {
			if m := s.Multiplier(it, 1, 5000); m != 1 {
				t.Errorf("%s at iteration %d: %.17g, want 1 (a restart)", tc.spec, it, m)
			}
			if i > 0 && tc.starts[i-1] < it-1 { // a period longer than one step
				if m := s.Multiplier(it-1, 1, 5000); !(m < 1) {
					t.Errorf("%s at iteration %d, the end of a period: %.17g, want below 1", tc.spec, it-1, m)
				}
			}
		}
	}
}

// TestConstantSchedule: the constant schedule, named or not, trains
// bitwise as a run without a schedule, and logs the base rate.
func TestConstantSchedule(t *testing.T) {
	var models []map[string]checkpoint.Array
	for _, spec := range []string{"", "constant"} {
		opts := tinyOptions(t, filepath.Join(t.TempDir(), "run"))
		opts.Settings.Epochs, opts.Settings.LRSchedule = 1, spec
		if _, err := Run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		models = append(models, readArrays(t, filepath.Join(opts.Settings.Out, checkpoint.NPZName)))
		rows, err := ReadMetrics(filepath.Join(opts.Settings.Out, MetricsName))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.LR != DefaultLR {
				t.Errorf("schedule %q: row at iteration %d has lr %v, want %v", spec, r.Iteration, r.LR, DefaultLR)
			}
		}
	}
	if !reflect.DeepEqual(models[0], models[1]) {
		t.Error("-lr-schedule constant trains otherwise than no schedule")
	}
}

// TestScheduleResume: a scheduled run interrupted mid-epoch and resumed
// ends with bitwise the weights and metrics of an uninterrupted one, takes
// the scheduled rates (logged in the lr column), and ends elsewhere than
// the constant rate; a metrics.csv from before the lr column resumes too.
func TestScheduleResume(t *testing.T) {
	constant := filepath.Join(t.TempDir(), "constant")
	if _, err := Run(context.Background(), tinyOptions(t, constant)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec      string
		oldHeader bool // strip the lr column from metrics.csv before resuming
		lr        map[int]float64
	}{
		// 12 steps an epoch; rows at iterations 5, 10, 12, 15, 20, 24, 25, 30, 35, 36.
		{"step:1,2@0.5", false, map[int]float64{12: 1e-3, 15: 5e-4, 24: 5e-4, 25: 2.5e-4, 36: 2.5e-4}},
		{"cosine-restarts:1*2", false, map[int]float64{12: 0.5e-3 * (1 + math.Cos(math.Pi*11/12)), 15: 0.5e-3 * (1 + math.Cos(math.Pi*2/24)), 36: 0.5e-3 * (1 + math.Cos(math.Pi*23/24))}},
		{"cosine", true, map[int]float64{5: 0.5e-3 * (1 + math.Cos(math.Pi*4/36)), 36: 0.5e-3 * (1 + math.Cos(math.Pi*35/36))}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			straight := filepath.Join(t.TempDir(), "straight")
			opts := tinyOptions(t, straight)
			opts.Settings.LRSchedule = tc.spec
			if _, err := Run(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			want := readArrays(t, filepath.Join(straight, checkpoint.NPZName))
			if reflect.DeepEqual(want, readArrays(t, filepath.Join(constant, checkpoint.NPZName))) {
				t.Error("the schedule changed nothing")
			}
			wantRows, err := ReadMetrics(filepath.Join(straight, MetricsName))
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, r := range wantRows {
				if lr, ok := tc.lr[r.Iteration]; ok {
					checked++
					if math.Abs(r.LR-lr) > 1e-18 {
						t.Errorf("row at iteration %d: lr %.17g, want %.17g", r.Iteration, r.LR, lr)
					}
				}
			}
			if checked != len(tc.lr) {
				t.Errorf("%d of the %d rows to check are in metrics.csv", checked, len(tc.lr))
			}

			dir := filepath.Join(t.TempDir(), "run")
			opts.Settings.Out = dir
			interrupt(t, opts)
			if tc.oldHeader {
				stripLR(t, filepath.Join(dir, MetricsName))
			}
			resumed := Options{Settings: Settings{Command: "train-dense"}, Resume: dir, Train: opts.Train, Test: opts.Test}
			if _, err := Run(context.Background(), resumed); err != nil {
				t.Fatal(err)
			}
			if got := readArrays(t, filepath.Join(dir, checkpoint.NPZName)); !reflect.DeepEqual(got, want) {
				t.Error("the resumed run's weights differ from the uninterrupted run's")
			}
			sameRows(t, dir, wantRows, func(i int, r *Row) {
				if tc.oldHeader && r.Iteration <= 17 {
					if !math.IsNaN(r.LR) {
						t.Errorf("row at iteration %d from the old file has lr %v, want none", r.Iteration, r.LR)
					}
					r.LR = wantRows[i].LR // to compare the rest
				}
			})
		})
	}
}

// stripLR rewrites a metrics.csv without its lr column, as written before
// the column existed.
func stripLR(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := len(metricsHeader)
	if recs[0][col] != lrColumn {
		t.Fatalf("column %d is %q, want %q", col, recs[0][col], lrColumn)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, r := range recs {
		w.Write(append(r[:col:col], r[col+1:]...))
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
