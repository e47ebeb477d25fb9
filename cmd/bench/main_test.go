package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the command when bench
// re-executes itself to measure one configuration in a fresh process.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestBenchJSON(t *testing.T) {
	var out, errs bytes.Buffer
	code := run([]string{"-model", "dense", "-objective", "generative,discriminative", "-repeats", "2", "-warmup", "1", "-steps", "2", "-threads", "3", "-conv", "im2col", "-draws", "5", "-json"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var rs []Result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("output is not a JSON array of results: %v\n%s", err, out.String())
	}
	want := []string{"generative", "discriminative", sampleObjective, mcObjective}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d", len(rs), len(want))
	}
	for i, r := range rs {
		// The Monte-Carlo row runs 64/5 = 12 images × 5 draws = 60 rows.
		batch, draws := 64, 0
		if want[i] == mcObjective {
			batch, draws = 60, 5
		}
		if r.Model != "dense" || r.Objective != want[i] || r.Batch != batch || r.Draws != draws || r.Procs != 3 || r.Conv != "im2col" {
			t.Errorf("result %d: %s %s batch %d, %d draws, GOMAXPROCS %d, conv %s; want dense %s batch %d, %d draws, GOMAXPROCS 3, conv im2col",
				i, r.Model, r.Objective, r.Batch, r.Draws, r.Procs, r.Conv, want[i], batch, draws)
		}
		if !(r.ImgPerS > 0) || !(r.PeakRSSMB > 0) || len(r.Repeats) != 2 {
			t.Errorf("result %d: img/s %g, peak RSS %g MB, %d repeats", i, r.ImgPerS, r.PeakRSSMB, len(r.Repeats))
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", "rnn"}, `unknown model "rnn"`},
		{[]string{"-objective", "adversarial"}, `unknown objective "adversarial"`},
		{[]string{"-batch", "0"}, "-batch 0: want 1…4096"},
		{[]string{"-batch", "10000000"}, "-batch 10000000: want 1…4096"},
		{[]string{"-threads", "-1"}, "-threads must not be negative"},
		{[]string{"-conv", "fft"}, `unknown convolution algorithm "fft"`},
		{[]string{"-draws", "0"}, "-draws 0: want 1…4096"},
		{[]string{"-model", "cnn", "-batch", "4096"}, "-batch 4096 for cnn discriminative needs about"},
		{[]string{"-model", "dense", "-batch", "4096", "-max-memory", "64MiB"}, "more than -max-memory 64MiB: lower -batch, or raise -max-memory"},
		{[]string{"-objective", "none", "-sample=false", "-mc=false"}, "nothing to measure"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var out, errs bytes.Buffer
		if code := run(c.args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		if !strings.Contains(errs.String(), c.want) {
			t.Errorf("%v: stderr %q does not contain %q", c.args, errs.String(), c.want)
		}
	}
}
