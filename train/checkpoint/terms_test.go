package checkpoint

import (
	"strings"
	"testing"

	"dcim/models"
)

// TrainedTerms reads what a model was trained on from model.json's
// "terms", and from "objective" in files written before "terms".
func TestTrainedTerms(t *testing.T) {
	cnn := "(3,1,8),(2,2,8),(50),(10)"
	for _, tc := range []struct {
		name string
		meta Meta
		want string // the objective's String, or the error's part
		err  bool
	}{
		{"terms", Meta{Arch: cnn, Terms: TermsMeta(models.Objective{{Kind: models.CE, Weight: 1}, {Kind: models.ReverseDraw, Layer: 3, Weight: 1}}, 5)}, "ce+draw:3", false},
		{"terms win over the objective", Meta{Arch: cnn, Objective: "generative", Terms: []TermMeta{{Kind: "ce", Weight: 1}, {Kind: "layer", Layer: 2, Weight: 0.5}}}, "ce+0.5*layer:2", false},
		{"objective only", Meta{Arch: cnn, Objective: "ce+draw:-1"}, "ce+draw:2", false},
		{"neither", Meta{Arch: cnn}, "", false},
		{"unknown kind", Meta{Arch: cnn, Terms: []TermMeta{{Kind: "ce2", Weight: 1}}}, `"terms"[0]: unknown term "ce2"`, true},
		{"relative layer", Meta{Arch: cnn, Terms: []TermMeta{{Kind: "draw", Layer: -1, Weight: 1}}}, `"terms"[0]: layer -1, want an absolute layer 1…3`, true},
		{"layer out of range", Meta{Arch: cnn, Terms: []TermMeta{{Kind: "draw", Layer: 9, Weight: 1}}}, "layer 9 of a network of depth 4", true},
		{"bad objective", Meta{Arch: cnn, Objective: "ce+lable"}, `"objective": `, true},
		{"negative weight", Meta{Arch: cnn, Terms: []TermMeta{{Kind: "ce", Weight: -1}}}, "want a finite number ≥ 0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.meta.TrainedTerms()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := o.String(); tc.want == "" && o != nil || tc.want != "" && got != tc.want {
				t.Errorf("terms %q, want %q", got, tc.want)
			}
		})
	}
	if tm := TermsMeta(models.Objective{{Kind: models.CE, Weight: 2}, {Kind: models.ReverseLabel, Weight: 0.5}}, 4); tm[0].Scale != 2 || tm[1].Scale != 2 {
		t.Errorf("scales %v, want 2 (ce: λ does not apply) and 0.5·4", tm)
	}
}
