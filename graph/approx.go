package graph

import (
	"fmt"
	"math/rand/v2"

	"dcim/models"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Inference is how a graph turns a layer's parent state into the layer's
// state: approximation (2) of the paper (mean field, the states are the
// means passed on), mean-and-variance propagation (moments), or exact
// ancestral sampling (Monte Carlo).
type Inference int

const (
	// MeanField passes each layer's mean on, x̄^k = σ(W^k x̄^{k−1} + b^k)
	// (eq. 14): approximation (2).
	MeanField Inference = iota
	// Moments carries each layer's mean and variance; the pre-activation is
	// read as Gaussian and σ's expectation under it approximated by
	// σ(μ/√(1+π s²/8)), see momentAct.
	Moments
	// MonteCarlo draws x^k ~ p(x^k | x^{k−1}) at every hidden layer; the
	// layer's recorded state is its conditional mean given the drawn parent
	// (the Rao-Blackwellised estimate of its marginal).
	MonteCarlo
)

var inferenceNames = [...]string{"meanfield", "moments", "montecarlo"}

// String returns the command-line spelling of the inference method.
func (i Inference) String() string { return inferenceNames[i] }

// ParseInference reads "meanfield", "moments" or "montecarlo".
func ParseInference(s string) (Inference, error) {
	for i, n := range inferenceNames {
		if s == n {
			return Inference(i), nil
		}
	}
	return 0, fmt.Errorf("unknown inference %q (want meanfield, moments or montecarlo)", s)
}

// ParseNetInference reads an inference method a training graph ([New])
// takes: "meanfield" or "moments". Monte Carlo draws every layer and is
// for the Forward and Reverse graphs only.
func ParseNetInference(s string) (Inference, error) {
	inf, err := ParseInference(s)
	if err == nil && inf == MonteCarlo {
		err = fmt.Errorf("inference %q draws every layer; want meanfield or moments", s)
	} else if err != nil {
		err = fmt.Errorf("unknown inference %q (want meanfield or moments)", s)
	}
	return inf, err
}

// Pass is one run of a chain with one inference method, as graph nodes
// indexed by layer k; a layer the chain does not reach, or a figure the
// method does not have, is nil.
type Pass struct {
	Means  []*G.Node // layer k's state; MonteCarlo: its conditional mean given the drawn parent
	Vars   []*G.Node // Moments: the variance of layer k's units (nil where known exactly)
	Noise  []*G.Node // MonteCarlo: uniform noise of layer k's draw
	Logits *G.Node   // the end of the chain: class logits a^d, or image logits u (Moments: scaled, see momentAct)
}

func newPass(d int) *Pass {
	return &Pass{Means: make([]*G.Node, d+1), Vars: make([]*G.Node, d+1), Noise: make([]*G.Node, d+1)}
}

// step turns layer k's pre-activation, of mean z (bias b still to add) and
// variance zv (nil: known exactly), into the layer's state under inf; it
// records the layer's mean (and variance or noise) and returns the state
// the next layer reads and that state's variance.
func (ps *Pass) step(k int, z, zv, b *G.Node, enc Encoding, inf Inference) (h, v *G.Node, err error) {
	m, err := momentAct(z, zv, b, activationOf(enc), 1)
	if err != nil {
		return nil, nil, fmt.Errorf("layer %d: %w", k, err)
	}
	ps.Means[k] = m
	switch inf {
	case Moments:
		v, err = unitVar(m, enc)
		ps.Vars[k] = v
		return m, v, err
	case MonteCarlo:
		h, ps.Noise[k], err = draw(m, enc, fmt.Sprintf("noise%d", k))
		return h, nil, err
	}
	return m, nil, nil
}

// forwardPass runs the forward chain, eq. (14)–(15), from h, the state of
// the image layer x̄^0 (encoded, not drawn: layer 1 is exact under every
// method), with inf, up to the class logits.
func (c *chain) forwardPass(h *G.Node, inf Inference) (*Pass, error) {
	p, d := c.Params, c.Params.Depth()
	ps := newPass(d)
	ps.Means[0] = h
	var v *G.Node // variance of the parent layer's units; nil: known exactly
	for _, l := range c.Layers {
		z, err := l.Forward(h)
		if err != nil {
			return nil, fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		var zv *G.Node
		if v != nil {
			if zv, err = l.forwardVar(v); err != nil {
				return nil, fmt.Errorf("layer %d forward variance: %w", l.Index, err)
			}
		}
		if l.Index == d {
			if ps.Logits, err = momentAct(z, zv, l.B, actIdentity, 1); err != nil {
				return nil, fmt.Errorf("layer %d forward: %w", d, err)
			}
			break
		}
		if h, v, err = ps.step(l.Index, z, zv, l.B, p.Encoding, inf); err != nil {
			return nil, fmt.Errorf("forward %w", err)
		}
	}
	return ps, nil
}

// reversePass runs the reverse chain, eq. (18)–(20), from h, the state of
// layer from (one-hot classes when from = d, or a drawn hidden layer:
// either way known exactly), with inf, down to the image logits u
// (q(x^0 = 1) = σ(s·u)).
func (c *chain) reversePass(from int, h *G.Node, inf Inference) (*Pass, error) {
	p := c.Params
	ps := newPass(p.Depth())
	var v *G.Node
	for k := from; k >= 1; k-- {
		l := c.Layers[k-1]
		z, err := l.Reverse(h, c.stateShape(k-1))
		if err != nil {
			return nil, fmt.Errorf("layer %d reverse: %w", k, err)
		}
		var zv *G.Node
		if v != nil {
			if zv, err = l.reverseVar(v, c.stateShape(k-1)); err != nil {
				return nil, fmt.Errorf("layer %d reverse variance: %w", k, err)
			}
		}
		if k == 1 {
			if ps.Logits, err = momentAct(z, zv, c.A0, actIdentity, pixelScaleOf(p.Encoding)); err != nil {
				return nil, fmt.Errorf("layer 1 reverse: %w", err)
			}
			break
		}
		if h, v, err = ps.step(k-1, z, zv, c.Layers[k-2].B, p.Encoding, inf); err != nil {
			return nil, fmt.Errorf("reverse %w", err)
		}
	}
	return ps, nil
}

// Forward is a graph of the forward chain alone, eq. (14)–(15), run with
// one inference method for batches of N images: Means[0] is the encoded
// image, Means[k] (k = 1…d−1) layer k's state, Logits the class logits.
type Forward struct {
	chain
	Pass
	Inference Inference
	X         *G.Node // input: images, N×C×H×W grey levels in [0,1]
	Probs     *G.Node // p(x^d | x^0), eq. (15); MonteCarlo: given the drawn x^{d−1}; Moments: see classPosterior
}

// NewForward builds the forward chain of p for batches of n images. The
// image layer x^0 is not drawn: layer 1's state is exact under every method.
func NewForward(p *Params, n int, inf Inference) (*Forward, error) {
	if n < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", n)
	}
	f := &Forward{Inference: inf}
	if err := f.init(p, n); err != nil {
		return nil, err
	}
	g, dt, in := f.Graph, p.Dtype(), p.Input
	f.X = G.NewTensor(g, dt, 4, G.WithShape(n, in.C, in.H, in.W), G.WithName("x"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(n, in.C, in.H, in.W))))
	h := f.X
	var err error
	if p.Encoding == Spin {
		if h, err = G.ApplyOp(&affineOp{a: 2, c: -1, dims: 4}, f.X); err != nil {
			return nil, err
		}
	}
	ps, err := f.forwardPass(h, inf)
	if err != nil {
		return nil, err
	}
	f.Pass = *ps
	if f.Probs, err = f.classPosterior(); err != nil {
		return nil, err
	}
	f.vm = G.NewTapeMachine(g)
	return f, nil
}

