package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// forwardSampled builds the forward chain of a MonteCarlo graph: the DCIM's
// own forward model (eq. 13), every hidden layer drawn in turn,
//
//	x^k ~ p(x^k | x^{k−1}),  mean m^k = σ(W^k x^{k−1} + b^k),  k = 1 … d−1,
//
// with x^{k−1} the draw of the layer below (ancestral sampling; x⁰ is the
// encoded image, not drawn), and the class logits a^d = W^d x^{d−1} + b^d
// of the drawn x^{d−1}. Config.Draws = K draws the whole chain K times per
// image: layer 1's mean, exact given the image, is computed once and
// repeated K times (K·N rows, the j-th sample of image i at row j·N + i),
// and every layer above runs on the K·N rows.
//
// The loss's cross-entropy is the mean over the K·N rows of
// −log p(label | x^{d−1}): the average over draws sits outside the log.
// That is the expected loss E[f(x^{d−1})] that straight-through and PSA
// estimate the gradient of (each draw is one sample of it), and by
// Jensen's inequality it bounds −log E[p(label | x^{d−1})] = −log
// p(label | x⁰), the DCIM's own negative log-likelihood, from above;
// the log of the average would be a tighter bound but is no expectation
// of a per-sample loss, so neither estimator applies to it as derived.
//
// The draws are Draws[k] and Noise[k] for every k; States[k] is layer k's
// mean given the drawn parent (N rows for k ≤ 1, K·N above); the terms
// that read a draw of forward layer k (draw, layer) read these draws, so
// that a layer term's x^k and x^{k+1} come from one ancestral sample.
// Probs is the class posterior averaged over the K samples of each image
// (the Monte-Carlo estimate of p(x^d | x⁰)), N rows.
func (n *Net) forwardSampled(h *G.Node) error {
	p := n.Params
	d := p.Depth()
	act := activationOf(p.Encoding)
	psa := n.Config.DrawGradient == PSA
	n.States = append(n.States, h)
	x := h
	for _, l := range n.Layers[:d-1] {
		z, err := l.Forward(x)
		if err != nil {
			return fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		var m *G.Node
		if psa && l.Index > 1 {
			m, err = psaAct(l, z, x, act)
		} else {
			m, err = biasAct(z, l.B, act)
		}
		if err != nil {
			return fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		n.States = append(n.States, m)
		if l.Index == 1 {
			if m, err = n.repeat(m); err != nil {
				return fmt.Errorf("layer 1 forward: %w", err)
			}
		}
		if x, err = n.drawFrom(l.Index, m); err != nil {
			return err
		}
	}
	top := n.Layers[d-1]
	z, err := top.Forward(x)
	if err != nil {
		return fmt.Errorf("layer %d forward: %w", d, err)
	}
	if n.Logits, err = biasAct(z, top.B, actIdentity); err != nil {
		return err
	}
	y, err := n.repeat(n.Y)
	if err != nil {
		return err
	}
	if psa && d > 1 {
		op := &psaCrossEntropyOp{act: act, xDims: x.Dims()}
		n.CE, err = G.ApplyOp(op, n.Logits, y, x, top.W)
	} else {
		n.CE, err = G.ApplyOp(crossEntropyOp{}, n.Logits, y)
	}
	if err != nil {
		return err
	}
	probs, err := G.ApplyOp(&softmaxOp{}, n.Logits)
	if err != nil {
		return err
	}
	if n.Probs = probs; n.draws() > 1 {
		n.Probs, err = G.ApplyOp(&blockMeanOp{blocks: n.draws()}, probs)
	}
	return err
}

// blockMeanOp averages the K blocks of rows of a matrix (K·N×M → N×M):
// the mean over the K draws of each image. It is not differentiated.
type blockMeanOp struct {
	opBase
	blocks int
	out    output
}

func (op *blockMeanOp) Arity() int    { return 1 }
func (op *blockMeanOp) Type() hm.Type { return fnType(tensorType(2), tensorType(2)) }
func (op *blockMeanOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	if err != nil {
		return nil, err
	}
	if len(s) != 2 || s[0]%op.blocks != 0 {
		return nil, fmt.Errorf("%v: shape %v is not %d blocks of rows", op, s, op.blocks)
	}
	return tensor.Shape{s[0] / op.blocks, s[1]}, nil
}
func (op *blockMeanOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return doFloat(op, op.out.get(in[0].Dtype(), tensor.Shape{s[0] / op.blocks, s[1]}), in, blockMeanKernel[float32], blockMeanKernel[float64])
}

func blockMeanKernel[T Float](op *blockMeanOp, y []T, in []G.Value) {
	x := floats[T](in[0])
	clear(y)
	for b := range op.blocks {
		addTo(y, x[b*len(y):(b+1)*len(y)])
	}
	inv := 1 / T(op.blocks)
	for i := range y {
		y[i] *= inv
	}
}

func (op *blockMeanOp) String() string                                     { return fmt.Sprintf("BlockMean{%d}", op.blocks) }
func (op *blockMeanOp) WriteHash(h hash.Hash)                              { writeHash(h, op) }
func (op *blockMeanOp) Hashcode() uint32                                   { return hashOf(op) }
func (op *blockMeanOp) DiffWRT(n int) []bool                               { return noDiff(n) }
func (op *blockMeanOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) { return nil, errNoDiff(op) }

// meanFieldCE returns the cross-entropy of the mean-field forward chain
// (eq. 14–15): the loss's own under MeanField; under MonteCarlo and
// Moments a mean-field pass of its own beside the chain the loss runs,
// from layer 1's state (exact given the image under every method) up.
func (n *Net) meanFieldCE() (*G.Node, error) {
	if n.Config.Inference == MeanField {
		return n.CE, nil
	}
	if n.mfCE != nil {
		return n.mfCE, nil
	}
	if n.Params.Depth() == 1 {
		return n.CE, nil
	}
	logits, err := n.meanFieldLogits(n.States[1], 1) // layer 1's mean given the image, N rows
	if err != nil {
		return nil, err
	}
	n.mfCE, err = G.ApplyOp(crossEntropyOp{}, logits, n.Y)
	return n.mfCE, err
}

// meanFieldLogits runs the mean-field forward chain (eq. 14) from h, the
// state of layer from (0: the encoded image), up through the hidden
// layers, and returns the class logits a^d = W^d x̄^{d−1} + b^d.
func (n *Net) meanFieldLogits(h *G.Node, from int) (*G.Node, error) {
	d := n.Params.Depth()
	act := activationOf(n.Params.Encoding)
	for _, l := range n.Layers[from : d-1] {
		z, err := l.Forward(h)
		if err != nil {
			return nil, fmt.Errorf("layer %d mean-field forward: %w", l.Index, err)
		}
		if h, err = biasAct(z, l.B, act); err != nil {
			return nil, err
		}
	}
	top := n.Layers[d-1]
	z, err := top.Forward(h)
	if err != nil {
		return nil, fmt.Errorf("layer %d mean-field forward: %w", d, err)
	}
	return biasAct(z, top.B, actIdentity)
}
