package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/models"
	"dcim/train"
)

// testPlan is a plan of two seeds of the tiny dense net, in folder dir.
func testPlan(t *testing.T, dir string, axes ...models.Axis) *Plan {
	t.Helper()
	if len(axes) == 0 {
		axes = []models.Axis{models.Vary("seed", 1, 2)}
	}
	p, err := New(models.Sweep{Name: "zz-test", Base: "zz-test-dense", Axes: axes}, []train.Override{{Name: "limit", Value: "512"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeSummary writes a summary.json of settings s with figures into the
// point's folder; drop removes keys of "flags", as older builds left them
// out.
func writeSummary(t *testing.T, dir string, p *Point, s train.Settings, acc float64, drop ...string) {
	t.Helper()
	sum := train.Summary{Name: s.Name, ValAccuracy: acc, ValReverseBCE21: train.Number(acc / 2), ValReverseBCE22: train.Number(math.NaN()),
		Terms:   map[string]train.TermSummary{"ce": {Val: train.Number(1 - acc)}, "label": {Val: train.Number(acc / 2)}},
		Seconds: 61, ImagesPerSecond: 1000, Flags: s}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range drop {
		delete(m["flags"].(map[string]any), k)
	}
	b, _ = json.Marshal(m)
	folder := p.Folder(dir)
	os.MkdirAll(folder, 0o755)
	if err := os.WriteFile(filepath.Join(folder, train.SummaryName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInspect: what a point's folder and log say.
func TestInspect(t *testing.T) {
	start := func(i int, name string) string {
		return fmt.Sprintf(startLine, i, name, "started", "host", 42, 1, "now")
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string, p *Point)
		state State
		err   string
		exit  int
	}{
		{"never started", func(*testing.T, string, *Point) {}, Pending, "", -1},
		{"done", func(t *testing.T, dir string, p *Point) { writeSummary(t, dir, p, p.Settings, 0.9) }, Done, "", -1},
		{"done by an older build", func(t *testing.T, dir string, p *Point) {
			s := p.Settings
			s.Command, s.Out, s.Data = "train-dense", "elsewhere", "/mnist"
			writeSummary(t, dir, p, s, 0.9, "lr_schedule", "init", "inference", "draw_gradient", "draws")
		}, Done, "", -1},
		{"a run of other settings", func(t *testing.T, dir string, p *Point) {
			s := p.Settings
			s.Seed = 7
			writeSummary(t, dir, p, s, 0.9)
		}, Pending, `holds a run of other settings (seed "7", not "1")`, -1},
		{"a checkpoint of other settings", func(t *testing.T, dir string, p *Point) {
			writeFile(t, filepath.Join(p.Folder(dir), train.ResumeName), "")
			writeFile(t, filepath.Join(p.Folder(dir), "model.json"), `{"arch": "(16),(10)", "settings": {"seed": "1", "lr": "0.5"}}`)
		}, Pending, `holds a run of other settings (lr "0.5", not "0.001")`, -1},
		{"killed", func(t *testing.T, dir string, p *Point) {
			writeFile(t, filepath.Join(p.Folder(dir), train.ResumeName), "")
			writeFile(t, p.Log(dir), start(0, p.Name)+"epoch 1/1 50% loss 2\n")
		}, Failed, "", -1},
		{"interrupted", func(t *testing.T, dir string, p *Point) {
			writeFile(t, filepath.Join(p.Folder(dir), train.ResumeName), "")
			writeFile(t, p.Log(dir), start(0, p.Name)+fmt.Sprintf(exitLine, 0, p.Name, 130, ": interrupted"))
		}, Interrupted, "", 130},
		{"failed", func(t *testing.T, dir string, p *Point) {
			writeFile(t, p.Log(dir), start(0, p.Name)+fmt.Sprintf(exitLine, 0, p.Name, 1, ": loading MNIST: no such file"))
		}, Failed, "", 1},
		{"interrupted, then failed", func(t *testing.T, dir string, p *Point) {
			writeFile(t, filepath.Join(p.Folder(dir), train.ResumeName), "")
			writeFile(t, p.Log(dir), start(0, p.Name)+fmt.Sprintf(exitLine, 0, p.Name, 130, "")+start(0, p.Name)+fmt.Sprintf(exitLine, 0, p.Name, 1, ": boom"))
		}, Failed, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := &testPlan(t, dir).Points[0]
			tc.setup(t, dir, p)
			st, err := Inspect(dir, p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrOtherRun) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || st.State != tc.state || st.Exit != tc.exit {
				t.Fatalf("state %v, exit %d, error %v; want %v, exit %d", st.State, st.Exit, err, tc.state, tc.exit)
			}
			if st.State == Failed && !strings.Contains(st.Detail, "sweep: point 0 (seed=1)") {
				t.Errorf("detail %q: want the log's last lines", st.Detail)
			}
		})
	}
}

// TestReadLogTail: a long log is read from its end, and the detail is its
// last lines.
func TestReadLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	var b strings.Builder
	b.WriteString(fmt.Sprintf(startLine, 3, "a", "started", "node7", 99, 2, "now"))
	for i := range 20000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	b.WriteString("last words\n")
	writeFile(t, path, b.String())
	lg, err := readLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if !lg.started || lg.exit != -1 || !strings.HasSuffix(lg.tail, "line 19999\nlast words") || strings.Count(lg.tail, "\n") != tailLines-1 {
		t.Errorf("log %+v", lg)
	}
	writeFile(t, path, fmt.Sprintf(startLine, 3, "a", "resumed", "node7", 99, 2, "now"))
	if lg, _ := readLog(path); lg.host != "node7" || lg.pid != 99 {
		t.Errorf("start line: %+v", lg)
	}
}

// TestResults: a row per point, NaN for those not done, and the groups
// over seeds with their mean and sample standard deviation.
func TestResults(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, models.Vary("reverse-weight", 1, 2), models.Vary("seed", 1, 2, 3))
	acc := []float64{0.90, 0.92, 0.94, 0.80, 0.86, 0}
	for i := range 5 { // the last point is not done
		writeSummary(t, dir, &p.Points[i], p.Points[i].Settings, acc[i])
	}
	p.Command = "go run ./cmd/sweep -sweep zz-test"
	// The points have a summary and no model: with -samples, sampling
	// them fails, unless a signal has ended ctx, which skips it.
	if _, err := Collect(context.Background(), dir, p, nil, Extras{Samples: true}); err == nil || !strings.Contains(err.Error(), "samples") {
		t.Errorf("samples of points without a model: %v", err)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if r, err := Collect(ended, dir, p, nil, Extras{Samples: true}); err != nil || r.Rows[0].Samples != nil {
		t.Errorf("after a signal: %v, samples %v", err, r.Rows[0].Samples)
	}
	r, err := Collect(context.Background(), dir, p, nil, Extras{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 6 || r.Rows[5].State != "pending" || !math.IsNaN(float64(r.Rows[5].ValAccuracy)) || r.Rows[1].ValAccuracy != 0.92 {
		t.Errorf("rows %+v", r.Rows)
	}
	if strings.Join(r.Terms, " ") != "ce label" {
		t.Errorf("terms %v", r.Terms)
	}
	if len(r.Groups) != 2 || r.Groups[0].N != 3 || r.Groups[1].N != 2 || strings.Join(r.Groups[1].Values, ",") != "2" {
		t.Fatalf("groups %+v", r.Groups)
	}
	for _, tc := range []struct {
		g        int
		col      string
		mean, sd float64
	}{
		{0, "val_accuracy", 0.92, 0.02},
		{1, "val_accuracy", 0.83, math.Sqrt(0.0018)},
		{0, "val_reverse_bce_21", 0.46, 0.01},
		{0, "ce", 0.08, 0.02},
	} {
		m := r.Groups[tc.g].Stats[tc.col]
		if math.Abs(float64(m.Mean)-tc.mean) > 1e-12 || math.Abs(float64(m.SD)-tc.sd) > 1e-12 {
			t.Errorf("group %d %s: %v ± %v, want %v ± %v", tc.g, tc.col, m.Mean, m.SD, tc.mean, tc.sd)
		}
	}
	if m := r.Groups[0].Stats["val_reverse_bce_22"]; !math.IsNaN(float64(m.Mean)) {
		t.Errorf("eq. 22 of nets without it: %v", m)
	}
	if err := r.Write(dir, os.Stderr); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, ResultsMD))
	for _, want := range []string{
		"Sweep `zz-test`: `go run ./cmd/sweep -sweep zz-test` runs what is missing", "Build `",
		"| reverse-weight | seed | accuracy | BCE eq. 21 | BCE eq. 22 | ce (val) | label (val) | time | img/s |",
		"| 1 | 2 | 0.9200 | 0.4600 | — | 0.0800 | 0.4600 | 1m1s | 1000 |",
		"| 2 | 3 | (pending) |",
		"| reverse-weight | n | accuracy |",
		"| 1 | 3 | 0.9200 ± 0.0200 | 0.4600 ± 0.0100 | — | 0.0800 ± 0.0200 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, ResultsCSV))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 7 || lines[0] != "index,name,state,reverse-weight,seed,val_accuracy,val_reverse_bce_21,val_reverse_bce_22,val_ce,val_label,seconds,images_per_second" ||
		lines[2] != "1,\"reverse-weight=1,seed=2\",done,1,2,0.92,0.46,,0.07999999999999996,0.46,61,1000" {
		t.Errorf("results.csv:\n%s", csv)
	}
	var back Results
	b, _ := os.ReadFile(filepath.Join(dir, ResultsJSON))
	if err := json.Unmarshal(b, &back); err != nil || len(back.Rows) != 6 || back.Rows[0].Values[1] != "1" {
		t.Errorf("results.json: %v %+v", err, back)
	}
	if _, err := os.Stat(filepath.Join(dir, FrontierPNG)); err != nil {
		t.Errorf("frontier: %v", err)
	}
}
