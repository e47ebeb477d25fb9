package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"dcim/models"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Objective is what training maximises (DESIGN.md §2); the graph's Loss is
// its negative, per example.
type Objective int

const (
	// Discriminative is log p(x^d | x^0) alone (§2.2).
	Discriminative Objective = iota
	// Generative adds log q(x^0 | x^d), the reverse chain run from the
	// one-hot label (eq. 21).
	Generative
	// GenerativeSampled adds log q(x^0 | x^{d-1}), the reverse chain run
	// from a Bernoulli draw of layer d−1 of the forward pass (eq. 22).
	GenerativeSampled
)

var objectiveNames = [...]string{"discriminative", "generative", "generative-sampled"}

// String returns the command-line spelling of the objective.
func (o Objective) String() string { return objectiveNames[o] }

// ParseObjective reads "discriminative", "generative" or "generative-sampled".
func ParseObjective(s string) (Objective, error) {
	for i, n := range objectiveNames {
		if s == n {
			return Objective(i), nil
		}
	}
	return 0, fmt.Errorf("unknown objective %q (want discriminative, generative or generative-sampled)", s)
}

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
	if l.Spec.Kind == models.Conv {
		return applyConv(convFwd, l.geom, h, l.W)
	}
	return matMul(h, l.W, false, true, tensor.Shape{l.geom.N, l.Out.Size()})
}

// Reverse returns Wᵀ·r, the reverse pre-activation of layer k−1 for the
// batch of states r of layer k: the adjoint of Forward, with the same W.
func (l *Layer) Reverse(r *G.Node, inShape tensor.Shape) (*G.Node, error) {
	if l.Spec.Kind == models.Conv {
		return applyConv(convTrans, l.geom, r, l.W)
	}
	return matMul(r, l.W, false, false, inShape)
}

// Config says what graph New builds.
type Config struct {
	Objective Objective
	Lambda    float64 // λ, the reverse loss weight (1 if zero)
	Batch     int
	// AllTerms builds both reverse losses, eq. (21) and eq. (22), whatever
	// the objective, so that evaluation can report both.
	AllTerms bool
	// Grad adds the gradient of Loss with respect to every learnable.
	Grad bool
}

