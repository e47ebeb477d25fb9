package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"dcim/models"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Objective is the loss a graph builds: weighted terms, each a negative
// log-likelihood per unit (see models.Objective). The zero value, nil, is
// the forward cross-entropy alone.
type Objective = models.Objective

// The paper's three objectives.
var (
	// Discriminative is −log p(x^d | x^0) alone (§2.2).
	Discriminative = models.Discriminative()
	// Generative adds −log q(x^0 | x^d), the reverse chain run from the
	// one-hot label (eq. 21).
	Generative = models.Generative()
	// GenerativeSampled adds −log q(x^0 | x^{d-1}), the reverse chain run
	// from a Bernoulli draw of layer d−1 of the forward pass (eq. 22).
	GenerativeSampled = models.GenerativeSampled()
)

// ParseObjective reads a named objective or a term expression (see
// models.ParseObjective).
func ParseObjective(s string) (Objective, error) { return models.ParseObjective(s) }

// Layer is one layer k of a DCIM in a graph. Its weight node W and bias
// node B serve both chains: the forward chain applies W (eq. 14), the
// reverse chain applies Wᵀ (eq. 18–20); B is this layer's bias in both.
type Layer struct {
	Index   int          // k, 1…d
	Spec    models.Layer // the layer in the paper's notation
	In, Out models.Shape // states of layers k−1 and k
	W, B    *G.Node
	geom    ConvGeom
}

// Forward returns the pre-activation W·h of layer k for the batch of states
// h of layer k−1.
func (l *Layer) Forward(h *G.Node) (*G.Node, error) {
	rows := h.Shape()[0] // the graph's batch, or the rows of repeated draws
	if l.Spec.Kind == models.Conv {
		g := l.geom
		g.N = rows
		return applyConv(convFwd, g, h, l.W)
	}
	return matMul(h, l.W, false, true, tensor.Shape{rows, l.Out.Size()})
}

// Reverse returns Wᵀ·r, the reverse pre-activation of layer k−1 for the
// batch of states r of layer k: the adjoint of Forward, with the same W.
func (l *Layer) Reverse(r *G.Node, inShape tensor.Shape) (*G.Node, error) {
	if l.Spec.Kind == models.Conv {
		g := l.geom
		g.N = inShape[0] // the graph's batch, or the rows of repeated draws
		return applyConv(convTrans, g, r, l.W)
	}
	return matMul(r, l.W, false, false, inShape)
}

// Config says what graph New builds.
type Config struct {
	// Objective lists the loss's terms; nil is the forward cross-entropy
	// alone.
	Objective Objective
	Lambda    float64 // λ, multiplies every reverse term's weight (1 if zero)
	Batch     int
	// Inference is how the forward chain passes states on: MeanField
	// (eq. 14, the paper's approximation (2)), Moments (means and
	// variances, see momentAct) or MonteCarlo, the DCIM's own forward model
	// (every hidden layer drawn, see forwardSampled), which needs a
	// DrawGradient other than none. The reverse chains of the label and
	// draw terms are mean field under MeanField and MonteCarlo.
	Inference Inference
	// AllTerms also builds the reverse terms of eq. (21) and eq. (22)
	// (the latter when there is a hidden layer), whatever the objective, so
	// that evaluation can report both.
	AllTerms bool
	// Grad adds the gradient of Loss with respect to every learnable the
	// loss depends on.
	Grad bool
	// Draws is the number of Bernoulli draws per image of every drawn
	// forward layer (1 if zero, at most MaxDraws): the reverse terms that
	// read a draw average over them. Under MonteCarlo it is the number of
	// ancestral samples of the whole forward chain per image, and the
	// cross-entropy averages over them too. Not for Moments.
	Draws int
	// DrawGradient is how gradients pass the draws (none, as in eq. 22,
	// straight through, or PSA under MonteCarlo).
	DrawGradient DrawGradient
	// ReverseDrawsAsData, under MonteCarlo, has the reverse terms read the
	// sampled chain's draws as data, with no gradient through them: the
	// wake phase of wake-sleep, the reverse model fitted to samples of the
	// forward model, which the cross-entropy alone trains (the reverse
	// terms reach it only through the shared weights). Without it the
	// reverse terms' gradients pass the draws as DrawGradient says.
	ReverseDrawsAsData bool

	// drawOffset, for tests, replaces each draw by x̄^k + c^k, with the
	// offset c^k held in Noise[k]: a differentiable function that equals
	// the draw where c^k = x^k − x̄^k, whose exact gradient is what the
	// straight-through estimator computes.
	drawOffset bool
}

