package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dcim/cmd/internal/cli"
)

// writeRun makes a run folder holding a summary.json with the given
// validation accuracy and eq. (22) loss (nil: null), and a term draw7
// whose validation value is the loss plus 0.01.
func writeRun(t *testing.T, dir string, acc float64, loss any) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	draw := "null"
	if l, ok := loss.(float64); ok {
		draw = fmt.Sprint(l + 0.01)
	}
	js := fmt.Sprintf(`{"val_accuracy": %v, "val_reverse_bce_22": %s, "val_reverse_bce_21": 0.25, "arch": "(10)", "terms": {"draw7": {"term": "draw", "val": %s}}}`,
		acc, jsonValue(loss), draw)
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonValue(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestFrontier plots synthetic run folders: the frontier set is exact,
// folders without a usable summary are skipped with one warning each, and
// the PNG decodes.
func TestFrontier(t *testing.T) {
	root := t.TempDir()
	runs := []struct {
		name      string
		acc, loss float64
		frontier  bool
	}{
		{"a", 0.985, 0.20, false}, // dominated by b, c, d
		{"b", 0.990, 0.17, true},
		{"c", 0.987, 0.15, true},
		{"d", 0.989, 0.18, false}, // dominated by b
		{"e", 0.980, 0.14, true},
		{"f", 0.990, 0.17, true},  // equal to b
		{"g", 0.979, 0.14, false}, // dominated by e
	}
	var want []string
	for _, r := range runs {
		writeRun(t, filepath.Join(root, "cnn-"+r.name), r.acc, r.loss)
		if r.frontier {
			want = append(want, "cnn-"+r.name)
		}
	}
	writeRun(t, filepath.Join(root, "cnn-null"), 0.99, nil)
	if err := os.MkdirAll(filepath.Join(root, "cnn-unfinished"), 0o755); err != nil {
		t.Fatal(err)
	}
	fig := filepath.Join(root, "frontier.png")

	code, stdout, stderr := runPlot("-frontier", "-json", "-out", fig, "-target-x", "0.14", "-target-y", "0.990", filepath.Join(root, "cnn-*"))
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got frontierJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("-json output %q: %v", stdout, err)
	}
	var front []string
	for _, p := range got.Points {
		if p.Frontier {
			front = append(front, p.Run)
		}
	}
	slices.Sort(front)
	if got.X != "val_reverse_bce_22" || len(got.Points) != len(runs) || !slices.Equal(front, want) {
		t.Errorf("x %q, %d points, frontier %v; want val_reverse_bce_22, %d, %v", got.X, len(got.Points), front, len(runs), want)
	}
	if p := got.Points[0]; p.Run != "cnn-e" || p.Loss != 0.14 || p.Accuracy != 0.980 || p.Dir != filepath.Join(root, "cnn-e") {
		t.Errorf("first point %+v, want cnn-e at loss 0.14, accuracy 0.980 (sorted by loss, then accuracy down)", p)
	}
	for _, w := range []string{
		"plot: warning: " + filepath.Join(root, "cnn-null", "summary.json") + ": val_reverse_bce_22 is null (the run has no such figure); skipped\n",
		"plot: warning: " + filepath.Join(root, "cnn-unfinished") + " has no summary.json (an unfinished run?); skipped\n",
		"wrote " + fig + " (7 runs, 4 on the frontier)\n",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
	if n := strings.Count(stderr, "\n"); n != 3 {
		t.Errorf("stderr has %d lines, want 3: %q", n, stderr)
	}
	f, err := os.Open(fig)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("%s: %v", fig, err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("%s is %v", fig, b.Size())
	}

	// A term's value as x: every loss moves by 0.01, the frontier stays.
	code, stdout, stderr = runPlot("-frontier", "-x", "terms.draw7.val", "-out", fig, filepath.Join(root, "cnn-b"), filepath.Join(root, "cnn-d"), filepath.Join(root, "cnn-c"))
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wantTable := "" +
		"run    terms.draw7.val  val_accuracy  frontier\n" +
		"cnn-c  0.16000          0.9870        *\n" +
		"cnn-b  0.18000          0.9900        *\n" +
		"cnn-d  0.19000          0.9890        \n" +
		"wrote " + fig + " (3 runs, 2 on the frontier)\n"
	if stdout != wantTable {
		t.Errorf("table\n%s\nwant\n%s", stdout, wantTable)
	}
}

// TestFrontierErrors: nothing usable is one line and exit 1; misused flags
// are usage errors.
func TestFrontierErrors(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "r"), 0.99, 0.2)
	fig := filepath.Join(root, "f.png")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no summary", []string{"-frontier", "-out", fig, t.TempDir()}, cli.ExitError, "plot: -frontier: none of the 1 run folders has a summary.json with val_accuracy and val_reverse_bce_22\n"},
		{"unknown key", []string{"-frontier", "-out", fig, "-x", "val_nothing", filepath.Join(root, "r")}, cli.ExitError, "summary.json: no val_nothing; skipped\nplot: -frontier: none of the 1 run folders"},
		{"not a number", []string{"-frontier", "-out", fig, "-x", "arch", filepath.Join(root, "r")}, cli.ExitError, "arch is not a number"},
		{"glob matches nothing", []string{"-frontier", "-out", fig, filepath.Join(root, "zz*")}, cli.ExitError, "matches no folder\nplot: -frontier: none of the 0 run folders"},
		{"bad glob", []string{"-frontier", "-out", fig, "[x"}, cli.ExitUsage, `pattern "[x": syntax error`},
		{"empty x", []string{"-frontier", "-x", "", filepath.Join(root, "r")}, cli.ExitUsage, "-x is empty"},
		{"x without -frontier", []string{"-x", "val_ce", filepath.Join(root, "r")}, cli.ExitUsage, "-x is for -frontier"},
		{"json without -frontier", []string{"-json", filepath.Join(root, "r")}, cli.ExitUsage, "-json is for -frontier"},
		{"no runs", []string{"-frontier"}, cli.ExitUsage, "no run folders given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runPlot(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.msg) {
				t.Errorf("output %q does not contain %q", stdout+stderr, tc.msg)
			}
		})
	}
}
