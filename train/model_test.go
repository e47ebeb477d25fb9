package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"dcim/data"
	"dcim/train/sampling"
)

// Fit trains in memory: nothing on disk, the same figures as Run writes
// for the same settings, a model that evaluates to its summary and
// survives Save and Load.
func TestFit(t *testing.T) {
	t.Chdir(t.TempDir())
	opts := tinyOptions(t, "")
	m, err := Fit(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir("."); len(es) != 0 {
		t.Errorf("Fit wrote %v", es)
	}
	opts.Settings.Out = filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Summary.ValAccuracy != sum.ValAccuracy || m.Summary.ValReverseBCE21 != sum.ValReverseBCE21 || len(m.Metrics) == 0 {
		t.Errorf("Fit: accuracy %v, BCE %v, %d rows; Run: %v, %v", m.Summary.ValAccuracy, m.Summary.ValReverseBCE21, len(m.Metrics), sum.ValAccuracy, sum.ValReverseBCE21)
	}
	ev, err := m.Evaluate(context.Background(), opts.Test, opts.Settings.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Accuracy != sum.ValAccuracy || ev.BCE22 != float64(sum.ValReverseBCE22) {
		t.Errorf("Evaluate: accuracy %v, eq. (22) %v; the summary %v, %v", ev.Accuracy, ev.BCE22, sum.ValAccuracy, sum.ValReverseBCE22)
	}
	dir := filepath.Join(t.TempDir(), "saved")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Sample(sampling.Layer, 3, 5)
	b, _ := back.Sample(sampling.Layer, 3, 5)
	for i := range a.Images {
		if a.Images[i] != b.Images[i] {
			t.Fatalf("a saved and loaded model samples otherwise at %d", i)
		}
	}
	ran, err := Load(opts.Settings.Out)
	if err != nil || ran.Summary == nil || ran.Settings.Name != sum.Name {
		t.Errorf("Load of a run folder: %v, summary %v, settings %+v", err, ran.Summary, ran.Settings)
	}
}

// A cancelled Fit returns the model so far and ErrInterrupted; a Fit
// asked to resume is refused.
func TestFitInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	opts := tinyOptions(t, "")
	opts.AfterStep = func(it int) {
		if it == 5 {
			cancel()
		}
	}
	m, err := Fit(ctx, opts)
	if !errors.Is(err, ErrInterrupted) || m == nil || m.Params == nil {
		t.Errorf("interrupted Fit: %v, %v", m, err)
	}
	if _, err := Fit(context.Background(), Options{Resume: "x", Train: data.Synthetic(10, 10, 28, 1)}); err == nil {
		t.Error("Fit resumed a run folder")
	}
}
