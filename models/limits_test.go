package models

import (
	"math"
	"strings"
	"testing"
)

func TestParamCountAndStateUnits(t *testing.T) {
	tests := []struct {
		arch          string
		params, units int
	}{
		// 784·512+512 + 512·512+512 + 512·10+10 + 784 (a^0)
		{paperDense.String(), 670490, 784 + 512 + 512 + 10},
		// 784 + 32·26² + 32·24² + 32·12² + 64·10² + 64·8² + 64·4² + 50 + 10
		{paperCNN.String(), 138112, 784 + 21632 + 18432 + 4608 + 6400 + 4096 + 1024 + 50 + 10},
		{"(10)", 784*10 + 10 + 784, 784 + 10},
	}
	for _, tc := range tests {
		a, err := Parse(tc.arch)
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.ParamCount(MNISTInput, MNISTClasses)
		if err != nil || p != tc.params {
			t.Errorf("%s: ParamCount = %d, %v; want %d", tc.arch, p, err, tc.params)
		}
		u, err := a.StateUnits(MNISTInput, MNISTClasses)
		if err != nil || u != tc.units {
			t.Errorf("%s: StateUnits = %d, %v; want %d", tc.arch, u, err, tc.units)
		}
		if err := a.CheckSize(MNISTInput, MNISTClasses, 64); err != nil {
			t.Errorf("%s: CheckSize at batch 64: %v", tc.arch, err)
		}
		// The largest batch the limit allows passes, one more is refused.
		if err := a.CheckSize(MNISTInput, MNISTClasses, MaxBatchUnits/tc.units); err != nil {
			t.Errorf("%s: CheckSize at the largest batch: %v", tc.arch, err)
		}
		if err := a.CheckSize(MNISTInput, MNISTClasses, MaxBatchUnits/tc.units+1); err == nil {
			t.Errorf("%s: CheckSize one image above the largest batch passed", tc.arch)
		}
	}
}

// TestCheckSizeRefuses feeds sizes that overflow int or would need
// gigabytes; every one must be refused with an error naming the limit,
// and none may panic.
func TestCheckSizeRefuses(t *testing.T) {
	huge := math.MaxInt
	tests := []struct {
		name    string
		arch    string
		in      Shape
		classes int
		batch   int
		want    string
	}{
		{"units MaxInt", "(9223372036854775807),(10)", MNISTInput, 10, 1, "more than the limit of 33554432"},
		{"units 1e8", "(100000000),(10)", MNISTInput, 10, 1, "79500000794 parameters, more than the limit"},
		{"input 2^32×2^32", "(10)", Shape{C: 4294967296, H: 4294967296, W: 1}, 10, 1, "too many units to count in an int"},
		{"input 1×1e5×1e5", "(10)", Shape{C: 1, H: 100000, W: 100000}, 10, 1, "more than the limit of 33554432"},
		{"input MaxInt", "(10)", Shape{C: huge, H: huge, W: huge}, 10, 1, "too many units"},
		{"conv output", "(1,1,9223372036854775807),(10)", Shape{C: 1, H: 2, W: 2}, 10, 1, "layer 1 (1,1,9223372036854775807): output"},
		{"conv weights", "(3,1,4611686018427387904),(10)", Shape{C: 4, H: 3, W: 3}, 10, 1, "more than the limit"},
		{"state units", "(1,1,17),(1000,1000,1),(10)", Shape{C: 1, H: 1000, W: 1000}, 10, 1, "state units per image, more than the limit of 16777216"},
		{"batch MaxInt", paperCNN.String(), MNISTInput, 10, huge, "at most 4706 images"},
		{"batch 1e7", paperDense.String(), MNISTInput, 10, 10000000, "at most 147654 images"},
		{"batch 0", paperDense.String(), MNISTInput, 10, 0, "batch of 0 images"},
		{"classes MaxInt", "(9223372036854775807)", MNISTInput, huge, 1, "more than the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			err = a.CheckSize(tc.in, tc.classes, tc.batch)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckSize: %v, want an error containing %q", err, tc.want)
			}
			// Params, ParamCount and StateUnits must not panic
			// or return a wrapped count either.
			if ps, err := a.Params(tc.in, tc.classes); err == nil {
				for i, p := range ps {
					if p < 0 {
						t.Errorf("Params: layer %d has %d parameters", i+1, p)
					}
				}
			}
			if n, err := a.ParamCount(tc.in, tc.classes); err == nil && n < 0 {
				t.Errorf("ParamCount = %d", n)
			}
			if n, err := a.StateUnits(tc.in, tc.classes); err == nil && n < 0 {
				t.Errorf("StateUnits = %d", n)
			}
		})
	}
}

func TestParamsOverflow(t *testing.T) {
	a, err := Parse("(4611686018427387904),(10)")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Params(Shape{C: 4, H: 1, W: 1}, 10)
	if err == nil || !strings.Contains(err.Error(), "layer 1 (4611686018427387904): parameter count does not fit an int") {
		t.Errorf("Params: %v", err)
	}
	if _, err := a.ParamCount(Shape{C: 4, H: 1, W: 1}, 10); err == nil {
		t.Error("ParamCount of an overflowing network succeeded")
	}
}
