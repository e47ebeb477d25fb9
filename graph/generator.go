package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Generator is a graph of the reverse model alone: it starts from a state
// of layer From (the class layer d, or a hidden layer), runs the reverse
// chain down to the image (eq. 18–20), and draws the layers it is told to
// from their means instead of passing the means on.
type Generator struct {
	chain
	From  int
	Draw  []int           // layers drawn, from the top down
	State *G.Node         // input: the state of layer From (one-hot classes when From = d)
	Noise map[int]*G.Node // input: uniform noise for each drawn layer
	Image *G.Node         // q(x^0 = 1 | State), N×C×H×W
}

// NewGenerator builds a reverse-model graph for batches of n states of
// layer from (1 ≤ from ≤ d); draw lists the layers k (1 ≤ k < from) that
// are drawn as x^k ~ Bernoulli(x̄^k) on the way down. The paper's modes:
// chain draws d−1 … 1, layer draws d−1 only, mean draws none.
func NewGenerator(p *Params, from int, draw []int, n int) (*Generator, error) {
	d := p.Depth()
	if from < 1 || from > d {
		return nil, fmt.Errorf("reverse chain from layer %d: want 1…%d", from, d)
	}
	for _, k := range draw {
		if k < 1 || k >= from {
			return nil, fmt.Errorf("cannot draw layer %d on the way down from layer %d", k, from)
		}
	}
	if n < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", n)
	}
	gen := &Generator{From: from, Draw: slices.Clone(draw), Noise: map[int]*G.Node{}}
	if err := gen.init(p, n); err != nil {
		return nil, err
	}
	g, dt := gen.Graph, p.Dtype()
	shape := gen.stateShape(from)
	if from == d {
		shape = tensor.Shape{n, p.Classes}
	}
	gen.State = G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("state"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(shape...))))
	spin := p.Encoding == Spin
	u, err := gen.reverse(from, gen.State, func(k int, mean *G.Node) (*G.Node, error) {
		if !slices.Contains(draw, k) {
			return mean, nil
		}
		noise := G.NewTensor(g, dt, mean.Dims(), G.WithShape(mean.Shape()...), G.WithName(fmt.Sprintf("noise%d", k)), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(mean.Shape()...))))
		gen.Noise[k] = noise
		return G.ApplyOp(&bernoulliOp{spin: spin, dims: mean.Dims()}, mean, noise)
	})
	if err != nil {
		return nil, err
	}
	if gen.Image, err = G.ApplyOp(&affineOp{a: pixelScaleOf(p.Encoding), sigmoid: true, dims: 4}, u); err != nil {
		return nil, err
	}
	gen.vm = G.NewTapeMachine(g)
	return gen, nil
}

// SetClasses sets the state to one-hot classes (From must be d).
func (gen *Generator) SetClasses(labels []uint8) error {
	if gen.From != gen.Params.Depth() {
		return fmt.Errorf("generator starts at layer %d, not at the class layer %d", gen.From, gen.Params.Depth())
	}
	k := gen.Params.Classes
	if len(labels) != gen.batch {
		return fmt.Errorf("%d labels for a batch of %d", len(labels), gen.batch)
	}
	state := make([]float64, gen.batch*k)
	for i, c := range labels {
		if int(c) >= k {
			return fmt.Errorf("class %d out of range 0…%d", c, k-1)
		}
		state[i*k+int(c)] = 1
	}
	return gen.SetState(state)
}

// SetState copies a batch of states of layer From (N × its size, for
// example class probabilities or a drawn hidden layer).
func (gen *Generator) SetState(state []float64) error {
	t := gen.State.Value().(*tensor.Dense)
	if len(state) != t.Len() {
		return fmt.Errorf("state of %d values for a %v input", len(state), t.Shape())
	}
	i := 0
	fill(t, func() float64 { v := state[i]; i++; return v })
	return nil
}

// DrawNoise fills every drawn layer's noise from rng, top layer first.
func (gen *Generator) DrawNoise(rng *rand.Rand) {
	for _, k := range gen.Draw {
		fill(gen.Noise[k].Value().(*tensor.Dense), rng.Float64)
	}
}

// Images returns a copy of the image probabilities after Run, as float32.
func (gen *Generator) Images() []float32 { return Float32s(gen.Image) }

// Float32s returns a copy of a tensor node's value as float32 (after Run).
func Float32s(n *G.Node) []float32 {
	switch d := n.Value().Data().(type) {
	case []float32:
		return slices.Clone(d)
	case []float64:
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(v)
		}
		return out
	}
	return nil
}