// Term is one term of a graph's objective with the node of its value: the
// term's negative log-likelihood per unit, before weighting.
type Term struct {
	models.Term         // with the layer resolved
	Scale       float64 // the term's weight in the loss: Weight, times λ for a reverse term
	Value       *G.Node
}

// Net is one expression graph holding a DCIM's forward chain, the reverse
// chains its objective needs and the objective's loss, for a fixed batch
// size.
type Net struct {
	chain
	Config Config

	// Inputs, owned by the Net and filled by SetBatch and DrawNoise.
	X     *G.Node         // images, N×C×H×W grey levels in [0,1]
	Y     *G.Node         // one-hot labels, N×classes
	Noise map[int]*G.Node // uniform noise for the draw of each forward layer k that a term draws

	States []*G.Node       // forward mean-field states x̄^0 … x̄^{d−1} (x̄^0 is the encoded image)
	Draws  map[int]*G.Node // x^k ~ Bernoulli(x̄^k) for each drawn forward layer k
	Logits *G.Node         // class logits a^d, N×classes
	Probs  *G.Node         // p(x^d | x^0), eq. (15)

	Terms   []Term  // the objective's terms, in its order
	CE      *G.Node // mean −log p(label | x^0)
	BCE21   *G.Node // per-pixel reverse BCE of q(x^0 | onehot(label)), eq. (21); nil if not built
	BCE22   *G.Node // per-pixel reverse BCE of q(x^0 | s), s ~ x̄^{d−1}, eq. (22); nil if not built
	Recon21 *G.Node // q(x^0 = 1 | onehot(label)), N×C×H×W
	Recon22 *G.Node // q(x^0 = 1 | s)
	Sample  *G.Node // the draw s of layer d−1 (Draws[d−1]), nil if not built
	Dream   *G.Node // the sleep term's dreams q(x^0 = 1 | x^1), N×C×H×W; nil if not built
	Loss    *G.Node // Σ weight·term; reverse terms' weights times λ
	Grads   G.Nodes // ∂Loss/∂Learnables(), when Config.Grad; nil where the loss does not depend on it

	repeated   map[*G.Node]*G.Node // batch nodes stacked Config.Draws times (see repeat)
	dataDraws  map[int]*G.Node     // draws read as data by the reverse terms (see reverseDraw)
	drawMeans  map[int]*G.Node     // the mean each draw is made from
	mfCE       *G.Node             // the mean-field cross-entropy beside another inference (see meanFieldCE)
	sleep      *G.Node             // the sleep term's value (see sleepCE)
	sleepNoise []*G.Node           // its noise inputs, one per drawn layer, top first
}

// chain is what every graph of a DCIM holds: one W and one b node per
// layer, bound to the shared parameter tensors, and a⁰; both directions
// are applied through it.
type chain struct {
	Params *Params
	Graph  *G.ExprGraph
	Layers []*Layer
	A0     *G.Node // the image layer's reverse bias a⁰
	batch  int
	vm     G.VM
}