// classPosterior is the softmax of the logits, or, under Moments with a
// dense class layer above a layer that carries a variance, the pairwise
// posterior of pairwiseSoftmaxOp.
func (f *Forward) classPosterior() (*G.Node, error) {
	d := f.Params.Depth()
	top, v := f.Layers[d-1], f.Vars[d-1]
	if f.Inference != Moments || v == nil || top.Spec.Kind == models.Conv {
		return G.ApplyOp(&softmaxOp{}, f.Logits)
	}
	z, err := top.Forward(f.Means[d-1])
	if err != nil {
		return nil, err
	}
	mu, err := biasAct(z, top.B, actIdentity)
	if err != nil {
		return nil, err
	}
	return pairwiseSoftmax(mu, v, top.W)
}

// SetImages copies N images (N·C·H·W grey levels in [0,1], NCHW) into X.
func (f *Forward) SetImages(images []float32) error {
	x := f.X.Value().(*tensor.Dense)
	if len(images) != x.Len() {
		return fmt.Errorf("%d pixels for a batch of shape %v", len(images), x.Shape())
	}
	if d, ok := x.Data().([]float32); ok {
		copy(d, images)
		return nil
	}
	i := 0
	fill(x, func() float64 { v := images[i]; i++; return float64(v) })
	return nil
}

