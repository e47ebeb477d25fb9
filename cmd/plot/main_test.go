package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"dcim/cmd/internal/cli"
	"dcim/data"
	"dcim/models"
	"dcim/train"
)

// TestPlotCommand overlays two short runs and checks the usage errors.
func TestPlotCommand(t *testing.T) {
	dir := t.TempDir()
	var runs []string
	for _, name := range []string{"dense-discriminative", "dense-generative"} {
		e, err := models.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		s := train.FromExperiment(e, "train-dense")
		s.Arch, s.Epochs, s.Batch, s.Out = "(12),(10)", 1, 16, filepath.Join(dir, name)
		opts := train.Options{Settings: s, Train: data.Synthetic(64, 10, 28, 1), Test: data.Synthetic(20, 10, 28, 2)}
		if _, err := train.Run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, s.Out)
	}
	fig := filepath.Join(dir, "fig1.png")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"overlay", append([]string{"-out", fig}, runs...), cli.ExitOK, "wrote " + fig + " (2 runs)"},
		{"no runs", []string{"-out", fig}, cli.ExitUsage, "plot: no run folders given (see plot -h)"},
		{"empty out", append([]string{"-out", ""}, runs...), cli.ExitUsage, "-out is empty"},
		{"missing run", []string{"-out", fig, filepath.Join(dir, "nope")}, cli.ExitError, "metrics.csv"},
		{"bad flag", []string{"-size", "3"}, cli.ExitUsage, "flag provided but not defined: -size"},
		{"help", []string{"-h"}, cli.ExitOK, "Usage: plot"},
		{"target-x NaN", []string{"-frontier", "-target-x", "NaN", runs[0]}, cli.ExitUsage, `invalid value "NaN" for flag -target-x: NaN: want a finite number ≥ 0`},
		{"target-x negative", []string{"-frontier", "-target-x", "-1", runs[0]}, cli.ExitUsage, "-target-x: -1: want a finite number ≥ 0"},
		{"target-y Inf", []string{"-frontier", "-target-y", "Inf", runs[0]}, cli.ExitUsage, "-target-y: +Inf: want a finite number in [0, 1]"},
		{"target-y above 1", []string{"-frontier", "-target-y", "1.5", runs[0]}, cli.ExitUsage, "-target-y: 1.5: want a finite number in [0, 1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), tc.msg) {
				t.Errorf("output %q does not contain %q", out.String()+errOut.String(), tc.msg)
			}
		})
	}
}

func runPlot(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}
