package models

import (
	"slices"
	"strings"
	"testing"
)

// layer:* is the reverse term of every layer: it reads and writes back as
// itself, and resolves into draw:1 and layer:1 … layer:d−1 with its
// weight, in its place.
func TestEveryLayer(t *testing.T) {
	for _, c := range []struct {
		expr  string
		d     int
		keys  []string
		str   string
		wants float64 // the weight of every expanded term
	}{
		{"ce+layer:*", 3, []string{"ce", "draw1", "layer1", "layer2"}, "ce+layer:*", 1},
		{"ce + label + 0.5*layer:*", 4, []string{"ce", "label", "draw1", "layer1", "layer2", "layer3"}, "ce+label+0.5*layer:*", 0.5},
		{"layer:*+ce", 2, []string{"draw1", "layer1", "ce"}, "layer:*+ce", 1},
	} {
		o, err := ParseObjective(c.expr)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if got := o.String(); got != c.str {
			t.Errorf("%q reads back as %q, want %q", c.expr, got, c.str)
		}
		if again, err := ParseObjective(o.String()); err != nil || !slices.Equal(again, o) {
			t.Errorf("%q: %q does not parse back to the same objective (%v)", c.expr, o.String(), err)
		}
		r, err := o.Resolve(c.d)
		if err != nil {
			t.Fatalf("%q at depth %d: %v", c.expr, c.d, err)
		}
		var keys []string
		for _, term := range r {
			keys = append(keys, term.Key())
			if term.Kind != CE && term.Kind != ReverseLabel && term.Weight != c.wants {
				t.Errorf("%q: %v has weight %g, want %g", c.expr, term, term.Weight, c.wants)
			}
		}
		if !slices.Equal(keys, c.keys) {
			t.Errorf("%q at depth %d resolves to %v, want %v", c.expr, c.d, keys, c.keys)
		}
		if want := []int{}; c.d > 1 {
			for k := 1; k < c.d; k++ {
				want = append(want, k)
			}
			if got := r.Draws(c.d); !slices.Equal(got, want) {
				t.Errorf("%q draws layers %v, want %v", c.expr, got, want)
			}
		}
	}
	for _, c := range []struct {
		expr, err string
		d         int
	}{
		{"ce+draw:*", "only layer takes *", 3},
		{"ce+label:*", "takes no layer", 3},
		{"ce+layer:*", "the network has none", 1},
		{"ce+draw:1+layer:*", "appears twice", 3},
		{"ce+layer:2+layer:*", "appears twice", 3},
	} {
		o, err := ParseObjective(c.expr)
		if err == nil {
			_, err = o.Resolve(c.d)
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q at depth %d: error %v, want one containing %q", c.expr, c.d, err, c.err)
		}
	}
}
