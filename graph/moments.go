package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mean-and-variance propagation (Shekhovtsov, Flach and Busta 2018,
// "Feed-forward uncertainty propagation in belief and neural networks"):
// every layer carries the mean m and the variance v of its units, read as
// independent. The pre-activation a = W·x + b of the next layer then has
// mean W·m + b and variance (W∘W)·v (dense or convolutional alike), and is
// read as Gaussian N(μ, s²); the expectation of the layer's activation
// under it is approximated by the probit-style formula
//
//	E[σ(a)]    ≈ σ(μ / √(1 + π s²/8))
//	E[tanh(a)] ≈ tanh(μ / √(1 + π s²/2))   (tanh(a) = 2σ(2a) − 1)
//
// and a binary unit's variance follows from its mean: m(1−m) for {0,1}
// units, 1−m² for ±1 units. The class logits and the image logits are
// scaled the same way, a ↦ μ / √(1 + π s² σ²/8) for a unit read through
// σ(σ·a) (σ = 1 for classes and {0,1} pixels, 2 for ±1 pixels).
//
// A training graph runs the method through chain.forwardPass and
// chain.reversePass with Moments: the CE of eq. (15) on the forward pass's
// Logits and the BCE of eq. (21) (from the one-hot label) or eq. (22)
// (from a draw of layer d−1's mean) on the reverse pass's Logits, both
// differentiable; with MeanField the passes build exactly the training
// graph's ops.

// momentAct returns act((z + b)/√(1 + c·zv)), the layer's mean under
// Gaussian pre-activations of mean z + b and variance zv, with c chosen
// for act as above and scale the pixel scale of an image layer (1
// otherwise). When zv is nil the pre-activation is known exactly and the
// result is biasAct's act(z + b).
func momentAct(z, zv, b *G.Node, act activation, scale float64) (*G.Node, error) {
	if zv == nil {
		return biasAct(z, b, act)
	}
	c := math.Pi / 8
	switch act {
	case actTanh:
		c = math.Pi / 2
	case actIdentity:
		c = math.Pi * scale * scale / 8
	}
	return G.ApplyOp(&momentActOp{act: act, c: c, zDims: z.Dims(), bDims: b.Dims()}, z, zv, b)
}

// unitVar returns the variance of binary units of mean m: m(1−m) for
// {0,1} units, 1−m² for ±1 units.
func unitVar(m *G.Node, enc Encoding) (*G.Node, error) {
	kind := elemVarBinary
	if enc == Spin {
		kind = elemVarSpin
	}
	return G.ApplyOp(&elemOp{kind: kind, dims: m.Dims()}, m)
}

// shapesOf checks an op's arity and returns its inputs' shapes.
func shapesOf(op G.Op, ds []G.DimSizer) ([]tensor.Shape, error) {
	if err := checkArity(op, len(ds)); err != nil {
		return nil, err
	}
	ss := make([]tensor.Shape, len(ds))
	for i, d := range ds {
		s, err := shapeOf(d)
		if err != nil {
			return nil, err
		}
		ss[i] = s
	}
	return ss, nil
}

// momentActOp computes y = act((z + b)/√(1 + c·v)) for a pre-activation
// of mean z + b and variance v, the bias broadcast as in biasActOp.
type momentActOp struct {
	opBase
	act          activation
	c            float64
	zDims, bDims int
	out          output
}

func (op *momentActOp) Arity() int { return 3 }
func (op *momentActOp) Type() hm.Type {
	t := tensorType(op.zDims)
	return fnType(t, t, tensorType(op.bDims), t)
}

func (op *momentActOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapesOf(op, ds)
	if err != nil {
		return nil, err
	}
	if !ss[0].Eq(ss[1]) {
		return nil, fmt.Errorf("%v: mean %v and variance %v differ in shape", op, ss[0], ss[1])
	}
	if cols(ss[0])%ss[2].TotalSize() != 0 {
		return nil, fmt.Errorf("%v: bias %v does not broadcast over %v", op, ss[2], ss[0])
	}
	return ss[0].Clone(), nil
}

func (op *momentActOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	n := rows(in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		momentActFwd(op.act, op.c, floats[float32](in[0]), floats[float32](in[1]), floats[float32](in[2]), floats[float32](out), n)
	case tensor.Float64:
		momentActFwd(op.act, op.c, floats[float64](in[0]), floats[float64](in[1]), floats[float64](in[2]), floats[float64](out), n)
	}
	return out, nil
}

// momentActFwd writes y = act((z + b)/√(1 + c·v)) for n rows.
func momentActFwd[T Float](act activation, c float64, z, v, b, y []T, n int) {
	per := len(z) / n
	sp := per / len(b)
	chunks(n, per, func(_, lo, hi int) {
		for i := lo * per; i < hi*per; i++ {
			t := (float64(z[i]) + float64(b[(i%per)/sp])) / math.Sqrt(1+c*float64(v[i]))
			y[i] = T(t)
		}
		activate(act, y[lo*per:hi*per])
	})
}

func (op *momentActOp) String() string {
	return fmt.Sprintf("MomentAct{%s,%g,%d,%d}", actNames[op.act], op.c, op.zDims, op.bDims)
}
func (op *momentActOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *momentActOp) Hashcode() uint32      { return hashOf(op) }
func (op *momentActOp) DiffWRT(int) []bool    { return []bool{true, true, true} }

// SymDiff: with r = 1/√(1 + c·v), t = (z + b)·r and y = act(t),
// dz = dy·act'(t)·r, dv = −dy·act'(t)·t·c·r²/2, and db sums dz over the
// axes the bias was broadcast along.
func (op *momentActOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	var ds [2]*G.Node
	for wrt := range ds {
		back := &momentBackOp{fwd: op, wrt: wrt}
		d, err := G.ApplyOp(back, in[0], in[1], in[2], out, grad)
		if err != nil {
			return nil, err
		}
		ds[wrt] = d
	}
	db, err := G.ApplyOp(&biasSumOp{zDims: op.zDims, bShape: in[2].Shape().Clone()}, ds[0])
	if err != nil {
		return nil, err
	}
	return G.Nodes{ds[0], ds[1], db}, nil
}

// momentBackOp is the derivative of a momentActOp in its mean (wrt 0) or
// its variance (wrt 1), from the inputs z, v, b, the output y and the
// upstream gradient dy.
type momentBackOp struct {
	opBase
	fwd *momentActOp
	wrt int
	out output
}

func (op *momentBackOp) Arity() int { return 5 }
func (op *momentBackOp) Type() hm.Type {
	t := tensorType(op.fwd.zDims)
	return fnType(t, t, tensorType(op.fwd.bDims), t, t, t)
}
func (op *momentBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *momentBackOp) Do(in ...G.Value) (G.Value, error) {
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	n := rows(in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		momentActBack(op.fwd.act, op.fwd.c, op.wrt, floats[float32](in[0]), floats[float32](in[1]), floats[float32](in[2]), floats[float32](in[3]), floats[float32](in[4]), floats[float32](out), n)
	case tensor.Float64:
		momentActBack(op.fwd.act, op.fwd.c, op.wrt, floats[float64](in[0]), floats[float64](in[1]), floats[float64](in[2]), floats[float64](in[3]), floats[float64](in[4]), floats[float64](out), n)
	}
	return out, nil
}

func momentActBack[T Float](act activation, c float64, wrt int, z, v, b, y, dy, dx []T, n int) {
	per := len(z) / n
	sp := per / len(b)
	chunks(n, per, func(_, lo, hi int) {
		for i := lo * per; i < hi*per; i++ {
			r := 1 / math.Sqrt(1+c*float64(v[i]))
			yi := float64(y[i])
			g := float64(dy[i])
			switch act {
			case actSigmoid:
				g *= yi * (1 - yi)
			case actTanh:
				g *= 1 - yi*yi
			}
			if wrt == 0 {
				dx[i] = T(g * r)
				continue
			}
			t := (float64(z[i]) + float64(b[(i%per)/sp])) * r
			dx[i] = T(-g * t * c * r * r / 2)
		}
	})
}

func (op *momentBackOp) String() string {
	return fmt.Sprintf("MomentBack{%v,%d}", op.fwd, op.wrt)
}
func (op *momentBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *momentBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *momentBackOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *momentBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}

// elemKind names the elementwise maps of elemOp.
type elemKind int

const (
	elemVarBinary     elemKind = iota // m(1−m)
	elemVarSpin                       // 1−m²
	elemSquare                        // w²
	elemVarBinaryBack                 // dy·(1−2m)
	elemVarSpinBack                   // −2m·dy
	elemSquareBack                    // 2w·dy
)

var elemNames = [...]string{"VarBinary", "VarSpin", "Square", "VarBinaryBack", "VarSpinBack", "SquareBack"}

// elemOp is an elementwise map of one tensor (the unit variances of
// mean-and-variance propagation, and the squared weights that carry them
// through a layer), or, for the back kinds, its derivative: the map's
// derivative at the first input times the upstream gradient, the second.
type elemOp struct {
	opBase
	kind elemKind
	dims int
	out  output
}

func (op *elemOp) back() bool { return op.kind >= elemVarBinaryBack }

func (op *elemOp) Arity() int {
	if op.back() {
		return 2
	}
	return 1
}
func (op *elemOp) Type() hm.Type {
	t := tensorType(op.dims)
	if op.back() {
		return fnType(t, t, t)
	}
	return fnType(t, t)
}
func (op *elemOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *elemOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		elemMap(op.kind, in, floats[float32](out))
	case tensor.Float64:
		elemMap(op.kind, in, floats[float64](out))
	}
	return out, nil
}

