package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"dcim/models"

	"gorgonia.org/tensor"
)

// Encoding is how a binary unit's two states are written: {0,1} with the
// logistic sigmoid (eq. 6–7) or ±1 with tanh (eq. 8–9). It is the models
// package's type, so that an experiment declared there can name one.
type Encoding = models.Encoding

// The two encodings.
const (
	// Binary units take values {0,1}; mean field is the logistic sigmoid.
	Binary = models.Binary
	// Spin units take values ±1; mean field is tanh, and the image enters as 2x−1.
	Spin = models.Spin
)

// ParseEncoding reads "binary" or "spin".
func ParseEncoding(s string) (Encoding, error) { return models.ParseEncoding(s) }

// activationOf is the mean-field activation of units of encoding e.
func activationOf(e Encoding) activation {
	if e == Spin {
		return actTanh
	}
	return actSigmoid
}

// pixelScaleOf is s in q(pixel = 1) = σ(s·a): 1 for {0,1} units, 2 for ±1
// units, whose log q(x) = x·a − log 2cosh(a) is a Bernoulli with logit 2a.
func pixelScaleOf(e Encoding) float64 {
	if e == Spin {
		return 2
	}
	return 1
}

// Params are a DCIM's parameters, owned as tensors so that several graphs
// (training, evaluation, sampling) can share them. Layer k (1…d) has
// weights W[k-1] in PyTorch layout (dense: out×in; conv: out×in×K×K) and
// bias B[k-1] (one per unit, or per output channel); A0 (C×H×W) is the
// image layer's reverse bias a⁰, the only parameter of the reverse model
// that the forward model does not use.
type Params struct {
	Arch     models.Arch
	Input    models.Shape
	Classes  int
	Encoding Encoding
	Shapes   []models.Shape // state shape of each layer 0…d
	W, B     []*tensor.Dense
	A0       *tensor.Dense
}

// NewParams returns parameters for arch initialised like Keras does:
// Glorot-uniform weights from a generator seeded with seed, zero biases.
func NewParams(arch models.Arch, input models.Shape, classes int, enc Encoding, dt tensor.Dtype, seed uint64) (*Params, error) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("dtype %v not supported (want float32 or float64)", dt)
	}
	shapes, err := arch.Shapes(input, classes)
	if err != nil {
		return nil, err
	}
	p := &Params{Arch: arch, Input: input, Classes: classes, Encoding: enc, Shapes: shapes}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for k, l := range arch {
		in, out := shapes[k], shapes[k+1]
		ws, bs := weightShape(l, in, out), biasShape(l, out)
		fanIn, fanOut := in.Size(), out.Size()
		if l.Kind == models.Conv {
			fanIn, fanOut = in.C*l.K*l.K, l.C*l.K*l.K
		}
		limit := math.Sqrt(6 / float64(fanIn+fanOut))
		w := tensor.New(tensor.Of(dt), tensor.WithShape(ws...))
		fill(w, func() float64 { return (2*rng.Float64() - 1) * limit })
		p.W = append(p.W, w)
		p.B = append(p.B, tensor.New(tensor.Of(dt), tensor.WithShape(bs...)))
	}
	p.A0 = tensor.New(tensor.Of(dt), tensor.WithShape(input.C, input.H, input.W))
	return p, nil
}

func weightShape(l models.Layer, in, out models.Shape) tensor.Shape {
	if l.Kind == models.Conv {
		return tensor.Shape{l.C, in.C, l.K, l.K}
	}
	return tensor.Shape{out.Size(), in.Size()}
}

func biasShape(l models.Layer, out models.Shape) tensor.Shape {
	if l.Kind == models.Conv {
		return tensor.Shape{l.C}
	}
	return tensor.Shape{out.Size()}
}

func fill(t *tensor.Dense, f func() float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(f())
		}
	case []float64:
		for i := range d {
			d[i] = f()
		}
	}
}

// Depth is d, the number of layers above the image.
func (p *Params) Depth() int { return len(p.Arch) }

// Dtype is the element type of all parameters.
func (p *Params) Dtype() tensor.Dtype { return p.A0.Dtype() }

// Names lists the parameters in checkpoint order: W1, b1, …, Wd, bd, a0.
func (p *Params) Names() []string {
	var names []string
	for k := range p.W {
		names = append(names, fmt.Sprintf("W%d", k+1), fmt.Sprintf("b%d", k+1))
	}
	return append(names, "a0")
}

// Tensors lists the parameters in the order of Names.
func (p *Params) Tensors() []*tensor.Dense {
	var ts []*tensor.Dense
	for k := range p.W {
		ts = append(ts, p.W[k], p.B[k])
	}
	return append(ts, p.A0)
}

// ExpectedShapes lists the shape each parameter must have, in the order of
// Names; loaders check against it.
func (p *Params) ExpectedShapes() []tensor.Shape {
	var ss []tensor.Shape
	for k, l := range p.Arch {
		ss = append(ss, weightShape(l, p.Shapes[k], p.Shapes[k+1]), biasShape(l, p.Shapes[k+1]))
	}
	return append(ss, tensor.Shape{p.Input.C, p.Input.H, p.Input.W})
}

// CentreBinary rescales freshly initialised {0,1} parameters so that the
// forward chain computes exactly what the ±1 network with the original
// weights computes. A {0,1} unit x = (s+1)/2 with mean σ(a) = (1 +
// tanh(a/2))/2 has a/2 = (W/4)·s + (W·1/4 + b/2): with W scaled by 4 and
// b^k = −½ Σ_j W^k_ij (the pre-activation centred at the states' midpoint)
// the hidden layers see (W_orig)·s, and the class layer, scaled by 2, the
// logits W_orig·s. Glorot's initialisation, made for centred tanh units,
// then holds for logistic units too; without it the six logistic
// convolutions of the paper's CNN start with pre-activations dominated by
// the input's mean and gradients 4× smaller per layer (σ' ≤ ¼), and stay at
// chance. It is an error for spin parameters.
func (p *Params) CentreBinary() error {
	if p.Encoding != Binary {
		return fmt.Errorf("centring is for binary units; these are %v", p.Encoding)
	}
	d := p.Depth()
	for k := range d {
		scale := 4.0
		if k == d-1 {
			scale = 2
		}
		w, b := p.W[k], p.B[k]
		out := b.Len()
		per := w.Len() / out // a row of W: one output unit's (or channel's) weights
		switch wd := w.Data().(type) {
		case []float32:
			centre(wd, b.Data().([]float32), per, float32(scale))
		case []float64:
			centre(wd, b.Data().([]float64), per, scale)
		}
	}
	return nil
}

func centre[T float32 | float64](w, b []T, per int, scale T) {
	for i := range b {
		row := w[i*per : (i+1)*per]
		var sum T
		for j := range row {
			row[j] *= scale
			sum += row[j]
		}
		b[i] = -sum / 2
	}
}
