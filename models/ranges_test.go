package models

import (
	"math"
	"strings"
	"testing"
)

func TestRange(t *testing.T) {
	upTo10 := Range{Min: 0, MinOpen: true, Max: 10}
	for _, tc := range []struct {
		name string
		r    Range
		v    float64
		want string // "" for nil, else a part of the error
	}{
		{"positive", Positive, 1e-3, ""},
		{"zero is not positive", Positive, 0, "want a finite number > 0"},
		{"zero is non-negative", NonNegative, 0, ""},
		{"negative", NonNegative, -1, "-1: want a finite number ≥ 0"},
		{"NaN", Positive, math.NaN(), "NaN: want"},
		{"+Inf", NonNegative, math.Inf(1), "+Inf: want"},
		{"-Inf", Range{Min: -math.MaxFloat64, Max: math.MaxFloat64}, math.Inf(-1), "-Inf: want"},
		{"huge but finite", Positive, math.MaxFloat64, ""},
		{"upper bound in", upTo10, 10, ""},
		{"above", upTo10, 10.5, "want a finite number in (0, 10]"},
		{"open upper bound", Range{Max: 1, MaxOpen: true}, 1, "in [0, 1)"},
		{"probability", Probability, 0.5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Check(tc.v)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check(%v) = %v, want nil", tc.v, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check(%v) = %v, want an error containing %q", tc.v, err, tc.want)
			}
		})
	}
	if _, err := Positive.ParseFloat("1e30x"); err == nil || !strings.Contains(err.Error(), `"1e30x"`) {
		t.Errorf("ParseFloat of a non-number: %v", err)
	}
	if v, err := Positive.ParseFloat("2.5"); v != 2.5 || err != nil {
		t.Errorf("ParseFloat(2.5) = %v, %v", v, err)
	}
}
