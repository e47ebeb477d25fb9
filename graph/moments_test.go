package graph

import (
	"fmt"
	"math"
	"testing"

	"dcim/models"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestMomentGradientCheck compares the gradients of mean-and-variance
// propagation with float64 central differences: the class cross-entropy
// of the forward chain and the image BCE of the reverse chain, both with
// every layer above the first carrying a variance, for dense and
// convolutional layers in both encodings.
func TestMomentGradientCheck(t *testing.T) {
	archs := []struct {
		name, arch string
		in         models.Shape
	}{
		{"dense", "(5),(4),(3)", models.Shape{C: 1, H: 4, W: 3}},
		{"conv", "(3,1,2),(3,2,3),(4),(3)", models.Shape{C: 1, H: 7, W: 7}},
		{"conv-only", "(2,2,2),(2,1,2),(3)", models.Shape{C: 2, H: 6, W: 6}},
	}
	for _, a := range archs {
		for _, enc := range []Encoding{Binary, Spin} {
			for _, dir := range []string{"forward", "reverse"} {
				t.Run(fmt.Sprintf("%s/%v/%s", a.name, enc, dir), func(t *testing.T) {
					p := tinyParams(t, a.arch, a.in, 3, enc, 3)
					for _, pt := range p.Tensors() { // keep the units away from saturation
						d := pt.Data().([]float64)
						for i := range d {
							d[i] /= 2
						}
					}
					img, lab := tinyBatch(3, a.in, 3, 4)
					var c *chain
					var loss *G.Node
					var wrt G.Nodes
					if dir == "forward" {
						f, err := NewForward(p, 3, Moments)
						if err != nil {
							t.Fatal(err)
						}
						if err := f.SetImages(img); err != nil {
							t.Fatal(err)
						}
						y := G.NewMatrix(f.Graph, tensor.Float64, G.WithShape(3, 3), G.WithName("y"), G.WithValue(tensor.New(tensor.WithShape(3, 3), tensor.WithBacking(oneHot(lab, 3)))))
						if loss, err = G.ApplyOp(crossEntropyOp{}, f.Logits, y); err != nil {
							t.Fatal(err)
						}
						c, wrt = &f.chain, f.Learnables()[:2*p.Depth()]
					} else {
						r, err := NewReverse(p, 3, Moments)
						if err != nil {
							t.Fatal(err)
						}
						if err := r.SetClasses(lab); err != nil {
							t.Fatal(err)
						}
						x := G.NewTensor(r.Graph, tensor.Float64, 4, G.WithShape(3, a.in.C, a.in.H, a.in.W), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(3, a.in.C, a.in.H, a.in.W), tensor.WithBacking(float64s(img)))))
						if loss, err = G.ApplyOp(&bceOp{scale: pixelScaleOf(enc), dims: 4}, r.Logits, x); err != nil {
							t.Fatal(err)
						}
						// The top layer's bias is not used on the way down.
						all := r.Learnables()
						c, wrt = &r.chain, append(all[:2*p.Depth()-1:2*p.Depth()-1], all[len(all)-1])
					}
					grads, err := G.Grad(loss, wrt...)
					if err != nil {
						t.Fatal(err)
					}
					c.vm = G.NewTapeMachine(c.Graph)
					defer c.Close()
					if err := c.Run(); err != nil {
						t.Fatal(err)
					}
					var analytic [][]float64
					for _, g := range grads {
						analytic = append(analytic, append([]float64(nil), values(g)...))
					}
					eval := func() float64 {
						if err := c.Run(); err != nil {
							t.Fatal(err)
						}
						return Scalar(loss)
					}
					var vals [][]float64
					var names []string
					for _, node := range wrt {
						vals, names = append(vals, node.Value().Data().([]float64)), append(names, node.Name())
					}
					worst, where := worstGradError(vals, names, analytic, eval, 1e-4)
					if worst > 1e-5 {
						t.Errorf("max relative error %.3g at %s", worst, where)
					}
				})
			}
		}
	}
}

