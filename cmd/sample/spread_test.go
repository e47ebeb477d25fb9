package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"dcim/data"
	"dcim/graph"
	"dcim/train/checkpoint"
)

// TestJSONVerdicts trains a tiny net with eq. (22) on synthetic shapes,
// then checks -json: 100 samples per mode, their verdicts as in
// samples.npz, the mean mode's samples of a class all the same image
// (per-pixel std exactly 0) and the layer mode's differing.
func TestJSONVerdicts(t *testing.T) {
	p, last := trainNet(t, "(64),(32),(10)", graph.GenerativeSampled, data.Synthetic(640, 10, 28, 1), 32, 5)
	if last.Correct < 30 { // of 32: the forward model has learnt the shapes
		t.Fatalf("last batch: %d of 32 correct after training", last.Correct)
	}
	dir := t.TempDir()
	if err := checkpoint.Save(dir, p, checkpoint.Meta{Objective: "generative-sampled"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runSample("-model", dir, "-json", "-seed", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("-json output %q: %v", stdout, err)
	}
	if len(rep.Modes) != 3 || rep.Objective != "generative-sampled" || rep.Reconstruct != nil {
		t.Fatalf("report %+v", rep)
	}
	for _, v := range rep.Modes {
		t.Logf("%s: %d/%d classified as their class, per-pixel std %.4f", v.Mode, v.Correct, v.N, v.PixelStd)
		arrays, err := checkpoint.ReadNPZArrays(filepath.Join(dir, "samples-"+string(v.Mode)+".npz"))
		if err != nil {
			t.Fatal(err)
		}
		labels, pred := arrays["labels"].Int64s(), arrays["pred"].Int64s()
		correct := 0
		for i := range labels {
			if labels[i] == pred[i] {
				correct++
			}
		}
		if v.N != 100 || v.Correct != correct || len(v.Classes) != 10 {
			t.Errorf("%s: %d/%d correct over %d classes; samples-%s.npz has %d/%d", v.Mode, v.Correct, v.N, len(v.Classes), v.Mode, correct, len(labels))
		}
		switch v.Mode {
		case "mean":
			if v.PixelStd != 0 {
				t.Errorf("mean mode: per-pixel std %g, want exactly 0", v.PixelStd)
			}
		case "layer":
			if !(v.PixelStd > 0.01) {
				t.Errorf("layer mode: per-pixel std %g, want above 0.01", v.PixelStd)
			}
		}
	}
}
