package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"dcim/models"

	"gorgonia.org/tensor"
)

// drawCase is a small net and an objective that draws forward layers.
type drawCase struct {
	name, arch string
	in         models.Shape
	obj        string
}

var drawCases = []drawCase{
	{"dense", "(5),(4),(3)", models.Shape{C: 1, H: 4, W: 3}, "ce + 0.5*label + draw + 0.3*layer + 0.2*layer:1"},
	{"conv", "(3,1,2),(3,2,3),(4),(3)", models.Shape{C: 1, H: 7, W: 7}, "ce + draw + 0.5*draw:-1 + layer + 0.4*layer:1"},
	{"every-layer", "(3,1,2),(5),(4),(3)", models.Shape{C: 1, H: 5, W: 5}, "ce + label + 0.6*layer:*"},
}

// runNet builds cfg on p, feeds the tiny batch and the noise of each drawn
// layer from fill (nil: DrawNoise from a fixed stream), runs it, and
// returns the loss and the gradients.
func runNet(t *testing.T, p *Params, cfg Config, fill func(k int, noise []float64)) (*Net, float64, [][]float64) {
	t.Helper()
	net, err := New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	img, lab := tinyBatch(cfg.Batch, p.Input, p.Classes, 4)
	if err := net.SetBatch(img, lab); err != nil {
		t.Fatal(err)
	}
	if fill == nil {
		net.DrawNoise(rand.New(rand.NewPCG(5, 6)))
	} else {
		for k, noise := range net.Noise {
			fill(k, noise.Value().Data().([]float64))
		}
	}
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	var grads [][]float64
	for i, g := range net.Grads {
		if g == nil {
			grads = append(grads, make([]float64, p.Tensors()[i].Len()))
			continue
		}
		grads = append(grads, append([]float64(nil), g.Value().Data().([]float64)...))
	}
	return net, Scalar(net.Loss), grads
}

// noiseStream fills noise from a fixed stream per layer.
func noiseStream(seed uint64) func(int, []float64) {
	return func(k int, noise []float64) {
		rng := rand.New(rand.NewPCG(seed, uint64(k)))
		for i := range noise {
			noise[i] = rng.Float64()
		}
	}
}

// TestStraightThroughGradient checks the straight-through gradient against
// central differences of the function it differentiates exactly: the loss
// with each draw x^k replaced by x̄^k(θ) + (x^k − x̄^k(θ₀)), which equals
// the drawn loss at θ₀.
//
// Under MonteCarlo inference every hidden layer is drawn from its parent's
// draw, and the same function (each draw replaced by its mean given the
// parent plus the fixed offset) is what straight-through differentiates.
func TestStraightThroughGradient(t *testing.T) {
	for _, c := range drawCases {
		for _, enc := range []Encoding{Binary, Spin} {
			for _, inf := range []Inference{MeanField, MonteCarlo} {
				t.Run(fmt.Sprintf("%s/%v/%v", c.name, enc, inf), func(t *testing.T) {
					arch := models.MustParse(c.arch)
					p, err := NewParams(arch, c.in, 3, enc, tensor.Float64, 1)
					if err != nil {
						t.Fatal(err)
					}
					randomize(p, 3)
					obj := models.MustParseObjective(c.obj)
					cfg := Config{Objective: obj, Lambda: 0.7, Batch: 3, Grad: true, DrawGradient: StraightThrough, Inference: inf}
					st, loss, analytic := runNet(t, p, cfg, noiseStream(5))

					// c^k = x^k − x̄^k at θ₀, from the straight-through graph.
					offset := map[int][]float64{}
					for k, s := range st.Draws {
						x, m := s.Value().Data().([]float64), st.States[k].Value().Data().([]float64)
						offset[k] = make([]float64, len(x))
						for i := range x {
							offset[k][i] = x[i] - m[i]
						}
					}
					cfg.drawOffset = true
					smooth, smoothLoss, _ := runNet(t, p, cfg, func(k int, c []float64) { copy(c, offset[k]) })
					if math.Abs(smoothLoss-loss) > 1e-12 {
						t.Fatalf("loss with offsets %v, drawn %v: not the same function at θ₀", smoothLoss, loss)
					}
					var values [][]float64
					for _, pt := range p.Tensors() {
						values = append(values, pt.Data().([]float64))
					}
					f := func() float64 {
						if err := smooth.Run(); err != nil {
							t.Fatal(err)
						}
						return Scalar(smooth.Loss)
					}
					floor := 1e-6
					if inf == MonteCarlo {
						floor = 1e-4 // {0,1} units shrink the lowest layers' gradients to 1e-6, where central differences round at 1e-10
					}
					if worst, where := worstGradError(values, p.Names(), analytic, f, floor); worst > 1e-5 {
						t.Errorf("max relative error %.3g at %s", worst, where)
					}

					if inf == MonteCarlo {
						return // the sampled chain takes no gradient-free draws
					}
					// Without the estimator the forward layers below a draw get
					// only what their own terms give: the gradients differ.
					cfg.drawOffset, cfg.DrawGradient = false, NoDrawGradient
					_, plainLoss, plain := runNet(t, p, cfg, noiseStream(5))
					if plainLoss != loss {
						t.Errorf("loss %v without the estimator, %v with: the estimator changed the forward values", plainLoss, loss)
					}
					if same(plain, analytic) {
						t.Error("straight-through gradients equal the ones without it")
					}
				})
			}
		}
	}
}

