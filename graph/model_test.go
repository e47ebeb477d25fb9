package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"dcim/models"

	"gorgonia.org/tensor"
)

func mustParams(t *testing.T, arch string, in models.Shape, classes int, enc Encoding, dt tensor.Dtype) *Params {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewParams(a, in, classes, enc, dt, 7)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// One node per W and b, plus a⁰; changing a weight moves both chains.
func TestSharedParameters(t *testing.T) {
	for _, arch := range []string{"(6),(5),(3)", "(3,1,2),(2,2,2),(3)"} {
		p := mustParams(t, arch, models.Shape{C: 1, H: 6, W: 6}, 3, Spin, tensor.Float64)
		randomize(p, 1)
		net, err := New(p, Config{Objective: Generative, Batch: 2, AllTerms: true, Grad: true})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"W1", "b1", "W2", "b2", "W3", "b3", "a0"}
		var got []string
		for _, n := range net.Learnables() {
			got = append(got, n.Name())
			if len(net.Graph.ByName(n.Name())) != 1 {
				t.Errorf("%s: %d nodes named %s, want 1", arch, len(net.Graph.ByName(n.Name())), n.Name())
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: learnables %v, want %v", arch, got, want)
		}
		img, lab := tinyBatch(2, p.Input, 3, 9)
		if err := net.SetBatch(img, lab); err != nil {
			t.Fatal(err)
		}
		run := func() (fwd, rev []float32) {
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			return Float32s(net.Probs), Float32s(net.Recon21)
		}
		f0, r0 := run()
		for k := range p.W {
			w := p.W[k].Data().([]float64)
			w[0] += 0.5
			f1, r1 := run()
			w[0] -= 0.5
			if slices.Equal(f0, f1) {
				t.Errorf("%s: changing W%d[0] left the forward output unchanged", arch, k+1)
			}
			if slices.Equal(r0, r1) {
				t.Errorf("%s: changing W%d[0] left the reverse output unchanged", arch, k+1)
			}
		}
	}
}

// Remark 2: with one layer of binary units the forward conditional p(y|x)
// and the reverse conditional q(x|y) are the two conditionals of the RBM
// with energy −(yᵀWx + bᵀy + aᵀx), checked by enumerating all states.
func TestRemark2RBM(t *testing.T) {
	const classes, pixels = 3, 4
	in := models.Shape{C: 1, H: 2, W: 2}
	p := mustParams(t, "(3)", in, classes, Binary, tensor.Float64)
	randomize(p, 11)
	W, b, a := p.W[0].Data().([]float64), p.B[0].Data().([]float64), p.A0.Data().([]float64)
	energy := func(x []float32, y int) float64 {
		e := b[y]
		for i, v := range x {
			e += W[y*pixels+i]*float64(v) + a[i]*float64(v)
		}
		return -e
	}
	// Every image x ∈ {0,1}⁴, once for each class label.
	var imgs []float32
	var labels []uint8
	for y := 0; y < classes; y++ {
		for s := 0; s < 1<<pixels; s++ {
			for i := 0; i < pixels; i++ {
				imgs = append(imgs, float32(s>>i&1))
			}
			labels = append(labels, uint8(y))
		}
	}
	n := len(labels)
	net, err := New(p, Config{Objective: Generative, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.SetBatch(imgs, labels); err != nil {
		t.Fatal(err)
	}
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	probs, recon := net.Probs.Value().Data().([]float64), net.Recon21.Value().Data().([]float64)
	for j := 0; j < n; j++ {
		x, y := imgs[j*pixels:(j+1)*pixels], int(labels[j])
		// p(y|x) = e^{−E(x,y)} / Σ_y' e^{−E(x,y')}
		var zx float64
		for yy := 0; yy < classes; yy++ {
			zx += math.Exp(-energy(x, yy))
		}
		for yy := 0; yy < classes; yy++ {
			want := math.Exp(-energy(x, yy)) / zx
			if got := probs[j*classes+yy]; math.Abs(got-want) > 1e-12 {
				t.Errorf("p(y=%d|x=%v) = %g, RBM gives %g", yy, x, got, want)
			}
		}
		// q(x|y) = e^{−E(x,y)} / Σ_x' e^{−E(x',y)}
		var zy float64
		for s := 0; s < 1<<pixels; s++ {
			xx := imgs[s*pixels : (s+1)*pixels]
			zy += math.Exp(-energy(xx, y))
		}
		want := math.Exp(-energy(x, y)) / zy
		got := 1.0
		for i, v := range x {
			q := recon[j*pixels+i]
			if v == 1 {
				got *= q
			} else {
				got *= 1 - q
			}
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("q(x=%v|y=%d) = %g, RBM gives %g", x, y, got, want)
		}
	}
	// The reverse loss is −log q(x|y) per pixel, averaged.
	var nll float64
	for j := 0; j < n; j++ {
		x := imgs[j*pixels : (j+1)*pixels]
		for i, v := range x {
			q := recon[j*pixels+i]
			if v == 1 {
				nll -= math.Log(q)
			} else {
				nll -= math.Log(1 - q)
			}
		}
	}
	if got, want := Scalar(net.BCE21), nll/float64(n*pixels); math.Abs(got-want) > 1e-12 {
		t.Errorf("BCE21 = %g, −log q per pixel = %g", got, want)
	}
}

func TestGeneratorModes(t *testing.T) {
	p := mustParams(t, "(3,1,4),(8),(6),(3)", models.Shape{C: 1, H: 6, W: 6}, 3, Spin, tensor.Float32)
	randomize(p, 5)
	labels := []uint8{0, 1, 2, 0}
	gen := func(draw []int, seed uint64) []float32 {
		g, err := NewGenerator(p, p.Depth(), draw, len(labels))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if err := g.SetClasses(labels); err != nil {
			t.Fatal(err)
		}
		g.DrawNoise(rand.New(rand.NewPCG(seed, 0)))
		if err := g.Run(); err != nil {
			t.Fatal(err)
		}
		return g.Images()
	}
	mean := gen(nil, 1)
	if !slices.Equal(mean, gen(nil, 2)) {
		t.Error("mean mode depends on the seed")
	}
	for _, draw := range [][]int{{3}, {3, 2, 1}} {
		a, b, c := gen(draw, 1), gen(draw, 1), gen(draw, 2)
		if !slices.Equal(a, b) {
			t.Errorf("draw %v: same seed, different images", draw)
		}
		if slices.Equal(a, c) {
			t.Errorf("draw %v: different seeds, same images", draw)
		}
		for _, v := range a {
			if !(v > 0 && v < 1) {
				t.Fatalf("draw %v: image probability %g outside (0,1)", draw, v)
			}
		}
	}
	// The mean-mode image equals the training graph's reverse from the one-hot label.
	net, err := New(p, Config{Objective: Generative, Batch: len(labels)})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := tinyBatch(len(labels), p.Input, 3, 1)
	if err := net.SetBatch(img, labels); err != nil {
		t.Fatal(err)
	}
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mean, Float32s(net.Recon21)) {
		t.Error("mean-mode generator and the eq. (21) reverse chain disagree")
	}
	for _, bad := range []struct {
		from int
		draw []int
	}{{0, nil}, {5, nil}, {2, []int{2}}, {4, []int{0}}} {
		if _, err := NewGenerator(p, bad.from, bad.draw, 1); err == nil {
			t.Errorf("NewGenerator(from %d, draw %v) accepted", bad.from, bad.draw)
		}
	}
}

func TestNewErrors(t *testing.T) {
	p := mustParams(t, "(3)", models.Shape{C: 1, H: 2, W: 2}, 3, Binary, tensor.Float32)
	if _, err := New(p, Config{Objective: GenerativeSampled, Batch: 1}); err == nil {
		t.Error("eq. (22) without a hidden layer accepted")
	}
	if _, err := New(p, Config{Batch: 0}); err == nil {
		t.Error("batch 0 accepted")
	}
	if _, err := ParseObjective("generativ"); err == nil {
		t.Error("bad objective accepted")
	}
	if _, err := ParseEncoding("ising"); err == nil {
		t.Error("bad encoding accepted")
	}
}

// TestCentreBinary: {0,1} parameters centred by CentreBinary compute the
// same class probabilities as the ±1 network with the original weights.
func TestCentreBinary(t *testing.T) {
	arch, in := models.MustParse("(3,1,3),(2,2,4),(6),(3)"), models.Shape{C: 1, H: 10, W: 10}
	bin, err := NewParams(arch, in, 3, Binary, tensor.Float64, 5)
	if err != nil {
		t.Fatal(err)
	}
	spin, err := NewParams(arch, in, 3, Spin, tensor.Float64, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := bin.CentreBinary(); err != nil {
		t.Fatal(err)
	}
	if err := spin.CentreBinary(); err == nil {
		t.Error("centring spin parameters: no error")
	}
	img, lab := tinyBatch(4, in, 3, 6)
	probs := func(p *Params) []float64 {
		net, err := New(p, Config{Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		if err := net.SetBatch(img, lab); err != nil {
			t.Fatal(err)
		}
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(net.Probs.Value().Data().([]float64))
	}
	got, want := probs(bin), probs(spin)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("probability %d: centred binary %g, spin %g", i, got[i], want[i])
		}
	}
}