// New builds the graph of cfg for the parameters p: the forward chain
// (eq. 14–15), each reverse chain a term needs (eq. 18–20) and the loss.
func New(p *Params, cfg Config) (*Net, error) {
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", cfg.Batch)
	}
	if cfg.Lambda == 0 {
		cfg.Lambda = 1
	}
	obj := cfg.Objective
	if obj == nil {
		obj = models.Discriminative()
	}
	switch {
	case cfg.Inference != MeanField && cfg.Inference != Moments && cfg.Inference != MonteCarlo:
		return nil, fmt.Errorf("inference %v: a training graph takes meanfield, moments or montecarlo", cfg.Inference)
	case cfg.Inference == MonteCarlo && cfg.DrawGradient == NoDrawGradient:
		return nil, fmt.Errorf("inference %v draws every hidden layer: it needs a draw gradient (straight-through or psa), else the cross-entropy trains the class layer alone", cfg.Inference)
	case cfg.DrawGradient == PSA && cfg.Inference != MonteCarlo:
		return nil, fmt.Errorf("draw gradient %v propagates flips through the sampled forward chain: it needs inference montecarlo, not %v", cfg.DrawGradient, cfg.Inference)
	case cfg.ReverseDrawsAsData && cfg.Inference != MonteCarlo:
		return nil, fmt.Errorf("reverse draws as data is for inference montecarlo, not %v (under %v a draw gradient of none reads every draw as data)", cfg.Inference, cfg.Inference)
	}
	if cfg.Draws < 0 || cfg.Draws > MaxDraws {
		return nil, fmt.Errorf("%d draws per image, want 1…%d", cfg.Draws, MaxDraws)
	}
	if cfg.Draws > 1 && cfg.Inference == Moments {
		return nil, fmt.Errorf("%d draws per image: the moment method propagates no draws, it takes 1", cfg.Draws)
	}
	d := p.Depth()
	terms, err := obj.Resolve(d)
	if err != nil {
		return nil, fmt.Errorf("objective %v on arch %v: %w", obj, p.Arch, err)
	}
	n := &Net{Config: cfg, Noise: map[int]*G.Node{}, Draws: map[int]*G.Node{}}
	if err := n.init(p, cfg.Batch); err != nil {
		return nil, err
	}
	N, in := cfg.Batch, p.Input
	n.X = n.input("x", tensor.Shape{N, in.C, in.H, in.W})
	n.Y = n.input("y", tensor.Shape{N, p.Classes})
	if err := n.forward(); err != nil {
		return nil, err
	}

	// The reverse terms of eq. (21) and eq. (22) first, in this order, so
	// that the paper's objectives build the same graph as they always did.
	need := func(kind models.TermKind, k int) bool {
		return slices.ContainsFunc(terms, func(t models.Term) bool { return t.Kind == kind && t.Layer == k })
	}
	if need(models.ReverseLabel, 0) || cfg.AllTerms {
		if n.BCE21, n.Recon21, err = n.reverseLoss(d, n.Y); err != nil {
			return nil, err
		}
	}
	if d >= 2 && (need(models.ReverseDraw, d-1) || cfg.AllTerms) {
		if n.Sample, err = n.reverseDraw(d - 1); err != nil {
			return nil, err
		}
		if n.BCE22, n.Recon22, err = n.reverseLoss(d-1, n.Sample); err != nil {
			return nil, err
		}
	}
	for _, t := range terms {
		v, err := n.term(t)
		if err != nil {
			return nil, fmt.Errorf("term %v: %w", t, err)
		}
		scale := t.Weight
		if t.Kind.Reverse() {
			scale *= cfg.Lambda
		}
		n.Terms = append(n.Terms, Term{Term: t, Scale: scale, Value: v})
	}
	if n.Loss, err = n.loss(); err != nil {
		return nil, err
	}
	if cfg.Grad {
		if err := n.addGrads(); err != nil {
			return nil, fmt.Errorf("differentiating the %v loss: %w", obj, err)
		}
	}
	n.vm = G.NewTapeMachine(n.Graph)
	return n, nil
}

// input returns an input node of the graph with its own zeroed value.
func (n *chain) input(name string, shape tensor.Shape) *G.Node {
	dt := n.Params.Dtype()
	return G.NewTensor(n.Graph, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(shape...))))
}