// DrawNoise fills the noise of every drawn layer from rng, layer 1 first;
// it does nothing unless the method is MonteCarlo.
func (f *Forward) DrawNoise(rng *rand.Rand) { fillNoise(f.Noise, rng) }

// Reverse is a graph of the reverse chain alone, eq. (18)–(20), from
// one-hot classes down to the image, run with one inference method for
// batches of N classes: Means[k] (k = d−1…1) is layer k's state on the
// way down, Means[0] the image's q(x^0 = 1), Logits the image logits.
type Reverse struct {
	chain
	Pass
	Inference Inference
	State     *G.Node // input: one-hot classes, N×classes
}

// NewReverse builds the reverse chain of p from the class layer for
// batches of n one-hot classes. Layer d−1's state given the class is exact
// under every method.
func NewReverse(p *Params, n int, inf Inference) (*Reverse, error) {
	if n < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", n)
	}
	r := &Reverse{Inference: inf}
	if err := r.init(p, n); err != nil {
		return nil, err
	}
	g, dt := r.Graph, p.Dtype()
	r.State = G.NewMatrix(g, dt, G.WithShape(n, p.Classes), G.WithName("state"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(n, p.Classes))))
	ps, err := r.reversePass(p.Depth(), r.State, inf)
	if err != nil {
		return nil, err
	}
	r.Pass = *ps
	if r.Means[0], err = G.ApplyOp(&affineOp{a: pixelScaleOf(p.Encoding), sigmoid: true, dims: 4}, r.Logits); err != nil {
		return nil, err
	}
	r.vm = G.NewTapeMachine(g)
	return r, nil
}

// SetClasses sets the state to one-hot classes, one per row of the batch.
func (r *Reverse) SetClasses(labels []uint8) error {
	k := r.Params.Classes
	if len(labels) != r.batch {
		return fmt.Errorf("%d classes for a batch of %d", len(labels), r.batch)
	}
	for _, c := range labels {
		if int(c) >= k {
			return fmt.Errorf("class %d out of range 0…%d", c, k-1)
		}
	}
	t := r.State.Value().(*tensor.Dense)
	i := 0
	fill(t, func() float64 {
		v := 0.0
		if i%k == int(labels[i/k]) {
			v = 1
		}
		i++
		return v
	})
	return nil
}

// DrawNoise fills the noise of every drawn layer from rng, layer d−1
// first; it does nothing unless the method is MonteCarlo.
func (r *Reverse) DrawNoise(rng *rand.Rand) {
	for k := len(r.Noise) - 1; k >= 1; k-- {
		if r.Noise[k] != nil {
			uniform(r.Noise[k].Value().(*tensor.Dense), rng)
		}
	}
}

// draw returns x ~ Bernoulli(m) through bernoulliOp and the noise input
// the draw reads.
func draw(m *G.Node, enc Encoding, name string) (x, noise *G.Node, err error) {
	dt := m.Dtype()
	noise = G.NewTensor(m.Graph(), dt, m.Dims(), G.WithShape(m.Shape()...), G.WithName(name), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(m.Shape()...))))
	x, err = G.ApplyOp(&bernoulliOp{spin: enc == Spin, dims: m.Dims()}, m, noise)
	return x, noise, err
}

