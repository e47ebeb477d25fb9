package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// sleepCE is the sleep phase of wake-sleep: the cross-entropy of the
// mean-field forward chain (eq. 14–15) on dreams, −log p̂(y | x̃), where
// x̃ is an image the reverse DCIM draws given the batch's label y with
// every hidden layer drawn on the way down (ancestral sampling of eq.
// 18–20, the chain mode of sampling): x^{d−1} ~ q(· | y), …,
// x^1 ~ q(· | x^2), and x̃ = q(x^0 = 1 | x^1), the dream's pixel
// probabilities, grey levels as the training images are. The dream is
// data: no gradient passes the reverse chain that drew it, so the term
// fits the forward (recognition) model to the reverse model's samples,
// the other half of what the layer terms do (each reverse conditional
// fitted to samples of the forward chain). Its noise, one input per
// drawn layer, is filled by DrawNoise after the forward draws'.
func (n *Net) sleepCE() (*G.Node, error) {
	if n.sleep != nil {
		return n.sleep, nil
	}
	p := n.Params
	d := p.Depth()
	spin := p.Encoding == Spin
	u, err := n.reverse(d, n.Y, func(k int, mean *G.Node) (*G.Node, error) {
		noise := n.input(fmt.Sprintf("sleep-noise%d", k), mean.Shape())
		n.sleepNoise = append(n.sleepNoise, noise)
		return G.ApplyOp(&bernoulliOp{spin: spin, dims: mean.Dims()}, mean, noise)
	})
	if err != nil {
		return nil, fmt.Errorf("dream: %w", err)
	}
	// q(x^0 = 1 | x^1), with no gradient (affineOp without diff).
	h, err := G.ApplyOp(&affineOp{a: pixelScaleOf(p.Encoding), sigmoid: true, dims: u.Dims()}, u)
	if err != nil {
		return nil, err
	}
	n.Dream = h
	if h, err = n.encodeImage(h); err != nil {
		return nil, err
	}
	logits, err := n.meanFieldLogits(h, 0)
	if err != nil {
		return nil, fmt.Errorf("forward of the dream: %w", err)
	}
	n.sleep, err = G.ApplyOp(crossEntropyOp{}, logits, n.Y)
	return n.sleep, err
}