// TestDrawsAverage checks that K draws per image average the drawn terms:
// with the noise of K = 2 made of two streams A and B, the loss and every
// gradient are the means of the K = 1 figures under A and under B; with
// the same stream twice they equal the K = 1 figures.
//
// Under MonteCarlo inference the K draws are K samples of the whole
// forward chain, and the cross-entropy averages over them as well.
func TestDrawsAverage(t *testing.T) {
	for _, c := range drawCases {
		for _, v := range []struct {
			inf  Inference
			grad DrawGradient
		}{{MeanField, NoDrawGradient}, {MeanField, StraightThrough}, {MonteCarlo, StraightThrough}, {MonteCarlo, PSA}} {
			grad := v.grad
			t.Run(fmt.Sprintf("%s/%v/%v", c.name, v.inf, grad), func(t *testing.T) {
				p, err := NewParams(models.MustParse(c.arch), c.in, 3, Spin, tensor.Float64, 1)
				if err != nil {
					t.Fatal(err)
				}
				randomize(p, 3)
				cfg := Config{Objective: models.MustParseObjective(c.obj), Lambda: 0.7, Batch: 3, Grad: true, DrawGradient: grad, Inference: v.inf}
				_, lossA, gradA := runNet(t, p, cfg, noiseStream(5))
				_, lossB, gradB := runNet(t, p, cfg, noiseStream(6))
				cfg.Draws = 2
				two := func(a, b uint64) func(int, []float64) {
					return func(k int, noise []float64) {
						h := len(noise) / 2
						noiseStream(a)(k, noise[:h])
						noiseStream(b)(k, noise[h:])
					}
				}
				_, loss, grads := runNet(t, p, cfg, two(5, 6))
				if math.Abs(loss-(lossA+lossB)/2) > 1e-12 {
					t.Errorf("loss %v with two draws, want the mean of %v and %v", loss, lossA, lossB)
				}
				for i := range grads {
					for j, g := range grads[i] {
						if want := (gradA[i][j] + gradB[i][j]) / 2; math.Abs(g-want) > 1e-12*max(1, math.Abs(want)) {
							t.Fatalf("%s[%d] = %v with two draws, want %v", p.Names()[i], j, g, want)
						}
					}
				}
				_, loss, _ = runNet(t, p, cfg, two(5, 5))
				if math.Abs(loss-lossA) > 1e-12 {
					t.Errorf("loss %v with the same draw twice, want %v", loss, lossA)
				}
			})
		}
	}
}

