package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"dcim/models"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// drawnState returns n random drawn states of a layer's shape: ±1 for spin
// units, {0,1} for binary ones.
func drawnState(shape tensor.Shape, enc Encoding, seed uint64) *tensor.Dense {
	t := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(shape...))
	rng := rand.New(rand.NewPCG(seed, 3))
	fill(t, func() float64 {
		on := rng.IntN(2) == 1
		switch {
		case on:
			return 1
		case enc == Spin:
			return -1
		}
		return 0
	})
	return t
}

// psaLayer is one hidden layer k of p, its input x^{k−1} a drawn state
// xs, in a graph whose loss is Σ_j g_j·m_j(x) with m = σ(W x + b) through
// psaActOp, and ∂loss/∂x.
type psaLayer struct {
	vm         G.VM
	loss       *G.Node
	x, dx      *G.Node
	xs         *tensor.Dense
	dtypeIsF32 bool
}

func newPSALayer(t *testing.T, p *Params, k, batch int, xs, gs *tensor.Dense) *psaLayer {
	t.Helper()
	var ch chain
	if err := ch.init(p, batch); err != nil {
		t.Fatal(err)
	}
	l := ch.Layers[k-1]
	x := G.NewTensor(ch.Graph, xs.Dtype(), xs.Dims(), G.WithShape(xs.Shape()...), G.WithName("x"), G.WithValue(xs))
	z, err := l.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	m, err := psaAct(l, z, x, activationOf(p.Encoding))
	if err != nil {
		t.Fatal(err)
	}
	prod, err := G.HadamardProd(m, G.NewConstant(gs, G.WithName("g")))
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	pl := &psaLayer{vm: G.NewTapeMachine(ch.Graph), loss: loss, x: x, dx: grads[0], xs: xs}
	t.Cleanup(func() { pl.vm.Close() })
	return pl
}

func (pl *psaLayer) run(t *testing.T) float64 {
	t.Helper()
	pl.vm.Reset()
	if err := pl.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return Scalar(pl.loss)
}

