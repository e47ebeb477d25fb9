package train

import (
	"fmt"
	"math/rand/v2"

	"dcim/graph"
)

// Step is one training step of a DCIM, the unit every trainer here shares
// (the loop, cmd/bench and the tests): the batch and the noise of the
// objective's draws go into a training graph, one run of it computes the
// forward chain, the reverse chains, the loss and every gradient, and Adam
// updates the parameters in place.
type Step struct {
	Net    *graph.Net
	Adam   *Adam
	params [][]float32
	grads  [][]float32
}

// StepResult is what one step measured on its batch, before the update.
type StepResult struct {
	Loss    float64   // Σ weight·term
	CE      float64   // the cross-entropy, whether the objective weighs it or not
	Terms   []float64 // each term of the objective, in its order
	Correct int       // images whose most probable class is the label
}

// NewStep builds the training graph of cfg (with gradients) over float32
// parameters p and an Adam optimiser with learning rate lr.
func NewStep(p *graph.Params, cfg graph.Config, lr float64) (*Step, error) {
	cfg.Grad = true
	net, err := graph.New(p, cfg)
	if err != nil {
		return nil, fmt.Errorf("building the training graph: %w", err)
	}
	s := &Step{Net: net}
	var sizes []int
	for _, t := range p.Tensors() {
		d, ok := t.Data().([]float32)
		if !ok {
			net.Close()
			return nil, fmt.Errorf("training needs float32 parameters, not %v", t.Dtype())
		}
		s.params = append(s.params, d)
		sizes = append(sizes, len(d))
	}
	s.Adam = NewAdam(lr, sizes)
	s.grads = make([][]float32, len(s.params))
	return s, nil
}

// Run takes one step on a batch (images N·C·H·W grey levels, N labels),
// with the objective's draws from rng (nil: a generator with a fixed
// seed). It returns the batch's figures; a non-finite loss is returned as
// it is, and the parameters are then left untouched.
func (s *Step) Run(images []float32, labels []uint8, rng *rand.Rand) (StepResult, error) {
	var r StepResult
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 1))
	}
	if err := s.Net.SetBatch(images, labels); err != nil {
		return r, err
	}
	s.Net.DrawNoise(rng)
	if err := s.Net.Run(); err != nil {
		return r, err
	}
	r.Loss, r.CE = graph.Scalar(s.Net.Loss), graph.Scalar(s.Net.CE)
	for _, t := range s.Net.Terms {
		r.Terms = append(r.Terms, graph.Scalar(t.Value))
	}
	r.Correct = CountCorrect(graph.Float32s(s.Net.Probs), labels, s.Net.Params.Classes)
	if !finite(r.Loss) {
		return r, nil
	}
	for i, g := range s.Net.Grads {
		s.grads[i] = nil
		if g != nil {
			s.grads[i] = g.Value().Data().([]float32)
		}
	}
	return r, s.Adam.Step(s.params, s.grads)
}

// Close releases the graph.
func (s *Step) Close() error { return s.Net.Close() }

// CountCorrect counts the rows of probs (n×classes, the first len(labels)
// rows) whose most probable class is the label.
func CountCorrect(probs []float32, labels []uint8, classes int) int {
	c := 0
	for i, y := range labels {
		if graph.Argmax(probs[i*classes:(i+1)*classes]) == int(y) {
			c++
		}
	}
	return c
}
