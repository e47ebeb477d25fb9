package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"dcim/models"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyParams returns float64 parameters of arch with random values.
func tinyParams(t *testing.T, arch string, in models.Shape, classes int, enc Encoding, seed uint64) *Params {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewParams(a, in, classes, enc, tensor.Float64, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, pt := range p.Tensors() {
		fill(pt, func() float64 { return 3 * (rng.Float64() - 0.5) })
	}
	return p
}

func values(n *G.Node) []float64 { return n.Value().Data().([]float64) }

// unitValues are the two states of a unit: {0,1} or {−1,+1}.
func unitValues(enc Encoding) [2]float64 {
	if enc == Spin {
		return [2]float64{-1, 1}
	}
	return [2]float64{0, 1}
}

// onProb is p(x = 1) of a unit with pre-activation a, eq. (6) or (8).
func onProb(enc Encoding, a float64) float64 { return sigmoid(pixelScaleOf(enc) * a) }

// enumerate calls f with every joint state of n independent units of
// probabilities p(x_i = on) = on[i], and the state's probability.
func enumerate(enc Encoding, on []float64, f func(x []float64, prob float64)) {
	vals := unitValues(enc)
	x := make([]float64, len(on))
	for s := 0; s < 1<<len(on); s++ {
		prob := 1.0
		for i := range on {
			bit := s >> i & 1
			x[i] = vals[bit]
			if bit == 1 {
				prob *= on[i]
			} else {
				prob *= 1 - on[i]
			}
		}
		f(x, prob)
	}
}

// denseAct returns W·x + b for a dense layer's out×in weights (or Wᵀ·x when
// transposed, the reverse chain).
func denseAct(w, b, x []float64, out int, transposed bool) []float64 {
	in := len(w) / out
	n := out
	if transposed {
		n = in
	}
	a := make([]float64, n)
	for i := range a {
		if b != nil {
			a[i] = b[i]
		}
		for j, xj := range x {
			if transposed {
				a[i] += w[j*in+i] * xj
			} else {
				a[i] += w[i*in+j] * xj
			}
		}
	}
	return a
}

func softmax(a []float64) []float64 {
	p := make([]float64, len(a))
	softmaxRows(a, p, len(a))
	return p
}

// TestMonteCarloMatchesEnumeration checks the Monte-Carlo chains of a tiny
// dense DCIM against exact sums over all its hidden states: the class
// posterior p(x^3 | x^0), layer 2's marginal given the image, and, down
// from a class, layer 1's and the image's marginals; each estimate must lie
// within 4 standard errors of the exact value.
func TestMonteCarloMatchesEnumeration(t *testing.T) {
	const S = 4000
	for _, enc := range []Encoding{Binary, Spin} {
		t.Run(enc.String(), func(t *testing.T) {
			in := models.Shape{C: 1, H: 2, W: 2}
			p := tinyParams(t, "(3),(2),(2)", in, 2, enc, 11)
			w := func(k int) []float64 { return p.W[k-1].Data().([]float64) }
			b := func(k int) []float64 { return p.B[k-1].Data().([]float64) }
			img := []float32{0.9, 0.1, 0.6, 0.3}
			x0 := make([]float64, 4)
			for i, v := range img {
				x0[i] = float64(v)
				if enc == Spin {
					x0[i] = 2*x0[i] - 1
				}
			}
			// Exact forward marginals.
			probs := func(a []float64) []float64 {
				out := make([]float64, len(a))
				for i, v := range a {
					out[i] = onProb(enc, v)
				}
				return out
			}
			mean := func(a []float64, act activation) []float64 {
				out := append([]float64(nil), a...)
				activate(act, out)
				return out
			}
			act := activationOf(enc)
			wantClass, wantL2 := make([]float64, 2), make([]float64, 2)
			enumerate(enc, probs(denseAct(w(1), b(1), x0, 3, false)), func(x1 []float64, p1 float64) {
				a2 := denseAct(w(2), b(2), x1, 2, false)
				for i, m := range mean(a2, act) {
					wantL2[i] += p1 * m
				}
				enumerate(enc, probs(a2), func(x2 []float64, p2 float64) {
					for i, q := range softmax(denseAct(w(3), b(3), x2, 2, false)) {
						wantClass[i] += p1 * p2 * q
					}
				})
			})
			f, err := NewForward(p, S, MonteCarlo)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			batch := make([]float32, 0, S*len(img))
			for range S {
				batch = append(batch, img...)
			}
			if err := f.SetImages(batch); err != nil {
				t.Fatal(err)
			}
			f.DrawNoise(rand.New(rand.NewPCG(3, 4)))
			if err := f.Run(); err != nil {
				t.Fatal(err)
			}
			within(t, "p(x^3 | x^0)", values(f.Probs), 2, wantClass)
			within(t, "layer 2 marginal", values(f.Means[2]), 2, wantL2)

			// Exact reverse marginals from class 1.
			wantL1, wantImg := make([]float64, 3), make([]float64, 4)
			a2 := denseAct(w(3), b(2), []float64{0, 1}, 2, true)
			enumerate(enc, probs(a2), func(x2 []float64, p2 float64) {
				a1 := denseAct(w(2), b(1), x2, 2, true)
				for i, m := range mean(a1, act) {
					wantL1[i] += p2 * m
				}
				enumerate(enc, probs(a1), func(x1 []float64, p1 float64) {
					u := denseAct(w(1), p.A0.Data().([]float64), x1, 3, true)
					for i, v := range probs(u) {
						wantImg[i] += p2 * p1 * v
					}
				})
			})
			r, err := NewReverse(p, S, MonteCarlo)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			labels := make([]uint8, S)
			for i := range labels {
				labels[i] = 1
			}
			if err := r.SetClasses(labels); err != nil {
				t.Fatal(err)
			}
			r.DrawNoise(rand.New(rand.NewPCG(5, 6)))
			if err := r.Run(); err != nil {
				t.Fatal(err)
			}
			within(t, "reverse layer 1 marginal", values(r.Means[1]), 3, wantL1)
			within(t, "reverse image marginal", values(r.Means[0]), 4, wantImg)
		})
	}
}

// within checks that the column means of rows (S × width) lie within 4
// standard errors of want.
func within(t *testing.T, what string, rows []float64, width int, want []float64) {
	t.Helper()
	s := len(rows) / width
	for j, w := range want {
		var sum, sq float64
		for i := 0; i < s; i++ {
			v := rows[i*width+j]
			sum += v
			sq += v * v
		}
		m := sum / float64(s)
		se := math.Sqrt((sq/float64(s) - m*m) / float64(s-1))
		if se == 0 || math.Abs(m-w) > 4*se {
			t.Errorf("%s[%d]: Monte Carlo %.5f ± %.5f, exact %.5f", what, j, m, se, w)
		}
	}
}

// TestLayerOneExact checks that every method gives layer 1 (forward) and
// layer d−1 (reverse, from a class) the same state, bit for bit: given its
// parent, which no method approximates, a layer's mean is exact.
func TestLayerOneExact(t *testing.T) {
	for _, arch := range []string{"(5),(4),(3)", "(3,1,2),(3,2,3),(4),(3)"} {
		for _, enc := range []Encoding{Binary, Spin} {
			t.Run(fmt.Sprintf("%s/%v", arch, enc), func(t *testing.T) {
				in := models.Shape{C: 1, H: 7, W: 7}
				p := tinyParams(t, arch, in, 3, enc, 2)
				img, lab := tinyBatch(4, in, 3, 5)
				var fwd, rev [][]float64
				for _, inf := range []Inference{MeanField, Moments, MonteCarlo} {
					f, err := NewForward(p, 4, inf)
					if err != nil {
						t.Fatal(err)
					}
					r, err := NewReverse(p, 4, inf)
					if err != nil {
						t.Fatal(err)
					}
					if err := f.SetImages(img); err != nil {
						t.Fatal(err)
					}
					if err := r.SetClasses(lab); err != nil {
						t.Fatal(err)
					}
					f.DrawNoise(rand.New(rand.NewPCG(1, 1)))
					r.DrawNoise(rand.New(rand.NewPCG(1, 1)))
					if err := f.Run(); err != nil {
						t.Fatal(err)
					}
					if err := r.Run(); err != nil {
						t.Fatal(err)
					}
					fwd = append(fwd, append([]float64(nil), values(f.Means[1])...))
					rev = append(rev, append([]float64(nil), values(r.Means[p.Depth()-1])...))
					f.Close()
					r.Close()
				}
				for i := 1; i < len(fwd); i++ {
					for j := range fwd[0] {
						if fwd[i][j] != fwd[0][j] {
							t.Fatalf("forward layer 1, method %v: unit %d is %g, mean field %g", Inference(i), j, fwd[i][j], fwd[0][j])
						}
					}
					for j := range rev[0] {
						if rev[i][j] != rev[0][j] {
							t.Fatalf("reverse layer %d, method %v: unit %d is %g, mean field %g", p.Depth()-1, Inference(i), j, rev[i][j], rev[0][j])
						}
					}
				}
			})
		}
	}
}

// TestMeanFieldForwardIsNet checks that the mean-field Forward graph computes
// the training graph's states and class posterior.
func TestMeanFieldForwardIsNet(t *testing.T) {
	in := models.Shape{C: 1, H: 7, W: 7}
	for _, enc := range []Encoding{Binary, Spin} {
		p := tinyParams(t, "(3,1,2),(3,2,3),(4),(3)", in, 3, enc, 4)
		img, lab := tinyBatch(3, in, 3, 6)
		net, err := New(p, Config{Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewForward(p, 3, MeanField)
		if err != nil {
			t.Fatal(err)
		}
		if err := net.SetBatch(img, lab); err != nil {
			t.Fatal(err)
		}
		if err := f.SetImages(img); err != nil {
			t.Fatal(err)
		}
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		if err := f.Run(); err != nil {
			t.Fatal(err)
		}
		pairs := [][2]*G.Node{{net.Probs, f.Probs}}
		for k := range net.States {
			pairs = append(pairs, [2]*G.Node{net.States[k], f.Means[k]})
		}
		for i, pr := range pairs {
			a, b := values(pr[0]), values(pr[1])
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("%v: node %d value %d: Net %g, Forward %g", enc, i, j, a[j], b[j])
				}
			}
		}
		net.Close()
		f.Close()
	}
}

// TestUniform32 checks the float32 noise: in [0,1), mean ½ and variance
// 1/12 to within 5 standard errors over 10⁵ values, odd length filled.
func TestUniform32(t *testing.T) {
	const n = 100001
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n))
	uniform(x, rand.New(rand.NewPCG(1, 2)))
	var sum, sq float64
	for _, v := range x.Data().([]float32) {
		if v < 0 || v >= 1 {
			t.Fatalf("noise value %g outside [0,1)", v)
		}
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean, variance := sum/n, sq/n-sum*sum/n/n
	if math.Abs(mean-0.5) > 5*math.Sqrt(1.0/12/n) || math.Abs(variance-1.0/12) > 5*math.Sqrt(1.0/180/n) {
		t.Errorf("mean %g, variance %g; want 0.5 and %g", mean, variance, 1.0/12)
	}
	if last := x.Data().([]float32)[n-1]; last == 0 {
		t.Error("the last value of an odd-length tensor was not filled")
	}
}

