package graph

import (
	"math"
	"testing"

	"dcim/models"

	"gorgonia.org/tensor"
)

// TestStateBytes: the estimate counts every state of one image, scales
// with the rows and the values, and saturates instead of overflowing.
func TestStateBytes(t *testing.T) {
	a, err := models.Parse("(512),(512),(10)")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewParams(a, models.MNISTInput, 10, Binary, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	const units = 784 + 512 + 512 + 10
	for _, tc := range []struct {
		rows, values int
		want         int64
	}{
		{1, 1, units * 4},
		{500, GraphValues, 500 * GraphValues * units * 4},
		{math.MaxInt, 4, math.MaxInt64},
		{-1, 4, math.MaxInt64},
	} {
		if got := StateBytes(p, tc.rows, tc.values); got != tc.want {
			t.Errorf("StateBytes(%d rows, %d values) = %d, want %d", tc.rows, tc.values, got, tc.want)
		}
	}
	if got := SatAdd(math.MaxInt64-1, 2); got != math.MaxInt64 {
		t.Errorf("SatAdd overflowed: %d", got)
	}
	if got := SatMul(1<<40, 1<<40, 0); got != 0 {
		t.Errorf("SatMul(2^40, 2^40, 0) = %d, want 0", got)
	}
}
