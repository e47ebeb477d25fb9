// Package graphtest builds DCIM parameters for the tests of the packages
// that use graph: one helper instead of a copy in each.
package graphtest

import (
	"testing"

	"dcim/graph"
	"dcim/models"

	"gorgonia.org/tensor"
)

// Params returns float32 parameters of arch (the paper's notation) on
// MNIST-shaped input with 10 classes, initialised from seed as training
// does: Glorot-uniform weights, zero biases and a⁰.
func Params(t testing.TB, arch string, enc graph.Encoding, seed uint64) *graph.Params {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewParams(a, models.MNISTInput, models.MNISTClasses, enc, tensor.Float32, seed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// NonZero gives every zero parameter (the biases and a⁰ of fresh
// parameters) a small value that depends on its position, so that a test
// of a round trip or of a bias sees them.
func NonZero(p *graph.Params) *graph.Params {
	for _, ts := range p.Tensors() {
		d := ts.Data().([]float32)
		for i := range d {
			if d[i] == 0 {
				d[i] = float32(i%7) * 0.01
			}
		}
	}
	return p
}