// forward builds the forward chain, eq. (14)–(15): the mean-field states
// x̄^k = σ(W^k x̄^{k−1} + b^k), the class logits and probabilities, and the
// cross-entropy against the labels.
func (n *Net) forward() error {
	p := n.Params
	d := p.Depth()
	h, err := n.encodeImage(n.X)
	if err != nil {
		return err
	}
	if n.Config.Inference == MonteCarlo {
		return n.forwardSampled(h)
	}
	if n.Config.Inference == Moments {
		ps, err := n.forwardPass(h, Moments)
		if err != nil {
			return err
		}
		n.States, n.Logits = ps.Means[:d], ps.Logits
		return n.classProbs()
	}
	n.States = append(n.States, h)
	act := activationOf(p.Encoding)
	for _, l := range n.Layers[:d-1] {
		z, err := l.Forward(h)
		if err != nil {
			return fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		if h, err = biasAct(z, l.B, act); err != nil {
			return fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		n.States = append(n.States, h)
	}
	top := n.Layers[d-1]
	z, err := top.Forward(h)
	if err != nil {
		return fmt.Errorf("layer %d forward: %w", d, err)
	}
	if n.Logits, err = biasAct(z, top.B, actIdentity); err != nil {
		return err
	}
	return n.classProbs()
}

// encodeImage maps grey levels x in [0,1] to the image state x⁰: 2x − 1
// for ±1 units, x itself for {0,1} units.
func (n *Net) encodeImage(x *G.Node) (*G.Node, error) {
	if n.Params.Encoding != Spin {
		return x, nil
	}
	return G.ApplyOp(&affineOp{a: 2, c: -1, dims: x.Dims()}, x)
}

// classProbs adds p(x^d | x^0) = softmax(logits), eq. (15), and the
// cross-entropy against the labels.
func (n *Net) classProbs() error {
	var err error
	if n.Probs, err = G.ApplyOp(&softmaxOp{}, n.Logits); err != nil {
		return err
	}
	n.CE, err = G.ApplyOp(crossEntropyOp{}, n.Logits, n.Y)
	return err
}

// termBuilder is how a graph computes one term kind (the kind itself —
// spelling, λ, draws — is declared in models). Every kind of
// models.TermKinds has one; a new kind is one entry here.
type termBuilder struct {
	// build returns the node of a resolved term's value.
	build func(n *Net, t models.Term) (*G.Node, error)
	// reach marks the learnables the value depends on directly, not
	// through a straight-through draw (addGrads adds those).
	reach func(t models.Term, d int, r *reach)
}

// reach is the set of learnables a loss depends on: W^k and b^k by layer
// k (index 0 unused) and a⁰.
type reach struct {
	w, b []bool
	a0   bool
}

// reverseChain marks what a reverse chain from layer from down to the
// image reaches: W^1…W^from, b^1…b^{from−1} and a⁰ (eq. 18–20).
func (r *reach) reverseChain(from int) {
	for k := 1; k <= from; k++ {
		r.w[k], r.b[k-1] = true, true
	}
	r.a0 = true
}

var termBuilders = map[models.TermKind]termBuilder{
	models.CE: {
		build: func(n *Net, _ models.Term) (*G.Node, error) { return n.CE, nil },
		reach: func(_ models.Term, d int, r *reach) {
			for k := 1; k <= d; k++ {
				r.w[k], r.b[k] = true, true
			}
		},
	},
	models.ReverseLabel: {
		build: func(n *Net, _ models.Term) (*G.Node, error) { return n.BCE21, nil },
		reach: func(_ models.Term, d int, r *reach) { r.reverseChain(d) },
	},
	models.ReverseDraw: {
		build: func(n *Net, t models.Term) (*G.Node, error) {
			if t.Layer == n.Params.Depth()-1 {
				return n.BCE22, nil
			}
			s, err := n.reverseDraw(t.Layer)
			if err != nil {
				return nil, err
			}
			loss, _, err := n.reverseLoss(t.Layer, s)
			return loss, err
		},
		reach: func(t models.Term, _ int, r *reach) { r.reverseChain(t.Layer) },
	},
	models.ReverseLayer: {
		build: func(n *Net, t models.Term) (*G.Node, error) { return n.reverseLayerLoss(t.Layer) },
		reach: func(t models.Term, _ int, r *reach) { r.w[t.Layer+1], r.b[t.Layer] = true, true },
	},
	models.Sleep: {
		build: func(n *Net, _ models.Term) (*G.Node, error) { return n.sleepCE() },
		reach: func(_ models.Term, d int, r *reach) { // the forward chain only: a dream is data
			for k := 1; k <= d; k++ {
				r.w[k], r.b[k] = true, true
			}
		},
	},
	models.MeanFieldCE: {
		build: func(n *Net, _ models.Term) (*G.Node, error) { return n.meanFieldCE() },
		reach: func(_ models.Term, d int, r *reach) {
			for k := 1; k <= d; k++ {
				r.w[k], r.b[k] = true, true
			}
		},
	},
}

// term returns the node of one resolved term's value.
func (n *Net) term(t models.Term) (*G.Node, error) {
	b, ok := termBuilders[t.Kind]
	if !ok {
		return nil, fmt.Errorf("no graph builder for term kind %v", t.Kind)
	}
	return b.build(n, t)
}

// reverseLayerLoss is −log q(x^k | x^{k+1}) per unit (eq. 18–19 for one
// layer): x^k is drawn from the forward chain and scored under the reverse
// conditional σ((W^{k+1})ᵀ x^{k+1} + b^k), with x^{k+1} the one-hot label
// (k = d−1) or a draw of forward layer k+1.
func (n *Net) reverseLayerLoss(k int) (*G.Node, error) {
	d := n.Params.Depth()
	target, err := n.reverseDraw(k)
	if err != nil {
		return nil, err
	}
	var cond *G.Node
	if k+1 < d {
		cond, err = n.reverseDraw(k + 1)
	} else {
		cond, err = n.repeat(n.Y)
	}
	if err != nil {
		return nil, err
	}
	z, err := n.Layers[k].Reverse(cond, stateShape(n.Params, k, target.Shape()[0]))
	if err != nil {
		return nil, fmt.Errorf("layer %d reverse: %w", k+1, err)
	}
	u, err := biasAct(z, n.Layers[k-1].B, actIdentity)
	if err != nil {
		return nil, err
	}
	straight := n.Config.DrawGradient != NoDrawGradient && !n.Config.ReverseDrawsAsData
	if n.Params.Encoding == Spin { // ±1 → {0,1}
		if target, err = G.ApplyOp(&affineOp{a: 0.5, c: 0.5, dims: target.Dims(), diff: straight}, target); err != nil {
			return nil, err
		}
	}
	return G.ApplyOp(&bceOp{scale: pixelScaleOf(n.Params.Encoding), dims: u.Dims(), diffTarget: straight}, u, target)
}

// loss sums the weighted terms. A term of another kind than a reverse one
// with weight 1 is not multiplied; reverse terms are always scaled by
// weight·λ.
func (n *Net) loss() (*G.Node, error) {
	var loss *G.Node
	for _, t := range n.Terms {
		v := t.Value
		if t.Kind.Reverse() || t.Scale != 1 {
			c := G.NewConstant(scalarValue(n.Params.Dtype(), t.Scale), G.WithName("w_"+t.Key()))
			var err error
			if v, err = G.Mul(v, c); err != nil {
				return nil, err
			}
		}
		if loss == nil {
			loss = v
			continue
		}
		var err error
		if loss, err = G.Add(loss, v); err != nil {
			return nil, err
		}
	}
	return loss, nil
}

// addGrads adds ∂Loss/∂θ for every learnable θ the loss depends on; the
// others' gradients are left nil (zero). The cross-entropy reaches every W
// and b; a reverse chain from layer k down to the image reaches W^1…W^k,
// b^1…b^{k−1} and a⁰; one reverse layer q(x^k | x^{k+1}) reaches W^{k+1}
// and b^k. Draws pass no gradient, unless straight through or PSA: then a
// term that draws forward layer k also reaches W^1…W^k and b^1…b^k.
func (n *Net) addGrads() error {
	d := n.Params.Depth()
	r := &reach{w: make([]bool, d+1), b: make([]bool, d+1)}
	for _, t := range n.Terms {
		termBuilders[t.Kind].reach(t.Term, d, r)
		if n.Config.DrawGradient != NoDrawGradient {
			for _, top := range t.Draws(d) {
				for k := 1; k <= top; k++ {
					r.w[k], r.b[k] = true, true
				}
			}
		}
	}
	usesW, usesB, usesA0 := r.w, r.b, r.a0
	all := n.Learnables()
	var wrt G.Nodes
	var at []int
	for k := 1; k <= d; k++ {
		if usesW[k] {
			wrt, at = append(wrt, all[2*(k-1)]), append(at, 2*(k-1))
		}
		if usesB[k] {
			wrt, at = append(wrt, all[2*(k-1)+1]), append(at, 2*(k-1)+1)
		}
	}
	if usesA0 {
		wrt, at = append(wrt, n.A0), append(at, len(all)-1)
	}
	grads, err := G.Grad(n.Loss, wrt...)
	if err != nil {
		return err
	}
	n.Grads = make(G.Nodes, len(all))
	for i, g := range grads {
		n.Grads[at[i]] = g
	}
	return nil
}

// init creates the graph with one W and one B node per layer, bound to the
// shared parameter tensors, and the a⁰ node.
func (n *chain) init(p *Params, batch int) error {
	n.Params, n.Graph, n.batch = p, G.NewGraph(), batch
	g, dt := n.Graph, p.Dtype()
	for k, spec := range p.Arch {
		in, out := p.Shapes[k], p.Shapes[k+1]
		l := &Layer{Index: k + 1, Spec: spec, In: in, Out: out}
		l.W = G.NewTensor(g, dt, p.W[k].Dims(), G.WithShape(p.W[k].Shape()...), G.WithName(fmt.Sprintf("W%d", k+1)), G.WithValue(p.W[k]))
		l.B = G.NewTensor(g, dt, p.B[k].Dims(), G.WithShape(p.B[k].Shape()...), G.WithName(fmt.Sprintf("b%d", k+1)), G.WithValue(p.B[k]))
		l.geom.N = batch
		if spec.Kind == models.Conv {
			var ok bool
			if l.geom, ok = NewConvGeom(batch, in.C, in.H, in.W, spec.C, spec.K, spec.S); !ok {
				return fmt.Errorf("layer %d %v does not fit input %v", k+1, spec, in)
			}
		}
		n.Layers = append(n.Layers, l)
	}
	n.A0 = G.NewTensor(g, dt, 3, G.WithShape(p.A0.Shape()...), G.WithName("a0"), G.WithValue(p.A0))
	return nil
}

// stateShape is the batch shape of layer k's state: N×C×H×W for the image
// and convolutional layers, N×units for dense ones.
func (n *chain) stateShape(k int) tensor.Shape {
	return stateShape(n.Params, k, n.batch)
}

func stateShape(p *Params, k, batch int) tensor.Shape {
	s := p.Shapes[k]
	if k == 0 || p.Arch[k-1].Kind == models.Conv {
		return tensor.Shape{batch, s.C, s.H, s.W}
	}
	return tensor.Shape{batch, s.Size()}
}

// reverse runs the reverse chain from the batch of states r of layer from
// down to the image, eq. (18)–(20): x̄^{k−1} = σ((W^k)ᵀ x̄^k + b^{k−1}), drawing
// layer k−1 from its mean where draw(k−1) holds, and returns the image
// logits u = (W^1)ᵀ x̄^1 + a⁰ (q(x^0 = 1) = σ(s·u)).
func (n *chain) reverse(from int, r *G.Node, draw func(k int, mean *G.Node) (*G.Node, error)) (*G.Node, error) {
	act := activationOf(n.Params.Encoding)
	rows := r.Shape()[0] // the batch, or the rows of repeated draws
	for k := from; k >= 1; k-- {
		l := n.Layers[k-1]
		z, err := l.Reverse(r, stateShape(n.Params, k-1, rows))
		if err != nil {
			return nil, fmt.Errorf("layer %d reverse: %w", k, err)
		}
		if k == 1 {
			return biasAct(z, n.A0, actIdentity)
		}
		if r, err = biasAct(z, n.Layers[k-2].B, act); err != nil {
			return nil, fmt.Errorf("layer %d reverse: %w", k, err)
		}
		if draw != nil {
			if r, err = draw(k-1, r); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("reverse chain from layer %d", from)
}

// reverseLoss runs the reverse chain from state r of layer from and returns
// the per-pixel BCE against the images and the image probabilities.
func (n *Net) reverseLoss(from int, r *G.Node) (loss, probs *G.Node, err error) {
	var u *G.Node
	if n.Config.Inference == Moments {
		var ps *Pass
		if ps, err = n.reversePass(from, r, Moments); err == nil {
			u = ps.Logits
		}
	} else {
		u, err = n.reverse(from, r, nil)
	}
	if err != nil {
		return nil, nil, err
	}
	x := n.X
	if u.Shape()[0] != n.batch { // a chain from repeated draws
		if x, err = n.repeat(n.X); err != nil {
			return nil, nil, err
		}
	}
	s := pixelScaleOf(n.Params.Encoding)
	if loss, err = G.ApplyOp(&bceOp{scale: s, dims: 4}, u, x); err != nil {
		return nil, nil, err
	}
	if probs, err = G.ApplyOp(&affineOp{a: s, sigmoid: true, dims: 4}, u); err != nil {
		return nil, nil, err
	}
	return loss, probs, nil
}

// Learnables lists the parameter nodes in the order of Params.Names:
// exactly one node per W and b, plus a⁰.
func (n *chain) Learnables() G.Nodes {
	var ns G.Nodes
	for _, l := range n.Layers {
		ns = append(ns, l.W, l.B)
	}
	return append(ns, n.A0)
}

// SetBatch copies a batch of images (N·C·H·W grey levels in [0,1], NCHW)
// and labels into the graph's inputs. A short batch is padded by repeating
// its first example; callers average only over the real ones.
func (n *Net) SetBatch(images []float32, labels []uint8) error {
	N, size := n.Config.Batch, n.Params.Input.Size()
	if len(labels) == 0 || len(labels) > N || len(images) != len(labels)*size {
		return fmt.Errorf("batch of %d labels and %d pixels does not fit the graph's %d×%d", len(labels), len(images), N, size)
	}
	x, y := n.X.Value().(*tensor.Dense), n.Y.Value().(*tensor.Dense)
	k := n.Params.Classes
	for i := 0; i < N; i++ {
		src := i
		if src >= len(labels) {
			src = 0
		}
		if int(labels[src]) >= k {
			return fmt.Errorf("label %d out of range 0…%d", labels[src], k-1)
		}
		img := images[src*size : (src+1)*size]
		switch xd := x.Data().(type) {
		case []float32:
			copy(xd[i*size:], img)
			yd := y.Data().([]float32)[i*k : (i+1)*k]
			clear(yd)
			yd[labels[src]] = 1
		case []float64:
			for j, v := range img {
				xd[i*size+j] = float64(v)
			}
			yd := y.Data().([]float64)[i*k : (i+1)*k]
			clear(yd)
			yd[labels[src]] = 1
		}
	}
	return nil
}

// DrawNoise fills the noise of every forward draw from rng, the lowest
// layer first; it does nothing when the graph draws no layer.
func (n *Net) DrawNoise(rng *rand.Rand) {
	for k := range n.Params.Depth() { // the lowest layer first
		if noise, ok := n.Noise[k]; ok {
			fill(noise.Value().(*tensor.Dense), rng.Float64)
		}
	}
	for _, noise := range n.sleepNoise { // then the sleep term's, top first
		fill(noise.Value().(*tensor.Dense), rng.Float64)
	}
}

// Run evaluates the graph once on the current inputs.
func (n *chain) Run() error {
	n.vm.Reset()
	return n.vm.RunAll()
}

// Close releases the graph's machine.
func (n *chain) Close() error { return n.vm.Close() }

// Scalar reads a scalar node's value after Run (NaN if it has none).
func Scalar(node *G.Node) float64 {
	if node == nil || node.Value() == nil {
		return math.NaN()
	}
	return scalarOf(node.Value())
}

// Argmax returns the index of the largest value of row (the first one on
// ties): the predicted class of a row of class probabilities.
func Argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}
