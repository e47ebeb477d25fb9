package graph

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
)

// DrawGradient is how the gradient of a term passes a Bernoulli draw
// x^k ~ Bernoulli(x̄^k) of a forward layer.
type DrawGradient int

const (
	// NoDrawGradient passes none: the draw is data for the terms that read
	// it, as eq. (22) has it (x^{d−1} is sampled from p_θ(x^{d−1} | x⁰) for
	// the current θ), so the forward chain is trained by its own terms only.
	NoDrawGradient DrawGradient = iota
	// StraightThrough passes the gradient of a draw to its mean unchanged,
	// ∂x^k/∂x̄^k = 1 (E[x^k] = x̄^k): the reverse terms then also train the
	// forward layers below the draw. For a term linear in the draw (the
	// target of a layer term) this is the exact gradient of its
	// expectation; through a reverse chain it is a biased estimate.
	//
	// The mean's own derivative then applies: the gradient reaches the
	// pre-activation a^k as ∂E/∂x^k·σ'(a^k), σ' = 1 − tanh² for ±1 units
	// and σ(1−σ) for {0,1} units — the derivative of the unit's mean E[x^k]
	// in a^k, which is the straight-through estimator derived for
	// stochastic binary networks (Shekhovtsov & Yanush, "Reintroducing
	// straight-through estimators as principled methods for stochastic
	// binary networks", 2021), not the identity through the sign. In the
	// sampled forward chain (MonteCarlo inference) a^k = W^k x^{k−1} + b^k
	// is computed from the drawn x^{k−1}, as that derivation has it.
	StraightThrough
	// PSA is the path sample-analytic estimator (see psa.go), for the
	// sampled forward chain only: straight-through, except that the flip
	// of each drawn unit is propagated exactly through the next layer's
	// units (or the class layer's cross-entropy) instead of to first
	// order. Unbiased with one hidden layer; lower variance than
	// straight-through. Into the reverse terms a draw's gradient is the
	// straight-through one (their derivative in the draw).
	PSA
)

var drawGradientNames = [...]string{"none", "straight-through", "psa"}

// String returns the spelling ParseDrawGradient reads.
func (d DrawGradient) String() string {
	if d < 0 || int(d) >= len(drawGradientNames) {
		return fmt.Sprintf("DrawGradient(%d)", int(d))
	}
	return drawGradientNames[d]
}

// ParseDrawGradient reads "none" (or ""), "straight-through" and "psa".
func ParseDrawGradient(s string) (DrawGradient, error) {
	if s == "" {
		return NoDrawGradient, nil
	}
	if i := slices.Index(drawGradientNames[:], s); i >= 0 {
		return DrawGradient(i), nil
	}
	return 0, fmt.Errorf("draw gradient %q: want none, straight-through or psa", s)
}

// MaxDraws bounds Config.Draws: the reverse chains of the drawn terms run
// on Draws × Batch rows.
const MaxDraws = 64

// draws is the number of draws per image of each drawn forward layer.
func (n *Net) draws() int { return max(n.Config.Draws, 1) }

// draw returns x^k ~ Bernoulli(x̄^k), a draw of forward layer k from its
// mean-field state, made once per graph and shared by every term that
// draws layer k. With Config.Draws = K > 1 the batch's means are repeated
// K times (K·N rows, the j-th copy of image i at row j·N + i) and drawn
// independently, so that the terms reading the draw average over K draws
// per image.
func (n *Net) draw(k int) (*G.Node, error) {
	if s, ok := n.Draws[k]; ok {
		return s, nil
	}
	if n.Config.Inference == MonteCarlo { // drawn by forwardSampled
		return nil, fmt.Errorf("layer %d is not drawn by the sampled forward chain", k)
	}
	return n.meanFieldDraw(k)
}

// reverseDraw returns the draw of forward layer k that the reverse terms
// read: the draw itself, or, under MonteCarlo with ReverseDrawsAsData, the
// same values through a draw that passes no gradient (the same bernoulliOp
// on the same mean and noise, made once).
func (n *Net) reverseDraw(k int) (*G.Node, error) {
	s, err := n.draw(k)
	if err != nil || n.Config.Inference != MonteCarlo || !n.Config.ReverseDrawsAsData {
		return s, err
	}
	if d, ok := n.dataDraws[k]; ok {
		return d, nil
	}
	m := n.drawMeans[k]
	op := &bernoulliOp{spin: n.Params.Encoding == Spin, dims: m.Dims()}
	d, err := G.ApplyOp(op, m, n.Noise[k])
	if err != nil {
		return nil, fmt.Errorf("draw of layer %d as data: %w", k, err)
	}
	if n.dataDraws == nil {
		n.dataDraws = map[int]*G.Node{}
	}
	n.dataDraws[k] = d
	return d, nil
}

// meanFieldDraw draws layer k from its repeated mean-field state.
func (n *Net) meanFieldDraw(k int) (*G.Node, error) {
	m, err := n.repeat(n.States[k])
	if err != nil {
		return nil, fmt.Errorf("draw of layer %d: %w", k, err)
	}
	return n.drawFrom(k, m)
}

// drawFrom draws layer k from its mean m (whatever its rows), through
// bernoulliOp with its own noise input, and records the draw.
func (n *Net) drawFrom(k int, m *G.Node) (*G.Node, error) {
	noise := n.input(fmt.Sprintf("noise%d", k), m.Shape())
	var s *G.Node
	var err error
	if n.Config.drawOffset {
		s, err = G.Add(m, noise)
	} else {
		op := &bernoulliOp{spin: n.Params.Encoding == Spin, dims: m.Dims(), straight: n.Config.DrawGradient != NoDrawGradient}
		s, err = G.ApplyOp(op, m, noise)
	}
	if err != nil {
		return nil, fmt.Errorf("draw of layer %d: %w", k, err)
	}
	if n.drawMeans == nil {
		n.drawMeans = map[int]*G.Node{}
	}
	n.Noise[k], n.Draws[k], n.drawMeans[k] = noise, s, m
	return s, nil
}

// repeat stacks Config.Draws copies of a batch node along its first axis
// (the node itself for one draw), matching the rows of the draws; the
// copies are cached per node so that the images and labels are repeated
// once however many terms read them.
func (n *Net) repeat(x *G.Node) (*G.Node, error) {
	K := n.draws()
	if K == 1 {
		return x, nil
	}
	if r, ok := n.repeated[x]; ok {
		return r, nil
	}
	r, err := G.Concat(0, slices.Repeat([]*G.Node{x}, K)...)
	if err != nil {
		return nil, err
	}
	if n.repeated == nil {
		n.repeated = map[*G.Node]*G.Node{}
	}
	n.repeated[x] = r
	return r, nil
}
