package approx

import (
	"math"
	"math/rand/v2"
	"testing"

	"dcim/graph"
)

// exactLogQ returns log q(x | c) of a net with few hidden units by summing
// q(x, h | c) over every hidden state h, each forced through the joint
// graph's noise (graph's own test checks those terms by hand).
func exactLogQ(t *testing.T, p *graph.Params, x []float32, c uint8) float64 {
	t.Helper()
	j, err := graph.NewJoint(p, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.SetRows(x, x, nil, []uint8{c}); err != nil {
		t.Fatal(err)
	}
	units := 0
	for k := 1; k < p.Depth(); k++ {
		units += p.Shapes[k].Size()
	}
	var terms []float64
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
	return logMeanExp(terms) + math.Log(float64(len(terms)))
}

// TestLikelihoodConverges checks the importance-sampled log-likelihood
// against the exact one of a net whose five hidden units can be
// enumerated: with K = 4000 samples the estimate is within four
// Monte-Carlo standard errors (plus 0.01 nats of the estimator's bias) of
// log q(x | label), and of log q(x) under a uniform class prior, image by
// image; with K = 10 it is lower on average (Jensen's gap) and its
// standard error larger.
func TestLikelihoodConverges(t *testing.T) {
	for _, enc := range []graph.Encoding{graph.Binary, graph.Spin} {
		p := tinyModel(t, "(3),(2),(3)", enc)
		for _, pt := range p.Tensors() {
			d := pt.Data().([]float32)
			for i := range d {
				d[i] /= 4
			}
		}
		img, lab := tinyImages(3)
		bin := binarise(img)
		for i := range lab {
			x := bin[i*36 : (i+1)*36]
			ll, err := likelihood(p, x, lab[i:i+1], 1, []int{10, 4000}, 64, rand.New(rand.NewPCG(1, uint64(i))), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := exactLogQ(t, p, x, lab[i])
			var cls []float64
			for c := range p.Classes {
				cls = append(cls, exactLogQ(t, p, x, uint8(c)))
			}
			wantU := logMeanExp(cls)
			small, big := ll.Estimates[0], ll.Estimates[1]
			if big.Draws != 4000 || small.Draws != 10 {
				t.Fatalf("estimates of K = %d and %d, want 10 and 4000", small.Draws, big.Draws)
			}
			if d := math.Abs(big.Conditional.Value - want); d > 4*big.Conditional.SE+0.01 {
				t.Errorf("%v image %d: log q(x | c) ≈ %.4f (s.e. %.4f), exact %.4f", enc, i, big.Conditional.Value, big.Conditional.SE, want)
			}
			if d := math.Abs(big.Unconditional.Value - wantU); d > 4*big.Unconditional.SE+0.01 {
				t.Errorf("%v image %d: log q(x) ≈ %.4f (s.e. %.4f), exact %.4f", enc, i, big.Unconditional.Value, big.Unconditional.SE, wantU)
			}
			t.Logf("%v image %d: exact %.4f; K=10 %.4f (%.3f); K=4000 %.4f (%.4f)", enc, i, want, small.Conditional.Value, small.Conditional.SE, big.Conditional.Value, big.Conditional.SE)
		}
	}
}

// TestISEstimate checks the estimator's arithmetic: equal weights give
// their own value with no error, and the delta-method error of two
// weights w and 3w is sd/(√K·mean) = (√2·w)/(√2·2w) = ½.
func TestISEstimate(t *testing.T) {
	if est, se := isEstimate([]float64{-5, -5, -5}); math.Abs(est+5) > 1e-12 || se != 0 {
		t.Errorf("equal weights: %g ± %g, want -5 ± 0", est, se)
	}
	est, se := isEstimate([]float64{-100, -100 + math.Log(3)})
	if math.Abs(est-(-100+math.Log(2))) > 1e-12 || math.Abs(se-0.5) > 1e-12 {
		t.Errorf("weights w, 3w: %g ± %g, want %g ± 0.5", est, se, -100+math.Log(2))
	}
}
