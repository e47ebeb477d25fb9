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

// Forward is a graph of the forward chain alone, eq. (14)–(15), run with
// one inference method for batches of N images.
type Forward struct {
	chain
	Inference Inference
	X         *G.Node   // input: images, N×C×H×W grey levels in [0,1]
	Means     []*G.Node // Means[k], k = 0…d−1: layer k's state (the encoded image at k = 0)
	Vars      []*G.Node // Moments: Vars[k], the variance of layer k's units (nil at k = 0)
	Noise     []*G.Node // MonteCarlo: Noise[k], uniform noise of layer k's draw (nil at k = 0)
	Logits    *G.Node   // class logits a^d (Moments: scaled by their variance, see momentAct)
	Probs     *G.Node   // p(x^d | x^0), eq. (15); MonteCarlo: given the drawn x^{d−1}
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
	f.Means, f.Vars, f.Noise = []*G.Node{h}, []*G.Node{nil}, []*G.Node{nil}
	var v *G.Node // variance of the parent layer's units; nil: known exactly
	d := p.Depth()
	for _, l := range f.Layers[:d-1] {
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
		m, err := momentAct(z, zv, l.B, activationOf(p.Encoding), 1)
		if err != nil {
			return nil, fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		f.Means = append(f.Means, m)
		h, v = m, nil
		var noise *G.Node
		switch inf {
		case Moments:
			if v, err = unitVar(m, p.Encoding); err != nil {
				return nil, err
			}
		case MonteCarlo:
			if h, noise, err = draw(m, p.Encoding, fmt.Sprintf("noise%d", l.Index)); err != nil {
				return nil, err
			}
		}
		f.Vars, f.Noise = append(f.Vars, v), append(f.Noise, noise)
	}
	top := f.Layers[d-1]
	z, err := top.Forward(h)
	if err != nil {
		return nil, fmt.Errorf("layer %d forward: %w", d, err)
	}
	var zv *G.Node
	if v != nil {
		if zv, err = top.forwardVar(v); err != nil {
			return nil, fmt.Errorf("layer %d forward variance: %w", d, err)
		}
	}
	if f.Logits, err = momentAct(z, zv, top.B, actIdentity, 1); err != nil {
		return nil, err
	}
	if f.Probs, err = G.ApplyOp(&softmaxOp{}, f.Logits); err != nil {
		return nil, err
	}
	f.vm = G.NewTapeMachine(g)
	return f, nil
}

// SetImages copies N images (N·C·H·W grey levels in [0,1], NCHW) into X.
func (f *Forward) SetImages(images []float32) error {
	x := f.X.Value().(*tensor.Dense)
	if len(images) != x.Len() {
		return fmt.Errorf("%d pixels for a batch of shape %v", len(images), x.Shape())
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
// batches of N classes.
type Reverse struct {
	chain
	Inference Inference
	State     *G.Node   // input: one-hot classes, N×classes
	Means     []*G.Node // Means[k], k = 1…d−1: layer k's state on the way down; Means[0] is q(x^0 = 1)
	Vars      []*G.Node // Moments: Vars[k], the variance of layer k's units (nil at k = d−1 and 0)
	Noise     []*G.Node // MonteCarlo: Noise[k], uniform noise of layer k's draw (nil at k = 0)
	Logits    *G.Node   // image logits u (q(x^0 = 1) = σ(s·u); Moments: scaled, see momentAct)
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
	g, dt, d := r.Graph, p.Dtype(), p.Depth()
	r.State = G.NewMatrix(g, dt, G.WithShape(n, p.Classes), G.WithName("state"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(n, p.Classes))))
	r.Means, r.Vars, r.Noise = make([]*G.Node, d), make([]*G.Node, d), make([]*G.Node, d)
	h := r.State
	var v *G.Node
	for k := d; k >= 1; k-- {
		l := r.Layers[k-1]
		z, err := l.Reverse(h, r.stateShape(k-1))
		if err != nil {
			return nil, fmt.Errorf("layer %d reverse: %w", k, err)
		}
		var zv *G.Node
		if v != nil {
			if zv, err = l.reverseVar(v, r.stateShape(k-1)); err != nil {
				return nil, fmt.Errorf("layer %d reverse variance: %w", k, err)
			}
		}
		if k == 1 {
			if r.Logits, err = momentAct(z, zv, r.A0, actIdentity, pixelScaleOf(p.Encoding)); err != nil {
				return nil, err
			}
			if r.Means[0], err = G.ApplyOp(&affineOp{a: pixelScaleOf(p.Encoding), sigmoid: true, dims: 4}, r.Logits); err != nil {
				return nil, err
			}
			break
		}
		m, err := momentAct(z, zv, r.Layers[k-2].B, activationOf(p.Encoding), 1)
		if err != nil {
			return nil, fmt.Errorf("layer %d reverse: %w", k, err)
		}
		r.Means[k-1] = m
		h, v = m, nil
		switch inf {
		case Moments:
			if v, err = unitVar(m, p.Encoding); err != nil {
				return nil, err
			}
			r.Vars[k-1] = v
		case MonteCarlo:
			if h, r.Noise[k-1], err = draw(m, p.Encoding, fmt.Sprintf("noise%d", k-1)); err != nil {
				return nil, err
			}
		}
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

// uniform fills t with uniform noise in [0,1) from rng; a float32 tensor
// takes two 24-bit values (all that a float32 in [0,1) resolves) from each
// 64-bit draw.
func uniform(t *tensor.Dense, rng *rand.Rand) {
	d, ok := t.Data().([]float32)
	if !ok {
		fill(t, rng.Float64)
		return
	}
	const unit = 1.0 / (1 << 24)
	i := 0
	for ; i+1 < len(d); i += 2 {
		u := rng.Uint64()
		d[i] = float32(u>>40) * unit
		d[i+1] = float32(u>>8&(1<<24-1)) * unit
	}
	if i < len(d) {
		d[i] = float32(rng.Uint64()>>40) * unit
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