// Net is one expression graph holding a DCIM's forward chain, its reverse
// chain(s) and the loss of one objective, for a fixed batch size.
type Net struct {
	chain
	Config Config

	// Inputs, owned by the Net and filled by SetBatch and DrawNoise.
	X     *G.Node // images, N×C×H×W grey levels in [0,1]
	Y     *G.Node // one-hot labels, N×classes
	Noise *G.Node // uniform noise for the draw of layer d−1 (nil unless eq. 22 is built)

	States []*G.Node // forward mean-field states x̄^0 … x̄^{d−1} (x̄^0 is the encoded image)
	Logits *G.Node   // class logits a^d, N×classes
	Probs  *G.Node   // p(x^d | x^0), eq. (15)

	CE      *G.Node // mean −log p(label | x^0)
	BCE21   *G.Node // per-pixel reverse BCE of q(x^0 | onehot(label)), eq. (21); nil if not built
	BCE22   *G.Node // per-pixel reverse BCE of q(x^0 | s), s ~ x̄^{d−1}, eq. (22); nil if not built
	Recon21 *G.Node // q(x^0 = 1 | onehot(label)), N×C×H×W
	Recon22 *G.Node // q(x^0 = 1 | s)
	Sample  *G.Node // the draw s of layer d−1
	Loss    *G.Node // CE + λ·BCE of the objective
	Grads   G.Nodes // ∂Loss/∂Learnables(), when Config.Grad; nil where the loss does not depend on it

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

// New builds the graph of cfg for the parameters p.
func New(p *Params, cfg Config) (*Net, error) {
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", cfg.Batch)
	}
	if cfg.Lambda == 0 {
		cfg.Lambda = 1
	}
	d := p.Depth()
	needSampled := cfg.Objective == GenerativeSampled || cfg.AllTerms
	if cfg.Objective == GenerativeSampled && d < 2 {
		return nil, fmt.Errorf("objective %v needs a hidden layer to draw; arch %v has none", cfg.Objective, p.Arch)
	}
	needSampled = needSampled && d >= 2
	n := &Net{Config: cfg}
	if err := n.init(p, cfg.Batch); err != nil {
		return nil, err
	}
	g, dt, N := n.Graph, p.Dtype(), cfg.Batch
	in := p.Input
	n.X = G.NewTensor(g, dt, 4, G.WithShape(N, in.C, in.H, in.W), G.WithName("x"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(N, in.C, in.H, in.W))))
	n.Y = G.NewMatrix(g, dt, G.WithShape(N, p.Classes), G.WithName("y"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(N, p.Classes))))

	// Forward chain, eq. (14)–(15).
	var err error
	h := n.X
	if p.Encoding == Spin {
		if h, err = G.ApplyOp(&affineOp{a: 2, c: -1, dims: 4}, n.X); err != nil {
			return nil, err
		}
	}
	n.States = append(n.States, h)
	act := activationOf(p.Encoding)
	for _, l := range n.Layers[:d-1] {
		z, err := l.Forward(h)
		if err != nil {
			return nil, fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		if h, err = biasAct(z, l.B, act); err != nil {
			return nil, fmt.Errorf("layer %d forward: %w", l.Index, err)
		}
		n.States = append(n.States, h)
	}
	top := n.Layers[d-1]
	z, err := top.Forward(h)
	if err != nil {
		return nil, fmt.Errorf("layer %d forward: %w", d, err)
	}
	if n.Logits, err = biasAct(z, top.B, actIdentity); err != nil {
		return nil, err
	}
	if n.Probs, err = G.ApplyOp(&softmaxOp{}, n.Logits); err != nil {
		return nil, err
	}
	if n.CE, err = G.ApplyOp(crossEntropyOp{}, n.Logits, n.Y); err != nil {
		return nil, err
	}

	// Reverse chains, eq. (18)–(20), and their losses.
	if cfg.Objective == Generative || cfg.AllTerms {
		if n.BCE21, n.Recon21, err = n.reverseLoss(d, n.Y); err != nil {
			return nil, err
		}
	}
	if needSampled {
		m := n.States[d-1]
		n.Noise = G.NewTensor(g, dt, m.Dims(), G.WithShape(m.Shape()...), G.WithName("noise"), G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(m.Shape()...))))
		if n.Sample, err = G.ApplyOp(&bernoulliOp{spin: p.Encoding == Spin, dims: m.Dims()}, m, n.Noise); err != nil {
			return nil, err
		}
		if n.BCE22, n.Recon22, err = n.reverseLoss(d-1, n.Sample); err != nil {
			return nil, err
		}
	}

	// The objective's loss.
	n.Loss = n.CE
	var rev *G.Node
	switch cfg.Objective {
	case Generative:
		rev = n.BCE21
	case GenerativeSampled:
		rev = n.BCE22
	}
	if rev != nil {
		lambda := G.NewConstant(scalarValue(dt, cfg.Lambda), G.WithName("λ"))
		weighted, err := G.Mul(rev, lambda)
		if err != nil {
			return nil, err
		}
		if n.Loss, err = G.Add(n.CE, weighted); err != nil {
			return nil, err
		}
	}
	if cfg.Grad {
		if err := n.addGrads(); err != nil {
			return nil, fmt.Errorf("differentiating the %v loss: %w", cfg.Objective, err)
		}
	}
	n.vm = G.NewTapeMachine(g)
	return n, nil
}

// addGrads adds ∂Loss/∂θ for every learnable θ. The discriminative loss
// does not depend on a⁰: its gradient is left nil (zero).
func (n *Net) addGrads() error {
	wrt := n.Learnables()
	if n.Config.Objective == Discriminative {
		wrt = wrt[:len(wrt)-1]
	}
	grads, err := G.Grad(n.Loss, wrt...)
	if err != nil {
		return err
	}
	n.Grads = make(G.Nodes, len(n.Learnables()))
	copy(n.Grads, grads)
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
	for k := from; k >= 1; k-- {
		l := n.Layers[k-1]
		z, err := l.Reverse(r, n.stateShape(k-1))
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
	u, err := n.reverse(from, r, nil)
	if err != nil {
		return nil, nil, err
	}
	s := pixelScaleOf(n.Params.Encoding)
	if loss, err = G.ApplyOp(&bceOp{scale: s, dims: 4}, u, n.X); err != nil {
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

// DrawNoise fills the noise input of eq. (22)'s draw from rng; it does
// nothing when the graph has no draw.
func (n *Net) DrawNoise(rng *rand.Rand) {
	if n.Noise != nil {
		fill(n.Noise.Value().(*tensor.Dense), rng.Float64)
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