func oneHot(lab []uint8, k int) []float64 {
	y := make([]float64, len(lab)*k)
	for i, c := range lab {
		y[i*k+int(c)] = 1
	}
	return y
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestMomentVarianceExact checks the variance the moment method carries
// through a layer. Given the image, layer 1's units are independent, so
// layer 2's pre-activation has exactly the mean W·m + b and the variance
// (W∘W)·var that the method uses: enumerating layer 1's states must give
// the same two figures, put through the probit formula, for a dense and a
// convolutional layer 2.
func TestMomentVarianceExact(t *testing.T) {
	cases := []struct {
		name, arch string
		in         models.Shape
	}{
		{"dense", "(3),(2),(2)", models.Shape{C: 1, H: 2, W: 2}},
		{"conv", "(2,1,2),(2,1,1),(2)", models.Shape{C: 1, H: 3, W: 3}},
	}
	for _, c := range cases {
		for _, enc := range []Encoding{Binary, Spin} {
			t.Run(fmt.Sprintf("%s/%v", c.name, enc), func(t *testing.T) {
				p := tinyParams(t, c.arch, c.in, 2, enc, 9)
				img, _ := tinyBatch(1, c.in, 2, 3)
				mf, err := NewForward(p, 1, MeanField)
				if err != nil {
					t.Fatal(err)
				}
				defer mf.Close()
				mo, err := NewForward(p, 1, Moments)
				if err != nil {
					t.Fatal(err)
				}
				defer mo.Close()
				for _, f := range []*Forward{mf, mo} {
					if err := f.SetImages(img); err != nil {
						t.Fatal(err)
					}
					if err := f.Run(); err != nil {
						t.Fatal(err)
					}
				}
				// Layer 2's pre-activation as a function of layer 1's state,
				// computed by the mean-field graph run on that state.
				m1 := append([]float64(nil), values(mf.Means[1])...)
				on := make([]float64, len(m1))
				for i, m := range m1 {
					on[i] = m
					if enc == Spin {
						on[i] = (1 + m) / 2
					}
				}
				pre := func(x1 []float64) []float64 {
					l := mf.Layers[1]
					if l.Spec.Kind == models.Conv {
						out := make([]float64, l.Out.Size())
						var ws workspace[float64]
						convForward(l.geom, x1, p.W[1].Data().([]float64), out, &ws)
						return out
					}
					return denseAct(p.W[1].Data().([]float64), nil, x1, l.Out.Size(), false)
				}
				n2 := p.Shapes[2].Size()
				mu, sq := make([]float64, n2), make([]float64, n2)
				enumerate(enc, on, func(x1 []float64, prob float64) {
					for i, a := range pre(x1) {
						mu[i] += prob * a
						sq[i] += prob * a * a
					}
				})
				b2 := p.B[1].Data().([]float64)
				act := activationOf(enc)
				c := math.Pi / 8
				if enc == Spin {
					c = math.Pi / 2
				}
				got := values(mo.Means[2])
				for i := range mu {
					bias := b2[i*len(b2)/n2]
					want := []float64{(mu[i] + bias) / math.Sqrt(1+c*(sq[i]-mu[i]*mu[i]))}
					activate(act, want)
					if math.Abs(got[i]-want[0]) > 1e-12 {
						t.Errorf("layer 2 unit %d: moments %.15g, from enumeration %.15g", i, got[i], want[0])
					}
				}
			})
		}
	}
}

// TestMomentActGaussian checks the probit-style formula against the
// expectation of σ and tanh under a Gaussian, computed by quadrature, on a
// grid of means and standard deviations: within 0.02 for σ, and within
// twice that for tanh = 2σ(2a) − 1, which doubles σ's error.
func TestMomentActGaussian(t *testing.T) {
	for _, act := range []activation{actSigmoid, actTanh} {
		c, bound := math.Pi/8, 0.02
		if act == actTanh {
			c, bound = math.Pi/2, 0.04
		}
		worst := 0.0
		for mu := -6.0; mu <= 6; mu += 0.25 {
			for s := 0.0; s <= 6; s += 0.25 {
				var exact float64
				const steps = 4000
				for i := range steps { // midpoint rule on ±8 standard deviations
					x := -8 + 16*(float64(i)+0.5)/steps
					w := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) * 16 / steps
					v := []float64{mu + s*x}
					activate(act, v)
					exact += w * v[0]
				}
				got := make([]float64, 1)
				momentActFwd(act, c, []float64{mu}, []float64{s * s}, []float64{0}, got, 1)
				worst = math.Max(worst, math.Abs(got[0]-exact))
			}
		}
		t.Logf("%s: worst error %.4f", actNames[act], worst)
		if worst > bound {
			t.Errorf("%s: probit-style expectation off by up to %.4f", actNames[act], worst)
		}
	}
}

// TestPairwisePosteriorExact checks the moment method's class posterior
// for two classes above one hidden layer, whose units are independent
// given the image: it must be σ(δ/√(1 + π s²/8)) for the exact mean δ and
// variance s² of a_1 − a_2, found by enumerating layer 1's states.
func TestPairwisePosteriorExact(t *testing.T) {
	for _, c := range []struct {
		arch string
		in   models.Shape
	}{{"(4),(2)", models.Shape{C: 1, H: 2, W: 2}}, {"(2,1,2),(2)", models.Shape{C: 1, H: 3, W: 3}}} {
		for _, enc := range []Encoding{Binary, Spin} {
			p := tinyParams(t, c.arch, c.in, 2, enc, 5)
			img, _ := tinyBatch(1, c.in, 2, 8)
			f, err := NewForward(p, 1, Moments)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetImages(img); err != nil {
				t.Fatal(err)
			}
			if err := f.Run(); err != nil {
				t.Fatal(err)
			}
			on := append([]float64(nil), values(f.Means[1])...)
			if enc == Spin {
				for i, m := range on {
					on[i] = (1 + m) / 2
				}
			}
			w, b := p.W[1].Data().([]float64), p.B[1].Data().([]float64)
			var mean, sq float64
			enumerate(enc, on, func(x []float64, prob float64) {
				a := denseAct(w, b, x, 2, false)
				mean += prob * (a[0] - a[1])
				sq += prob * (a[0] - a[1]) * (a[0] - a[1])
			})
			want := sigmoid(mean / math.Sqrt(1+math.Pi*(sq-mean*mean)/8))
			if got := values(f.Probs); math.Abs(got[0]-want) > 1e-12 || math.Abs(got[0]+got[1]-1) > 1e-12 {
				t.Errorf("%s %v: posterior %v, want %.15g", c.arch, enc, got, want)
			}
			f.Close()
		}
	}
}