// asFloat32 returns a float32 copy of a float64 tensor.
func asFloat32(d *tensor.Dense) *tensor.Dense {
	src := d.Data().([]float64)
	out := make([]float32, len(src))
	for i, v := range src {
		out[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(d.Shape().Clone()...), tensor.WithBacking(out))
}

// TestPSAFlipExact checks the PSA derivative of one hidden layer's means
// in its drawn input: with the loss L = Σ_j g_j·m_j(x), m = σ(W x + b), the
// derivative in x_i that psaActOp and the layer's linear op give together
// is the exact change of the loss under the flip of x_i, c·s_i·(L(x) −
// L(x with x_i flipped)), computed here by running the layer on the
// flipped state — for dense and convolutional layers (strides 1 and 2),
// ±1 and {0,1} units, in float64 (to rounding) and in float32, whose
// vector kernels the wider layers run (to float32's precision).
func TestPSAFlipExact(t *testing.T) {
	cases := []struct {
		name, arch string
		in         models.Shape
	}{ // the layer tested is layer 2, whose input x¹ is drawn
		{"dense", "(5),(4),(3)", models.Shape{C: 1, H: 2, W: 3}},
		{"dense-wide", "(13),(9),(3)", models.Shape{C: 1, H: 2, W: 3}},
		{"conv-to-dense", "(2,1,2),(4),(3)", models.Shape{C: 1, H: 4, W: 4}},
		{"conv", "(2,1,2),(2,1,3),(3)", models.Shape{C: 1, H: 4, W: 4}},
		{"conv-wide", "(3,1,2),(3,1,3),(3)", models.Shape{C: 1, H: 9, W: 8}},
		{"conv-stride2", "(3,1,2),(2,2,3),(3)", models.Shape{C: 1, H: 6, W: 6}},
		{"conv-stride2-wide", "(3,1,2),(2,2,3),(3)", models.Shape{C: 1, H: 10, W: 8}},
	}
	for _, c := range cases {
		for _, enc := range []Encoding{Binary, Spin} {
			t.Run(fmt.Sprintf("%s/%v", c.name, enc), func(t *testing.T) {
				const batch = 2
				p := mustParams(t, c.arch, c.in, 3, enc, tensor.Float64)
				randomize(p, 9)
				for _, w := range p.W { // weights large enough that the flip is far from linear
					d := w.Data().([]float64)
					for i := range d {
						d[i] *= 4
					}
				}
				xs := drawnState(stateShape(p, 1, batch), enc, 4)
				p32 := mustParams(t, c.arch, c.in, 3, enc, tensor.Float32)
				for i, pt := range p.Tensors() {
					copy(p32.Tensors()[i].Data().([]float32), asFloat32(pt).Data().([]float32))
				}
				gs := drawnState(stateShape(p, 2, batch), Binary, 5) // upstream weights g_j ∈ {0,1} …
				gd := gs.Data().([]float64)
				rng := rand.New(rand.NewPCG(6, 0))
				for i := range gd {
					gd[i] = gd[i]*rng.Float64() - 0.3 // … made signed and varied
				}
				l64 := newPSALayer(t, p, 2, batch, xs, gs)
				l64.run(t)
				got := append([]float64(nil), l64.dx.Value().Data().([]float64)...)
				l32 := newPSALayer(t, p32, 2, batch, asFloat32(xs), asFloat32(gs))
				l32.run(t)
				got32 := l32.dx.Value().Data().([]float32)
				_, cf := flipOf(activationOf(enc))
				xd := xs.Data().([]float64)
				per := len(xd) / batch
				// The loss is a sum over rows; flipping x_i of row r changes row r only.
				for i, v := range xd {
					s := v
					if enc == Binary {
						s = 2*v - 1
					}
					base := l64.run(t)
					xd[i] = -v // the other state
					if enc == Binary {
						xd[i] = 1 - v
					}
					flipped := l64.run(t)
					xd[i] = v
					want := cf * s * (base - flipped)
					if math.Abs(got[i]-want) > 1e-10*(1+math.Abs(want)) {
						t.Fatalf("row %d unit %d: PSA derivative %.12g, exact flip %.12g", i/per, i%per, got[i], want)
					}
					if math.Abs(float64(got32[i])-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("row %d unit %d: float32 PSA derivative %.9g, exact flip %.9g", i/per, i%per, got32[i], want)
					}
				}
			})
		}
	}
}

// enumeration is the sampled forward chain of a tiny net on one image,
// taken over every joint state of its hidden units: each state's
// probability, loss and estimated gradient.
type enumeration struct {
	prob  []float64   // P(h | x⁰), by state
	loss  []float64   // −log p(label | x^{d−1}), by state
	grads [][]float64 // the estimator's gradient, by state, all parameters flattened
}

// enumerator runs the MonteCarlo graph of p on one image once per joint
// state of the hidden layers, forcing each draw through its noise (0
// draws the unit on, 1 off); the graph reads the parameters' tensors, so
// a change to them shows in the next enumeration.
type enumerator struct {
	t     *testing.T
	p     *Params
	net   *Net
	units int
}

func newEnumerator(t *testing.T, p *Params, est DrawGradient, img []float32, label uint8) *enumerator {
	t.Helper()
	net, err := New(p, Config{Batch: 1, Inference: MonteCarlo, DrawGradient: est, Grad: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	if err := net.SetBatch(img, []uint8{label}); err != nil {
		t.Fatal(err)
	}
	e := &enumerator{t: t, p: p, net: net}
	for k := 1; k < p.Depth(); k++ {
		e.units += p.Shapes[k].Size()
	}
	if e.units > 10 {
		t.Fatalf("%d hidden units: too many states to enumerate", e.units)
	}
	return e
}

// run enumerates the states and records what each state's run gives.
func (en *enumerator) run() enumeration {
	p, net, d := en.p, en.net, en.p.Depth()
	var e enumeration
	for h := 0; h < 1<<en.units; h++ {
		bit := 0
		for k := 1; k < d; k++ {
			noise := net.Noise[k].Value().Data().([]float64)
			for i := range noise {
				noise[i] = float64(1 - h>>bit&1)
				bit++
			}
		}
		if err := net.Run(); err != nil {
			en.t.Fatal(err)
		}
		prob := 1.0
		for k := 1; k < d; k++ {
			x, m := net.Draws[k].Value().Data().([]float64), net.States[k].Value().Data().([]float64)
			for i := range x {
				switch {
				case p.Encoding == Spin:
					prob *= (1 + x[i]*m[i]) / 2
				case x[i] == 1:
					prob *= m[i]
				default:
					prob *= 1 - m[i]
				}
			}
		}
		e.prob = append(e.prob, prob)
		e.loss = append(e.loss, Scalar(net.CE))
		var g []float64
		for i, gn := range net.Grads {
			if gn == nil {
				g = append(g, make([]float64, p.Tensors()[i].Len())...)
				continue
			}
			g = append(g, gn.Value().Data().([]float64)...)
		}
		e.grads = append(e.grads, g)
	}
	return e
}

// expected returns Σ_h P(h)·f(h).
func (e enumeration) expected() float64 {
	var s float64
	for h, pr := range e.prob {
		s += pr * e.loss[h]
	}
	return s
}

// TestEstimatorsAgainstExactGradient compares straight-through and PSA
// with the exact gradient of the expected loss E[−log p(label | x^{d−1})]
// of the sampled forward chain, on nets small enough to enumerate every
// joint state of their hidden units: each estimator's expectation
// Σ_h P(h)·ĝ(h) against central differences of the enumerated expected
// loss, and its variance Σ_h P(h)·‖ĝ(h) − E ĝ‖² over the parameters of
// layers 1…d−1 (the class layer's gradient is the same function of the
// sample under both). With one hidden layer
// PSA is unbiased (to rounding); deeper it is biased by its linearisation
// of the layers above a flip, less than straight-through here; and its
// variance is below straight-through's everywhere.
func TestEstimatorsAgainstExactGradient(t *testing.T) {
	cases := []struct {
		name, arch string
		in         models.Shape
		unbiased   bool
		// maxBias bounds PSA's relative bias ‖E ĝ − ∇‖/‖∇‖ where it is
		// biased (measured: see the log).
		maxBias float64
	}{
		{"dense-1", "(4),(3)", models.Shape{C: 1, H: 1, W: 3}, true, 0},
		{"conv-1", "(2,1,2),(3)", models.Shape{C: 1, H: 2, W: 3}, true, 0},
		{"dense-2", "(4),(3),(3)", models.Shape{C: 1, H: 1, W: 3}, false, 0.1},
		{"conv-2", "(2,1,1),(2,1,2),(3)", models.Shape{C: 1, H: 3, W: 3}, false, 0.1},
		{"dense-3", "(3),(2),(2),(3)", models.Shape{C: 1, H: 1, W: 3}, false, 0.1},
	}
	for _, c := range cases {
		for _, enc := range []Encoding{Binary, Spin} {
			t.Run(fmt.Sprintf("%s/%v", c.name, enc), func(t *testing.T) {
				p := mustParams(t, c.arch, c.in, 3, enc, tensor.Float64)
				randomize(p, 21)
				for _, w := range p.W { // weights of a trained net's size, so that flips are far from linear
					d := w.Data().([]float64)
					for i := range d {
						d[i] *= 3
					}
				}
				img, lab := tinyBatch(1, p.Input, 3, 8)
				ens := map[DrawGradient]*enumerator{}
				for _, est := range []DrawGradient{StraightThrough, PSA} {
					ens[est] = newEnumerator(t, p, est, img, lab[0])
				}
				// The exact gradient: central differences of the enumerated expectation.
				var exact []float64
				for _, pt := range p.Tensors() {
					d := pt.Data().([]float64)
					for j := range d {
						const eps = 1e-6
						old := d[j]
						d[j] = old + eps
						up := ens[StraightThrough].run().expected()
						d[j] = old - eps
						down := ens[StraightThrough].run().expected()
						d[j] = old
						exact = append(exact, (up-down)/(2*eps))
					}
				}
				norm := math.Sqrt(dot(exact, exact))
				below := 0 // the entries of layers 1…d−1
				for _, pt := range p.Tensors()[:2*(p.Depth()-1)] {
					below += pt.Len()
				}
				type figures struct{ bias, variance float64 }
				fig := map[DrawGradient]figures{}
				for _, est := range []DrawGradient{StraightThrough, PSA} {
					e := ens[est].run()
					mean := make([]float64, len(exact))
					for h, pr := range e.prob {
						for j, g := range e.grads[h] {
							mean[j] += pr * g
						}
					}
					// The variance of the gradients of layers 1…d−1: the class
					// layer's are the same function of the sample under both.
					var variance float64
					for h, pr := range e.prob {
						for j, g := range e.grads[h][:below] {
							variance += pr * (g - mean[j]) * (g - mean[j])
						}
					}
					diff := make([]float64, len(exact))
					worst := 0.0
					for j := range exact {
						diff[j] = mean[j] - exact[j]
						worst = max(worst, math.Abs(diff[j])/(1e-3+math.Abs(exact[j])))
					}
					fig[est] = figures{math.Sqrt(dot(diff, diff)) / norm, variance}
					t.Logf("%-16v relative bias %.3g (worst entry %.3g), variance below the class layer %.6g (‖∇‖² %.4g)", est, fig[est].bias, worst, variance, norm*norm)
					if est == PSA && c.unbiased && worst > 1e-6 {
						t.Errorf("PSA with one hidden layer: expectation off the exact gradient by %.3g (relative, worst entry)", worst)
					}
				}
				st, psa := fig[StraightThrough], fig[PSA]
				if st.bias < 1e-3 {
					t.Errorf("straight-through's bias %.3g: the net is too linear to tell the estimators apart", st.bias)
				}
				if !c.unbiased && (psa.bias > c.maxBias || psa.bias > st.bias/2) {
					t.Errorf("PSA's relative bias %.3g, want at most %g and half straight-through's %.3g", psa.bias, c.maxBias, st.bias)
				}
				if psa.variance >= st.variance {
					t.Errorf("PSA's variance %.4g, straight-through's %.4g: want PSA's lower", psa.variance, st.variance)
				}
			})
		}
	}
}
