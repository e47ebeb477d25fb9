package complete

import (
	"math"
	"math/rand/v2"
	"testing"

	"dcim/graph"
	"dcim/models"

	"gorgonia.org/tensor"
)

// exactLogQObs returns log q(x_obs | c) of a net with few hidden units by
// summing q(x_obs, h | c) over every hidden state h, forced through the
// joint graph's noise (graph's test checks those terms by hand).
func exactLogQObs(t *testing.T, p *graph.Params, x, mask []float32, c uint8) float64 {
	t.Helper()
	j, err := graph.NewJoint(p, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.SetRows(x, x, mask, []uint8{c}); err != nil {
		t.Fatal(err)
	}
	var terms []float64
	units := p.Shapes[1].Size() + p.Shapes[2].Size()
	for h := range 1 << units {
		bit := 0
		for k := 1; k < p.Depth(); k++ {
			noise := j.Noise[k].Value().Data().([]float32)
			for i := range noise {
				noise[i] = float32(1 - h>>bit&1)
				bit++
			}
		}
		if err := j.Run(); err != nil {
			t.Fatal(err)
		}
		terms = append(terms, j.LogQ()[0])
	}
	return logSumExp(terms)
}

// TestImportanceSampleConverges checks the importance-sampled
// log q(x_obs | c) of generative-is and joint-is against the exact value
// of a net with five hidden units, for every class of two masked images:
// with 4000 samples it is within 0.05 nats. The samples' Monte-Carlo
// class posterior is a distribution over the classes.
func TestImportanceSampleConverges(t *testing.T) {
	for _, enc := range []graph.Encoding{graph.Binary, graph.Spin} {
		p := newParams(t, "(3),(2),(3)", models.Shape{C: 1, H: 3, W: 3}, enc, tensor.Float32, 3)
		for _, pt := range p.Tensors() { // modest weights: the forward chain is then a fair proposal
			d := pt.Data().([]float32)
			for i := range d {
				d[i] = d[i]/2 + 0.1*float32(i%3-1)
			}
		}
		const S = 4000
		e := &evaluator{p: p, cfg: Config{Draws: S}, size: 9, classes: 3}
		defer e.close()
		x := []float32{0.9, 0.1, 0.8, 0, 1, 1, 0.3, 0.7, 0, 1, 0, 1, 1, 1, 0, 0.5, 0.5, 0}
		obs := []bool{true, false, true, true, false, true, true, true, false, false, false, true, true, true, true, false, true, true}
		filled := make([]float32, len(x))
		for i := range x {
			filled[i] = x[i]
			if !obs[i] {
				filled[i] = 0.5
			}
		}
		im, err := e.importanceSample(x, obs, filled, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			mask := make([]float32, 9)
			for j := range mask {
				if obs[i*9+j] {
					mask[j] = 1
				}
			}
			var sum float64
			for c := range 3 {
				want := exactLogQObs(t, p, x[i*9:(i+1)*9], mask, uint8(c))
				if got := im.logLik[i*3+c]; math.Abs(got-want) > 0.05 {
					t.Errorf("%v image %d class %d: log q(x_obs | c) ≈ %.4f, exact %.4f", enc, i, c, got, want)
				}
				sum += im.fwdPost[i*3+c]
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("%v image %d: Monte-Carlo posterior sums to %g", enc, i, sum)
			}
		}
	}
}
