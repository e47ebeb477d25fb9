package checkpoint

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"dcim/graph"
	"dcim/models"

	"gorgonia.org/tensor"
)

// refModel is a second, deliberately plain implementation of a DCIM that
// knows only the file contract in the package doc: it reads model.json and the
// arrays of model.npz and computes with loops, no Gorgonia, no shared code.
type refModel struct {
	arch   models.Arch
	spin   bool
	in     [3]int
	arrays map[string]Array
}

// state is a layer state: C×H×W values (dense states have H = W = 1).
type state struct {
	c, h, w int
	v       []float64
}

func loadRef(t *testing.T, dir string) *refModel {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Arch     string `json:"arch"`
		Encoding string `json:"encoding"`
		Input    [3]int `json:"input"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	arch, err := models.Parse(meta.Arch)
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := ReadNPZ(filepath.Join(dir, "model.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return &refModel{arch: arch, spin: meta.Encoding == "spin", in: meta.Input, arrays: arrays}
}

func (m *refModel) act(z float64) float64 {
	if m.spin {
		return math.Tanh(z)
	}
	return 1 / (1 + math.Exp(-z))
}

func (m *refModel) arr(name string) []float32 { return m.arrays[name].Data }

// forwardLayer computes W^k·x (no bias) for layer k (1-based).
func (m *refModel) forwardLayer(k int, x state) state {
	l, W := m.arch[k-1], m.arr("W"+strconv.Itoa(k))
	if l.Kind == models.Dense {
		out := state{c: l.Units, h: 1, w: 1, v: make([]float64, l.Units)}
		n := len(x.v)
		for o := range out.v {
			for i, xv := range x.v {
				out.v[o] += float64(W[o*n+i]) * xv
			}
		}
		return out
	}
	ho, wo := (x.h-l.K)/l.S+1, (x.w-l.K)/l.S+1
	out := state{c: l.C, h: ho, w: wo, v: make([]float64, l.C*ho*wo)}
	for o := 0; o < l.C; o++ {
		for i := 0; i < ho; i++ {
			for j := 0; j < wo; j++ {
				var s float64
				for c := 0; c < x.c; c++ {
					for a := 0; a < l.K; a++ {
						for b := 0; b < l.K; b++ {
							s += float64(W[((o*x.c+c)*l.K+a)*l.K+b]) * x.v[(c*x.h+i*l.S+a)*x.w+j*l.S+b]
						}
					}
				}
				out.v[(o*ho+i)*wo+j] = s
			}
		}
	}
	return out
}

// reverseLayer computes (W^k)ᵀ·y, shaped like layer k−1's state `like`.
func (m *refModel) reverseLayer(k int, y state, like state) state {
	l, W := m.arch[k-1], m.arr("W"+strconv.Itoa(k))
	out := state{c: like.c, h: like.h, w: like.w, v: make([]float64, len(like.v))}
	if l.Kind == models.Dense {
		n := len(out.v)
		for o, yv := range y.v {
			for i := range out.v {
				out.v[i] += float64(W[o*n+i]) * yv
			}
		}
		return out
	}
	for o := 0; o < y.c; o++ {
		for i := 0; i < y.h; i++ {
			for j := 0; j < y.w; j++ {
				yv := y.v[(o*y.h+i)*y.w+j]
				for c := 0; c < out.c; c++ {
					for a := 0; a < l.K; a++ {
						for b := 0; b < l.K; b++ {
							out.v[(c*out.h+i*l.S+a)*out.w+j*l.S+b] += float64(W[((o*out.c+c)*l.K+a)*l.K+b]) * yv
						}
					}
				}
			}
		}
	}
	return out
}

// addBias adds a per-unit (dense) or per-channel (conv) bias in place.
func addBias(s state, b []float32) {
	per := len(s.v) / len(b)
	for i := range s.v {
		s.v[i] += float64(b[i/per])
	}
}

// classify returns p(x^d | x^0) and the forward states x̄^0 … x̄^{d−1}.
func (m *refModel) classify(img []float32) ([]float64, []state) {
	x := state{c: m.in[0], h: m.in[1], w: m.in[2], v: make([]float64, len(img))}
	for i, v := range img {
		x.v[i] = float64(v)
		if m.spin {
			x.v[i] = 2*float64(v) - 1
		}
	}
	states := []state{x}
	d := len(m.arch)
	for k := 1; k < d; k++ {
		z := m.forwardLayer(k, x)
		addBias(z, m.arr("b"+strconv.Itoa(k)))
		for i, v := range z.v {
			z.v[i] = m.act(v)
		}
		x = z
		states = append(states, x)
	}
	z := m.forwardLayer(d, x)
	addBias(z, m.arr("b"+strconv.Itoa(d)))
	mx := math.Inf(-1)
	for _, v := range z.v {
		mx = math.Max(mx, v)
	}
	var s float64
	p := make([]float64, len(z.v))
	for i, v := range z.v {
		p[i] = math.Exp(v - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p, states
}

// generate returns q(x^0 = 1 | one-hot class) by mean-field propagation.
func (m *refModel) generate(class int, states []state) []float64 {
	d := len(m.arch)
	y := state{c: m.arch[d-1].Units, h: 1, w: 1, v: make([]float64, m.arch[d-1].Units)}
	y.v[class] = 1
	for k := d; k >= 2; k-- {
		r := m.reverseLayer(k, y, states[k-1])
		addBias(r, m.arr("b"+strconv.Itoa(k-1)))
		for i, v := range r.v {
			r.v[i] = m.act(v)
		}
		y = r
	}
	u := m.reverseLayer(1, y, states[0])
	a0 := m.arr("a0")
	scale := 1.0
	if m.spin {
		scale = 2 // log q(x) = x·a − log 2cosh a: a Bernoulli with logit 2a
	}
	out := make([]float64, len(u.v))
	for i, v := range u.v {
		out[i] = 1 / (1 + math.Exp(-scale*(v+float64(a0[i]))))
	}
	return out
}

// A model saved by this code, read back by the plain reference through the
// file contract alone, gives the same class probabilities and reverse
// image probabilities as the Gorgonia graph.
func TestReferenceImplementationAgrees(t *testing.T) {
	for _, c := range []struct {
		arch string
		enc  graph.Encoding
	}{
		{"(3,1,4),(2,2,4),(3,1,6),(12),(10)", graph.Spin},
		{"(3,1,4),(2,2,4),(3,1,6),(12),(10)", graph.Binary},
		{"(20),(16),(10)", graph.Binary},
	} {
		arch, err := models.Parse(c.arch)
		if err != nil {
			t.Fatal(err)
		}
		in := models.Shape{C: 1, H: 12, W: 12}
		p, err := graph.NewParams(arch, in, 10, c.enc, tensor.Float32, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, ts := range p.Tensors() {
			d := ts.Data().([]float32)
			for i := range d {
				d[i] += float32(rng.Float64()-0.5) * 0.5
			}
		}
		dir := t.TempDir()
		if err := Save(dir, p, Meta{}); err != nil {
			t.Fatal(err)
		}
		const n = 4
		imgs := make([]float32, n*in.Size())
		for i := range imgs {
			imgs[i] = float32(rng.Float64())
		}
		labels := []uint8{0, 3, 7, 9}
		net, err := graph.New(p, graph.Config{Objective: graph.Generative, Batch: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := net.SetBatch(imgs, labels); err != nil {
			t.Fatal(err)
		}
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		probs, recon := graph.Float32s(net.Probs), graph.Float32s(net.Recon21)
		ref := loadRef(t, dir)
		for j := 0; j < n; j++ {
			pr, states := ref.classify(imgs[j*in.Size() : (j+1)*in.Size()])
			for k, v := range pr {
				if d := math.Abs(float64(probs[j*10+k]) - v); d > 2e-5 {
					t.Errorf("%s %v: p(%d|x_%d) = %g, reference %g", c.arch, c.enc, k, j, probs[j*10+k], v)
				}
			}
			q := ref.generate(int(labels[j]), states)
			for i, v := range q {
				if d := math.Abs(float64(recon[j*in.Size()+i]) - v); d > 2e-5 {
					t.Fatalf("%s %v: q(x_%d=1|%d) = %g, reference %g", c.arch, c.enc, i, labels[j], recon[j*in.Size()+i], v)
				}
			}
		}
	}
}