func TestDrawsErrors(t *testing.T) {
	p, err := NewParams(models.MustParse("(5),(4),(3)"), models.Shape{C: 1, H: 4, W: 3}, 3, Spin, tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{Objective: GenerativeSampled, Batch: 2, Draws: -1},
		{Objective: GenerativeSampled, Batch: 2, Draws: MaxDraws + 1},
		{Objective: GenerativeSampled, Batch: 2, Draws: 2, Inference: Moments},
		{Objective: Generative, Batch: 2, Inference: MonteCarlo},                        // no draw gradient
		{Objective: GenerativeSampled, Batch: 2, DrawGradient: PSA},                     // PSA under mean field
		{Objective: GenerativeSampled, Batch: 2, DrawGradient: PSA, Inference: Moments}, // and moments
	} {
		if _, err := New(p, cfg); err == nil {
			t.Errorf("New with %d draws, %v, %v: no error", cfg.Draws, cfg.Inference, cfg.DrawGradient)
		}
	}
	for _, s := range []string{"", "none", "straight-through", "psa"} {
		d, err := ParseDrawGradient(s)
		if err != nil || (s != "" && d.String() != s) {
			t.Errorf("ParseDrawGradient(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := ParseDrawGradient("st"); err == nil {
		t.Error(`ParseDrawGradient("st"): no error`)
	}
}

// same reports whether two gradient lists are equal entry by entry.
func same(a, b [][]float64) bool {
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// The sampled forward chain of a training graph is the DCIM's forward
// model that approximation (2) is measured against: with the same noise it
// draws the same states, and gives the same class posterior, as the
// Monte-Carlo Forward graph — under either estimator.
func TestSampledChainIsMonteCarlo(t *testing.T) {
	for _, c := range drawCases {
		for _, grad := range []DrawGradient{StraightThrough, PSA} {
			t.Run(fmt.Sprintf("%s/%v", c.name, grad), func(t *testing.T) {
				p, err := NewParams(models.MustParse(c.arch), c.in, 3, Spin, tensor.Float64, 1)
				if err != nil {
					t.Fatal(err)
				}
				randomize(p, 3)
				net, _, _ := runNet(t, p, Config{Objective: Generative, Batch: 3, Grad: true, Inference: MonteCarlo, DrawGradient: grad}, noiseStream(5))
				f, err := NewForward(p, 3, MonteCarlo)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				img, _ := tinyBatch(3, p.Input, p.Classes, 4)
				if err := f.SetImages(img); err != nil {
					t.Fatal(err)
				}
				for k, n := range f.Noise {
					if n != nil {
						noiseStream(5)(k, n.Value().Data().([]float64))
					}
				}
				if err := f.Run(); err != nil {
					t.Fatal(err)
				}
				for k := 1; k < p.Depth(); k++ {
					if a, b := net.States[k].Value().Data().([]float64), f.Means[k].Value().Data().([]float64); !slices.Equal(a, b) {
						t.Errorf("layer %d: means given the drawn parent differ from the Monte-Carlo forward graph's", k)
					}
				}
				if a, b := net.Probs.Value().Data().([]float64), f.Probs.Value().Data().([]float64); !slices.Equal(a, b) {
					t.Errorf("class posterior %v, Monte-Carlo forward graph %v", a, b)
				}
			})
		}
	}
}

// Under MonteCarlo with ReverseDrawsAsData the reverse terms read the
// chain's draws as data: the loss is unchanged, and a layer term reaches
// only its own layer's parameters (W^{k+1}, b^k), where with its gradient
// through the draws it also reaches every layer below them.
func TestReverseDrawsAsData(t *testing.T) {
	p, err := NewParams(models.MustParse("(4),(3),(3),(3)"), models.Shape{C: 1, H: 2, W: 3}, 3, Spin, tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	randomize(p, 3)
	cfg := Config{Objective: models.MustParseObjective("0*ce + layer:2"), Batch: 3, Grad: true, Inference: MonteCarlo, DrawGradient: StraightThrough}
	_, loss, through := runNet(t, p, cfg, noiseStream(5))
	cfg.ReverseDrawsAsData = true
	_, lossData, data := runNet(t, p, cfg, noiseStream(5))
	if loss != lossData {
		t.Errorf("loss %v reading the draws as data, %v through them", lossData, loss)
	}
	for i, name := range p.Names() {
		own := name == "W3" || name == "b2"
		nonzero := func(g []float64) bool { return slices.ContainsFunc(g, func(v float64) bool { return v != 0 }) }
		if own != nonzero(data[i]) {
			t.Errorf("%s: gradient %v reading the draws as data; want nonzero only for W3 and b2", name, data[i])
		}
		if (name == "W1" || name == "b1" || name == "W2") && !nonzero(through[i]) {
			t.Errorf("%s: zero gradient through the draws", name)
		}
	}
	cfg.Inference, cfg.Objective = MeanField, GenerativeSampled
	if _, err := New(p, cfg); err == nil {
		t.Error("ReverseDrawsAsData under mean field: no error")
	}
}
