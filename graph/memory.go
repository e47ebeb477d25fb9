package graph

import (
	"math"
	"slices"
)

// GraphValues is the number of values per state unit and batch row that
// this package's inference graphs (Forward, Reverse, Generator, and a Net
// without gradients) hold, rounded up: measured between 0.7 and 3.9 for
// the paper's dense network and CNN under every method, the values of the
// states and of the pre-activations, the noise and the draws of a drawn
// layer, and the kernels' scratch. A Net with gradients was measured at
// 2.2 (dense) and 3.9 (CNN) too: the gradients reuse the scratch.
const GraphValues = 4

// StateBytes estimates the memory of a graph of p for batches of rows
// images (or classes) that holds values values per state unit and row:
// rows × values × the units of every state of one image (the input and
// each layer) × the size of p's float type. It saturates at math.MaxInt64
// instead of overflowing, so that a hostile batch is refused like any
// other too large one.
func StateBytes(p *Params, rows, values int) int64 {
	units := int64(0)
	for _, s := range p.Shapes {
		units = SatAdd(units, SatMul(int64(s.C), int64(s.H), int64(s.W)))
	}
	return SatMul(int64(rows), int64(values), units, int64(p.Dtype().Size()))
}

// SatMul multiplies non-negative sizes, saturating at math.MaxInt64 (a
// negative factor saturates too; a zero factor gives 0).
func SatMul(xs ...int64) int64 {
	for _, x := range xs {
		if x < 0 {
			return math.MaxInt64
		}
	}
	if slices.Contains(xs, 0) {
		return 0
	}
	p := int64(1)
	for _, x := range xs {
		if p > math.MaxInt64/x {
			return math.MaxInt64
		}
		p *= x
	}
	return p
}

// SatAdd adds non-negative sizes, saturating at math.MaxInt64.
func SatAdd(xs ...int64) int64 {
	s := int64(0)
	for _, x := range xs {
		if x < 0 || s > math.MaxInt64-x {
			return math.MaxInt64
		}
		s += x
	}
	return s
}