func fillNoise(noise []*G.Node, rng *rand.Rand) {
	for _, n := range noise {
		if n != nil {
			uniform(n.Value().(*tensor.Dense), rng)
		}
	}
}

// noiseBlock is the number of noise values uniform takes from one
// generator.
const noiseBlock = 1 << 15

// uniform fills t with uniform noise in [0,1) from rng. A float32 tensor is
// filled in blocks of noiseBlock values across cores, each block from a
// PCG generator seeded by two numbers drawn from rng in order, so that the
// noise is the same whatever the number of cores; each 64-bit number gives
// two 24-bit values (all that a float32 in [0,1) resolves).
func uniform(t *tensor.Dense, rng *rand.Rand) {
	d, ok := t.Data().([]float32)
	if !ok {
		fill(t, rng.Float64)
		return
	}
	seeds := make([][2]uint64, (len(d)+noiseBlock-1)/noiseBlock)
	for i := range seeds {
		seeds[i] = [2]uint64{rng.Uint64(), rng.Uint64()}
	}
	chunks(len(seeds), noiseBlock, func(_, lo, hi int) {
		for b := lo; b < hi; b++ {
			src := rand.NewPCG(seeds[b][0], seeds[b][1])
			uniformBlock(d[b*noiseBlock:min(len(d), (b+1)*noiseBlock)], src)
		}
	})
}

func uniformBlock(d []float32, src *rand.PCG) {
	const unit = 1.0 / (1 << 24)
	i := 0
	for ; i+1 < len(d); i += 2 {
		u := src.Uint64()
		d[i] = float32(u>>40) * unit
		d[i+1] = float32(u>>8&(1<<24-1)) * unit
	}
	if i < len(d) {
		d[i] = float32(src.Uint64()>>40) * unit
	}
}

// forwardVar is the variance of layer k's pre-activation W·x for
// independent inputs of variances v: (W∘W)·v, dense or convolutional.
func (l *Layer) forwardVar(v *G.Node) (*G.Node, error) {
	w2, err := G.ApplyOp(&elemOp{kind: elemSquare, dims: l.W.Dims()}, l.W)
	if err != nil {
		return nil, err
	}
	if l.Spec.Kind == models.Conv {
		return applyConv(convFwd, l.geom, v, w2)
	}
	return matMul(v, w2, false, true, tensor.Shape{l.geom.N, l.Out.Size()})
}

// reverseVar is the variance of layer k−1's reverse pre-activation Wᵀ·r
// for independent states r of layer k of variances v: (W∘W)ᵀ·v.
func (l *Layer) reverseVar(v *G.Node, inShape tensor.Shape) (*G.Node, error) {
	w2, err := G.ApplyOp(&elemOp{kind: elemSquare, dims: l.W.Dims()}, l.W)
	if err != nil {
		return nil, err
	}
	if l.Spec.Kind == models.Conv {
		return applyConv(convTrans, l.geom, v, w2)
	}
	return matMul(v, w2, false, false, inShape)
}

// ClassImages returns q(x⁰ = 1 | class) for each label, the image means of
// the reverse chain run from the one-hot class under inf (mean field, or
// the moment method), as float32.
func ClassImages(p *Params, labels []uint8, inf Inference) ([]float32, error) {
	r, err := NewReverse(p, len(labels), inf)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := r.SetClasses(labels); err != nil {
		return nil, err
	}
	if err := r.Run(); err != nil {
		return nil, err
	}
	return Float32s(r.Means[0]), nil
}

// ParseTrainInference reads an inference method a training graph ([New])
// takes: "meanfield", "moments" or "montecarlo" — the DCIM's own forward
// model, every hidden layer drawn (see Net.forwardSampled).
func ParseTrainInference(s string) (Inference, error) {
	inf, err := ParseInference(s)
	if err != nil {
		err = fmt.Errorf("unknown inference %q (want meanfield, moments or montecarlo)", s)
	}
	return inf, err
}
