package models

import (
	"strings"
	"testing"
)

func TestSweepCheck(t *testing.T) {
	ok := Sweep{Name: "s", Base: "cnn-generative", Axes: []Axis{Vary("reverse-weight", 1, 2.5, "5"), Vary("seed", 1, 2)}}
	if err := ok.Check(); err != nil {
		t.Fatalf("a good sweep: %v", err)
	}
	if got := strings.Join(ok.Axes[0].Values, " "); got != "1 2.5 5" {
		t.Errorf("Vary wrote %q", got)
	}
	for _, tc := range []struct {
		name string
		s    Sweep
		want string
	}{
		{"name", Sweep{Name: "a b", Base: "x", Axes: ok.Axes}, `sweep name "a b"`},
		{"base", Sweep{Name: "s", Axes: ok.Axes}, "no Base"},
		{"axes", Sweep{Name: "s", Base: "x"}, "no Axes"},
		{"setting", Sweep{Name: "s", Base: "x", Axes: []Axis{{Values: []string{"1"}}}}, "axis 1: no setting"},
		{"values", Sweep{Name: "s", Base: "x", Axes: []Axis{{Setting: "seed"}}}, "axis seed: no values"},
		{"twice", Sweep{Name: "s", Base: "x", Axes: []Axis{Vary("seed", 1), Vary("seed", 2)}}, `setting "seed" twice`},
		{"set and varied", Sweep{Name: "s", Base: "x", Set: map[string]string{"seed": "1"}, Axes: []Axis{Vary("seed", 2)}}, `setting "seed" twice`},
		{"value twice", Sweep{Name: "s", Base: "x", Axes: []Axis{Vary("seed", 1, 1)}}, `value "1" twice`},
		{"zip first", Sweep{Name: "s", Base: "x", Axes: []Axis{Zip("seed", 1)}}, "no axis before it"},
		{"zip length", Sweep{Name: "s", Base: "x", Axes: []Axis{Vary("epochs", 1, 2), Zip("seed", 1)}}, "1 values zipped to the 2 of axis epochs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	zipped := Sweep{Name: "s", Base: "x", Axes: []Axis{Vary("epochs", 3, 3, 1), Zip("reverse-weight", 1, 5, 1)}}
	if err := zipped.Check(); err != nil {
		t.Errorf("repeated values in a zipped group: %v", err)
	}
}
