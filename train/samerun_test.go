package train

import (
	"strings"
	"testing"
)

// TestSameRun: the named settings decide; spellings of one objective or
// architecture, and the empty fields of older summaries, are the same run.
func TestSameRun(t *testing.T) {
	base := Settings{Command: "train-cnn", Objective: "generative", Epochs: 3, Batch: 64, LR: 1e-3, LRSchedule: "constant",
		Seed: 1, ReverseWeight: 1, Encoding: "spin", Arch: "(50),(10)", Init: "glorot", Inference: "meanfield", Draws: 1, DrawGradient: "none", Out: "a"}
	old := base
	old.LRSchedule, old.Init, old.Inference, old.Draws, old.DrawGradient = "", "", "", 0, ""
	for _, tc := range []struct {
		name string
		edit func(*Settings)
		diff string // "" for the same run
	}{
		{"identical", func(*Settings) {}, ""},
		{"run settings", func(s *Settings) { s.Out, s.Data, s.EvalEvery, s.Command, s.Name = "b", "/mnist", 7, "sweep", "x" }, ""},
		{"objective spelling", func(s *Settings) { s.Objective = "ce+label" }, ""},
		{"arch spelling", func(s *Settings) { s.Arch = "(50), (10)" }, ""},
		{"older summary", func(s *Settings) { *s = old }, ""},
		{"seed", func(s *Settings) { s.Seed = 3 }, `seed "3", not "1"`},
		{"lr", func(s *Settings) { s.LR = 2e-3 }, `lr "0.002", not "0.001"`},
		{"limit", func(s *Settings) { s.Limit = 512 }, `limit "512", not "0"`},
		{"objective", func(s *Settings) { s.Objective = "generative-sampled" }, "objective"},
		{"draws", func(s *Settings) { s.Draws = 2 }, `draws "2", not "1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			tc.edit(&b)
			diff := strings.Join(RunDiff(b, base), "; ")
			if SameRun(b, base) != (tc.diff == "") || (tc.diff == "") != (diff == "") || !strings.Contains(diff, tc.diff) {
				t.Errorf("SameRun %v, RunDiff %q, want %q", SameRun(b, base), diff, tc.diff)
			}
		})
	}
}