// TestBernoulli checks the draw at and around its threshold, p(on) = m
// for {0,1} units and (1+m)/2 for ±1 units, in both float types; the seven
// cases thrice over, so that float32 draws 16 of them with the vector
// kernel and the rest one at a time.
func TestBernoulli(t *testing.T) {
	m := slices.Repeat([]float64{0.5, 0.5, 0.5, 0, 1, 0.25, 0}, 3)
	u := slices.Repeat([]float64{0.5, 0.49, 0.75, 0.6, 0.999, 0.2, 0}, 3)
	wantBinary := slices.Repeat([]float64{0, 1, 0, 0, 1, 1, 0}, 3)
	wantSpin := slices.Repeat([]float64{1, 1, -1, -1, 1, 1, 1}, 3) // thresholds 0.75, 0.75, 0.75, 0.5, 1, 0.625, 0.5
	for _, spin := range []bool{false, true} {
		want := wantBinary
		if spin {
			want = wantSpin
		}
		got := make([]float64, len(m))
		bernoulli(spin, m, u, got)
		got32 := make([]float32, len(m))
		bernoulli(spin, float32s(m), float32s(u), got32)
		for i := range m {
			if got[i] != want[i] || float64(got32[i]) != want[i] {
				t.Errorf("spin %t, m %g, u %g: drew %g (float32 %g), want %g", spin, m[i], u[i], got[i], got32[i], want[i])
			}
		}
		// Random means and noise: float32 (vector kernel) draws exactly
		// what float64 (one value at a time) draws.
		rng := rand.New(rand.NewPCG(5, 6))
		m32, u32 := make([]float32, 1001), make([]float32, 1001)
		for i := range m32 {
			m32[i], u32[i] = float32(rng.Float64()), float32(rng.Float64())
			if spin {
				m32[i] = 2*m32[i] - 1
			}
		}
		s32, s64 := make([]float32, len(m32)), make([]float64, len(m32))
		bernoulli(spin, m32, u32, s32)
		bernoulli(spin, float64s(m32), float64s(u32), s64)
		for i := range s32 {
			if float64(s32[i]) != s64[i] {
				t.Fatalf("spin %t, m %g, u %g: float32 drew %g, float64 %g", spin, m32[i], u32[i], s32[i], s64[i])
			}
		}
	}
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
