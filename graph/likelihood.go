package graph

import (
	"fmt"
	"hash"
	"math"
	"math/rand/v2"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Joint is a graph that draws the hidden layers of a DCIM from its forward
// chain and scores the draw under both models, for importance sampling of
// the reverse model's likelihood of an image:
//
//	q(x⁰ | c) = Σ_h q(x⁰, h | c) = E_{h ~ p(h | x̃)} [q(x⁰, h | c) / p(h | x̃)]
//
// with h = (x¹ … x^{d−1}), the reverse model q(x⁰, h | c) = q(x^{d−1} | c)
// ∏_{k<d−1} q(x^k | x^{k+1}) (eq. 18, its conditionals σ((W^{k+1})ᵀ
// x^{k+1} + b^k), the image's with a⁰) and the proposal p(h | x̃) = ∏_k
// p(x^k | x^{k−1}) the forward chain's ancestral sample (eq. 13) run from
// an image x̃ — the image itself, or, with pixels missing, a filled-in
// version of it (any proposal gives an unbiased estimate of q). Each row
// of the batch is one draw: LogW = log q(x⁰, h | c) − log p(h | x̃), whose
// log-mean-exp over K rows of one image estimates log q(x⁰ | c) (from
// below, in expectation: Jensen's inequality, the gap closing as K grows).
//
// The image layer scores the targets X0 ∈ [0,1] as a Bernoulli per pixel
// (t·log q + (1−t)·log(1−q)), over the pixels where Mask is 1 (all
// pixels without a mask): with a mask, log q(x_obs, h | c), the missing
// pixels marginalised out exactly (the image layer factorises given x¹).
type Joint struct {
	chain
	XF    *G.Node         // input: the image the forward chain reads, N×C×H×W in [0,1]
	X0    *G.Node         // input: the image layer's targets, N×C×H×W in [0,1]
	Mask  *G.Node         // input: 1 for an observed pixel, 0 for a missing one (nil: all observed)
	Y     *G.Node         // input: one-hot classes c, N×classes
	Noise map[int]*G.Node // input: uniform noise of each hidden layer's draw
	Draws map[int]*G.Node // the drawn hidden layers x^k
	// LogPs are log p(x^k | x^{k−1}) of each row, k = 1 … d−1; LogQs are
	// log q(x^{d−1} | c) (LogQTop), then log q(x^{k−1} | x^k) for k = d−1
	// … 1 (the image layer last). LogP, LogQ and LogW sum them.
	LogPs, LogQs []*G.Node
	// LogQTop is log q(x^{d−1} | c), N, the one factor of LogQ that
	// depends on the class: with LogQ it gives the weight of any class.
	LogQTop *G.Node
	// TopLogits are the reverse logits of layer d−1 from each class,
	// classes×(units of layer d−1): log q(x^{d−1} | c) of a draw for every
	// class c follows from them (see LogQTopAll).
	TopLogits *G.Node
	// ClassProbs is the forward model's p(x^d | x^{d−1}) of each row's
	// draw, N×classes: averaged over the draws of an image, the
	// Monte-Carlo class posterior p(c | x̃).
	ClassProbs *G.Node
	// Image is q(x⁰ = 1 | x¹) of each row's draw, N×C×H×W.
	Image *G.Node
}

// NewJoint builds the joint graph of p for batches of n rows (one draw
// each), with a mask input when masked is set.
func NewJoint(p *Params, n int, masked bool) (*Joint, error) {
	d := p.Depth()
	if n < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", n)
	}
	if d < 2 {
		return nil, fmt.Errorf("arch %v has no hidden layer to draw", p.Arch)
	}
	j := &Joint{Noise: map[int]*G.Node{}, Draws: map[int]*G.Node{}}
	if err := j.init(p, n); err != nil {
		return nil, err
	}
	in := p.Input
	img := tensor.Shape{n, in.C, in.H, in.W}
	j.XF, j.X0 = j.input("xf", img), j.input("x0", img)
	if masked {
		j.Mask = j.input("mask", img)
	}
	j.Y = j.input("y", tensor.Shape{n, p.Classes})
	eye := j.input("classes", tensor.Shape{p.Classes, p.Classes})
	ed := eye.Value().(*tensor.Dense)
	k := 0
	fill(ed, func() float64 {
		v := 0.0
		if k%p.Classes == k/p.Classes {
			v = 1
		}
		k++
		return v
	})
	enc, act := p.Encoding, activationOf(p.Encoding)
	spin := enc == Spin
	h := j.XF
	var err error
	var z *G.Node
	if spin {
		if h, err = G.ApplyOp(&affineOp{a: 2, c: -1, dims: 4}, j.XF); err != nil {
			return nil, err
		}
	}
	// The forward chain's ancestral sample and log p(h | x̃).
	for _, l := range j.Layers[:d-1] {
		z, err := l.Forward(h)
		if err != nil {
			return nil, fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		a, err := biasAct(z, l.B, actIdentity)
		if err != nil {
			return nil, err
		}
		m, err := biasAct(z, l.B, act)
		if err != nil {
			return nil, err
		}
		x, noise, err := draw(m, enc, fmt.Sprintf("noise%d", l.Index))
		if err != nil {
			return nil, err
		}
		j.Noise[l.Index], j.Draws[l.Index] = noise, x
		lp, err := G.ApplyOp(&rowLogBernoulliOp{scale: pixelScaleOf(enc), spin: spin, dims: a.Dims()}, a, x)
		if err != nil {
			return nil, err
		}
		j.LogPs = append(j.LogPs, lp)
		h = x
	}
	top := j.Layers[d-1]
	if z, err = top.Forward(h); err != nil {
		return nil, fmt.Errorf("layer %d forward: %w", d, err)
	}
	logits, err := biasAct(z, top.B, actIdentity)
	if err != nil {
		return nil, err
	}
	if j.ClassProbs, err = G.ApplyOp(&softmaxOp{}, logits); err != nil {
		return nil, err
	}
	// The reverse model at the drawn states: q(x^{d−1} | c), then each
	// q(x^{k−1} | x^k) down to the image.
	if z, err = top.Reverse(j.Y, stateShape(p, d-1, n)); err != nil {
		return nil, fmt.Errorf("layer %d reverse: %w", d, err)
	}
	u, err := biasAct(z, j.Layers[d-2].B, actIdentity)
	if err != nil {
		return nil, err
	}
	if j.LogQTop, err = G.ApplyOp(&rowLogBernoulliOp{scale: pixelScaleOf(enc), spin: spin, dims: u.Dims()}, u, j.Draws[d-1]); err != nil {
		return nil, err
	}
	if z, err = top.Reverse(eye, stateShape(p, d-1, p.Classes)); err != nil {
		return nil, err
	}
	if j.TopLogits, err = biasAct(z, j.Layers[d-2].B, actIdentity); err != nil {
		return nil, err
	}
	j.LogQs = []*G.Node{j.LogQTop}
	for k := d - 1; k >= 1; k-- {
		l := j.Layers[k-1]
		z, err := l.Reverse(j.Draws[k], stateShape(p, k-1, n))
		if err != nil {
			return nil, fmt.Errorf("layer %d reverse: %w", k, err)
		}
		var lq *G.Node
		if k == 1 {
			u, err := biasAct(z, j.A0, actIdentity)
			if err != nil {
				return nil, err
			}
			if j.Image, err = G.ApplyOp(&affineOp{a: pixelScaleOf(enc), sigmoid: true, dims: 4}, u); err != nil {
				return nil, err
			}
			op := &rowLogBernoulliOp{scale: pixelScaleOf(enc), dims: 4, masked: masked}
			if masked {
				lq, err = G.ApplyOp(op, u, j.X0, j.Mask)
			} else {
				lq, err = G.ApplyOp(op, u, j.X0)
			}
			if err != nil {
				return nil, err
			}
		} else {
			u, err := biasAct(z, j.Layers[k-2].B, actIdentity)
			if err != nil {
				return nil, err
			}
			if lq, err = G.ApplyOp(&rowLogBernoulliOp{scale: pixelScaleOf(enc), spin: spin, dims: u.Dims()}, u, j.Draws[k-1]); err != nil {
				return nil, err
			}
		}
		j.LogQs = append(j.LogQs, lq)
	}
	j.vm = G.NewTapeMachine(j.Graph)
	return j, nil
}

// sumRows adds up, row by row, the values of nodes of one row each.
func sumRows(ns []*G.Node) []float64 {
	var s []float64
	for _, n := range ns {
		v := Float64s(n)
		if s == nil {
			s = v
			continue
		}
		for i, x := range v {
			s[i] += x
		}
	}
	return s
}

// LogP returns log p(h | x̃) of each row after Run.
func (j *Joint) LogP() []float64 { return sumRows(j.LogPs) }

// LogQ returns log q(x⁰, h | c) of each row after Run.
func (j *Joint) LogQ() []float64 { return sumRows(j.LogQs) }

// LogW returns each row's log importance weight log q(x⁰, h | c) − log
// p(h | x̃) after Run.
func (j *Joint) LogW() []float64 {
	w, p := j.LogQ(), j.LogP()
	for i := range w {
		w[i] -= p[i]
	}
	return w
}

// SetRows copies the rows' inputs: the forward chain's images xf, the
// image layer's targets x0 (N·C·H·W each, NCHW, in [0,1]), the mask (nil
// when the graph has none: 1 observed, 0 missing) and the classes.
func (j *Joint) SetRows(xf, x0, mask []float32, classes []uint8) error {
	n, size := j.batch, j.Params.Input.Size()
	if len(classes) != n || len(xf) != n*size || len(x0) != n*size || (j.Mask != nil) != (mask != nil) || (mask != nil && len(mask) != n*size) {
		return fmt.Errorf("joint graph of %d rows: %d classes, %d, %d and %d pixels", n, len(classes), len(xf), len(x0), len(mask))
	}
	set := func(node *G.Node, v []float32) {
		i := 0
		fill(node.Value().(*tensor.Dense), func() float64 { x := v[i]; i++; return float64(x) })
	}
	set(j.XF, xf)
	set(j.X0, x0)
	if mask != nil {
		set(j.Mask, mask)
	}
	onehot := make([]float32, n*j.Params.Classes)
	for i, c := range classes {
		if int(c) >= j.Params.Classes {
			return fmt.Errorf("class %d out of range 0…%d", c, j.Params.Classes-1)
		}
		onehot[i*j.Params.Classes+int(c)] = 1
	}
	set(j.Y, onehot)
	return nil
}

// DrawNoise fills the noise of every draw from rng, layer 1 first.
func (j *Joint) DrawNoise(rng *rand.Rand) {
	for k := 1; k < j.Params.Depth(); k++ {
		uniform(j.Noise[k].Value().(*tensor.Dense), rng)
	}
}

// LogQTopAll returns, after Run, log q(x^{d−1} | c) of each row's draw for
// every class c, rows×classes: with LogQ − LogQTop it gives the row's
// log q(x⁰, h | c) for any class.
func (j *Joint) LogQTopAll() []float64 {
	d, K := j.Params.Depth(), j.Params.Classes
	x := Float64s(j.Draws[d-1])
	u := Float64s(j.TopLogits)
	units := len(u) / K
	rows := len(x) / units
	s := pixelScaleOf(j.Params.Encoding)
	spin := j.Params.Encoding == Spin
	out := make([]float64, rows*K)
	for c := range K {
		uc := u[c*units : (c+1)*units]
		var norm float64 // Σ_i softplus(s·u_i)
		for _, v := range uc {
			norm += softplus(s * v)
		}
		for r := range rows {
			var dot float64
			for i, v := range x[r*units : (r+1)*units] {
				t := v
				if spin {
					t = (v + 1) / 2
				}
				dot += t * s * uc[i]
			}
			out[r*K+c] = dot - norm
		}
	}
	return out
}

// Float64s reads a node's value (float32 or float64) as float64.
func Float64s(n *G.Node) []float64 {
	switch d := n.Value().Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

func softplus(t float64) float64 { return max(t, 0) + math.Log1p(math.Exp(-math.Abs(t))) }

// rowLogBernoulliOp sums, per row, the log-probability of targets t under
// Bernoulli units of logits s·u: Σ_i t_i·s·u_i − softplus(s·u_i), over
// the units where the optional third input (a mask) is not 0. With spin
// set the targets are ±1 states, read as t = (x+1)/2 (for ±1 units, s = 2:
// x·u − log 2cosh u). The sums are in float64; the output has one value per
// row. It is not differentiated.
type rowLogBernoulliOp struct {
	opBase
	scale  float64
	spin   bool
	masked bool
	dims   int
	out    output
}

func (op *rowLogBernoulliOp) Arity() int {
	if op.masked {
		return 3
	}
	return 2
}
func (op *rowLogBernoulliOp) Type() hm.Type {
	t := tensorType(op.dims)
	if op.masked {
		return fnType(t, t, t, tensorType(1))
	}
	return fnType(t, t, tensorType(1))
}
func (op *rowLogBernoulliOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0]}, nil
}
func (op *rowLogBernoulliOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	for _, v := range in[1:] {
		if !v.Shape().Eq(in[0].Shape()) {
			return nil, fmt.Errorf("%v: shapes %v and %v differ", op, in[0].Shape(), v.Shape())
		}
	}
	return doFloat(op, op.out.get(in[0].Dtype(), tensor.Shape{rows(in[0].Shape())}), in, rowLogBernoulliKernel[float32], rowLogBernoulliKernel[float64])
}

func rowLogBernoulliKernel[T Float](op *rowLogBernoulliOp, out []T, in []G.Value) {
	u, x := floats[T](in[0]), floats[T](in[1])
	var mask []T
	if op.masked {
		mask = floats[T](in[2])
	}
	n := len(out)
	per := len(u) / n
	parallel(n, 1, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			var s float64
			for i := r * per; i < (r+1)*per; i++ {
				if mask != nil && mask[i] == 0 {
					continue
				}
				t := float64(x[i])
				if op.spin {
					t = (t + 1) / 2
				}
				l := op.scale * float64(u[i])
				s += t*l - softplus(l)
			}
			out[r] = T(s)
		}
	})
}

func (op *rowLogBernoulliOp) String() string {
	return fmt.Sprintf("RowLogBernoulli{%g,%t,%t,%d}", op.scale, op.spin, op.masked, op.dims)
}
func (op *rowLogBernoulliOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *rowLogBernoulliOp) Hashcode() uint32      { return hashOf(op) }
func (op *rowLogBernoulliOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *rowLogBernoulliOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}