func elemMap[T Float](kind elemKind, in []G.Value, y []T) {
	x := floats[T](in[0])
	var dy []T
	if len(in) > 1 {
		dy = floats[T](in[1])
	}
	for i, m := range x {
		switch kind {
		case elemVarBinary:
			y[i] = m * (1 - m)
		case elemVarSpin:
			y[i] = 1 - m*m
		case elemSquare:
			y[i] = m * m
		case elemVarBinaryBack:
			y[i] = dy[i] * (1 - 2*m)
		case elemVarSpinBack:
			y[i] = -2 * m * dy[i]
		case elemSquareBack:
			y[i] = 2 * m * dy[i]
		}
	}
}

func (op *elemOp) String() string        { return fmt.Sprintf("Elem{%s,%d}", elemNames[op.kind], op.dims) }
func (op *elemOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *elemOp) Hashcode() uint32      { return hashOf(op) }
func (op *elemOp) DiffWRT(n int) []bool {
	if op.back() {
		return noDiff(n)
	}
	return []bool{true}
}
func (op *elemOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	if op.back() {
		return nil, errNoDiff(op)
	}
	d, err := G.ApplyOp(&elemOp{kind: op.kind + elemVarBinaryBack, dims: op.dims}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// pairwiseSoftmaxOp is the class posterior of the moment method for a
// dense class layer: p(x^d = k) = E[1/(1 + Σ_{j≠k} exp(a_j − a_k))] with
// each difference a_k − a_j read as Gaussian, of mean μ_k − μ_j and the
// variance Σ_i (W_ki − W_ji)² v_i that independent units of layer d−1
// give it (the differences, unlike the logits, carry the logits'
// correlation), and σ's expectation approximated as in momentAct:
//
//	p_k ∝ 1 / (1 + Σ_{j≠k} exp(−(μ_k − μ_j)/√(1 + π s²_kj/8)))
//
// normalised over k. For two classes it is exactly momentAct's formula for
// σ(a_1 − a_2). Its inputs are the logits' means μ (N×K, bias included),
// the variances v of layer d−1 (N × its size) and the class layer's W
// (K × that size). It is for evaluation: it has no derivative (training
// uses the forward pass's Logits).
type pairwiseSoftmaxOp struct {
	opBase
	vDims int
	out   output
}

// pairwiseSoftmax returns the pairwise class posterior of logit means mu.
func pairwiseSoftmax(mu, v, w *G.Node) (*G.Node, error) {
	return G.ApplyOp(&pairwiseSoftmaxOp{vDims: v.Dims()}, mu, v, w)
}

func (op *pairwiseSoftmaxOp) Arity() int { return 3 }
func (op *pairwiseSoftmaxOp) Type() hm.Type {
	return fnType(tensorType(2), tensorType(op.vDims), tensorType(2), tensorType(2))
}
func (op *pairwiseSoftmaxOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapesOf(op, ds)
	if err != nil {
		return nil, err
	}
	if rows(ss[1]) != rows(ss[0]) || cols(ss[0]) != rows(ss[2]) || cols(ss[1]) != cols(ss[2]) {
		return nil, fmt.Errorf("%v: logits %v, variances %v and weights %v do not fit", op, ss[0], ss[1], ss[2])
	}
	return ss[0].Clone(), nil
}
func (op *pairwiseSoftmaxOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	k := cols(in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		pairwiseProbs(floats[float32](in[0]), floats[float32](in[1]), floats[float32](in[2]), floats[float32](out), k)
	case tensor.Float64:
		pairwiseProbs(floats[float64](in[0]), floats[float64](in[1]), floats[float64](in[2]), floats[float64](out), k)
	}
	return out, nil
}

// pairwiseProbs writes the pairwise posterior of each row, rows split
// across cores.
func pairwiseProbs[T Float](mu, v, w, p []T, k int) {
	n := len(mu) / k
	in := len(w) / k
	const c = math.Pi / 8
	chunks(n, k*k*in, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			m, vr, pr := mu[r*k:(r+1)*k], v[r*in:(r+1)*in], p[r*k:(r+1)*k]
			var total float64
			for a := range k {
				t := 1.0
				wa := w[a*in : (a+1)*in]
				for b := range k {
					if b == a {
						continue
					}
					wb := w[b*in : (b+1)*in]
					var s2 float64
					for i, x := range vr {
						d := float64(wa[i] - wb[i])
						s2 += d * d * float64(x)
					}
					t += math.Exp(-float64(m[a]-m[b]) / math.Sqrt(1+c*s2))
				}
				pr[a] = T(1 / t)
				total += 1 / t
			}
			for a := range pr {
				pr[a] = T(float64(pr[a]) / total)
			}
		}
	})
}

func (op *pairwiseSoftmaxOp) String() string        { return fmt.Sprintf("PairwiseSoftmax{%d}", op.vDims) }
func (op *pairwiseSoftmaxOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *pairwiseSoftmaxOp) Hashcode() uint32      { return hashOf(op) }
func (op *pairwiseSoftmaxOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *pairwiseSoftmaxOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}
