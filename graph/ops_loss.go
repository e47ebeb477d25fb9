package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// softmaxOp turns class logits (N×K) into the class posterior
// p(x^d | x^0) of eq. (15) for a categorical class unit.
type softmaxOp struct {
	opBase
	out output
}

func (op *softmaxOp) Arity() int    { return 1 }
func (op *softmaxOp) Type() hm.Type { return fnType(tensorType(2), tensorType(2)) }
func (op *softmaxOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *softmaxOp) Do(in ...G.Value) (G.Value, error) {
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	k := cols(in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		o := floats[float32](out)
		softmaxRows(floats[float32](in[0]), o, k)
	case tensor.Float64:
		o := floats[float64](out)
		softmaxRows(floats[float64](in[0]), o, k)
	}
	return out, nil
}

func softmaxRows[T Float](z, p []T, k int) {
	for r := 0; r < len(z); r += k {
		m := z[r]
		for _, v := range z[r : r+k] {
			m = max(m, v)
		}
		var s float64
		for j, v := range z[r : r+k] {
			e := math.Exp(float64(v - m))
			p[r+j] = T(e)
			s += e
		}
		for j := r; j < r+k; j++ {
			p[j] = T(float64(p[j]) / s)
		}
	}
}

func (op *softmaxOp) String() string                                     { return "Softmax" }
func (op *softmaxOp) WriteHash(h hash.Hash)                              { writeHash(h, op) }
func (op *softmaxOp) Hashcode() uint32                                   { return hashOf(op) }
func (op *softmaxOp) DiffWRT(n int) []bool                               { return noDiff(n) }
func (op *softmaxOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) { return nil, errNoDiff(op) }

// crossEntropyOp is the mean over the batch of −Σ_k t_k log softmax(z)_k,
// the negative log-likelihood −log p(x^d | x^0) of the forward model, for
// logits z (N×K) and one-hot targets t.
type crossEntropyOp struct{ opBase }

func (op crossEntropyOp) Arity() int { return 2 }
func (op crossEntropyOp) Type() hm.Type {
	return fnType(tensorType(2), tensorType(2), hm.TypeVariable('a'))
}
func (op crossEntropyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op crossEntropyOp) Do(in ...G.Value) (G.Value, error) {
	k := cols(in[0].Shape())
	var v float64
	switch in[0].Dtype() {
	case tensor.Float32:
		z := floats[float32](in[0])
		v = crossEntropy(z, floats[float32](in[1]), k, nil, 0)
	case tensor.Float64:
		z := floats[float64](in[0])
		v = crossEntropy(z, floats[float64](in[1]), k, nil, 0)
	}
	return scalarValue(in[0].Dtype(), v), nil
}

// crossEntropy returns the mean cross-entropy; when dz is not nil it also
// writes the gradient g·(softmax(z) − t)/N into it.
func crossEntropy[T Float](z, t []T, k int, dz []T, g float64) float64 {
	n := len(z) / k
	var total float64
	for r := 0; r < len(z); r += k {
		m := z[r]
		for _, v := range z[r : r+k] {
			m = max(m, v)
		}
		var s float64
		for _, v := range z[r : r+k] {
			s += math.Exp(float64(v - m))
		}
		lse := float64(m) + math.Log(s)
		for j := r; j < r+k; j++ {
			if t[j] != 0 {
				total -= float64(t[j]) * (float64(z[j]) - lse)
			}
			if dz != nil {
				dz[j] = T(g * (math.Exp(float64(z[j])-lse) - float64(t[j])) / float64(n))
			}
		}
	}
	return total / float64(n)
}

func (op crossEntropyOp) String() string        { return "CrossEntropy" }
func (op crossEntropyOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op crossEntropyOp) Hashcode() uint32      { return hashOf(op) }
func (op crossEntropyOp) DiffWRT(int) []bool    { return []bool{true, false} }
func (op crossEntropyOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dz, err := G.ApplyOp(&crossEntropyBackOp{}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz, nil}, nil
}

// crossEntropyBackOp is the derivative of crossEntropyOp in its logits:
// g·(softmax(z) − t)/N.
type crossEntropyBackOp struct {
	opBase
	out output
}

func (op *crossEntropyBackOp) Arity() int { return 3 }
func (op *crossEntropyBackOp) Type() hm.Type {
	return fnType(tensorType(2), tensorType(2), hm.TypeVariable('a'), tensorType(2))
}
func (op *crossEntropyBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *crossEntropyBackOp) Do(in ...G.Value) (G.Value, error) {
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	k, g := cols(in[0].Shape()), scalarOf(in[2])
	switch out.Dtype() {
	case tensor.Float32:
		o := floats[float32](out)
		crossEntropy(floats[float32](in[0]), floats[float32](in[1]), k, o, g)
	case tensor.Float64:
		o := floats[float64](out)
		crossEntropy(floats[float64](in[0]), floats[float64](in[1]), k, o, g)
	}
	return out, nil
}
func (op *crossEntropyBackOp) String() string        { return "CrossEntropyBack" }
func (op *crossEntropyBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *crossEntropyBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *crossEntropyBackOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *crossEntropyBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}

// bceOp is the reverse model's loss: the mean over all pixels of the
// binary cross-entropy −[x log q + (1−x) log(1−q)] of grey levels x ∈ [0,1]
// against q = σ(s·u), computed from the logits u as softplus(s·u) − x·s·u.
// s is 1 for {0,1} pixels and 2 for ±1 pixels (log q(x) = x·a − log 2cosh a,
// DESIGN.md §1). The same pass keeps s·(σ(s·u) − x)/len(u), the gradient
// in u, for bceBackOp: sigmoid and BCE are fused into one sweep.
type bceOp struct {
	opBase
	scale float64
	dims  int
	grad  output
	parts []float64
}

func (op *bceOp) Arity() int { return 2 }
func (op *bceOp) Type() hm.Type {
	return fnType(tensorType(op.dims), tensorType(op.dims), hm.TypeVariable('a'))
}
func (op *bceOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op *bceOp) Do(in ...G.Value) (G.Value, error) {
	if !in[0].Shape().Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%v: logits %v and targets %v differ in shape", op, in[0].Shape(), in[1].Shape())
	}
	du := op.grad.get(in[0].Dtype(), in[0].Shape())
	n := rows(in[0].Shape())
	if len(op.parts) < workers(n) {
		op.parts = make([]float64, workers(n))
	}
	var v float64
	switch in[0].Dtype() {
	case tensor.Float32:
		u := floats[float32](in[0])
		v = bce32(float32(op.scale), u, floats[float32](in[1]), floats[float32](du), n, op.parts)
	case tensor.Float64:
		u := floats[float64](in[0])
		v = bce(op.scale, u, floats[float64](in[1]), floats[float64](du), n, op.parts)
	}
	return scalarValue(in[0].Dtype(), v), nil
}

// bce returns the mean binary cross-entropy of n rows and writes
// s·(σ(s·u) − x)/len(u) into du; one exp and one log1p per pixel give both.
func bce[T Float](s float64, u, x, du []T, n int, parts []float64) float64 {
	per := len(u) / n
	inv := 1 / float64(len(u))
	p := chunks(n, per, func(w, lo, hi int) {
		var total float64
		for i := lo * per; i < hi*per; i++ {
			t := s * float64(u[i])
			e := math.Exp(-math.Abs(t))
			sig := 1 / (1 + e)
			if t < 0 {
				sig = e / (1 + e)
			}
			xi := float64(x[i])
			total += max(t, 0) + math.Log1p(e) - xi*t
			du[i] = T(s * (sig - xi) * inv)
		}
		parts[w] = total
	})
	var total float64
	for _, v := range parts[:p] {
		total += v
	}
	return total * inv
}

// bce32 is bce for float32: σ(s·u) comes from the vector tanh kernel
// (written into du first), softplus(t) = max(t, 0) − log σ(|t|) from a
// logarithm of σ(|t|) ∈ [½, 1], where it is well conditioned; the loss is
// summed in float64.
func bce32(s float32, u, x, du []float32, n int, parts []float64) float64 {
	per := len(u) / n
	inv := 1 / float32(len(u))
	p := chunks(n, per, func(w, lo, hi int) {
		d, uu, xx := du[lo*per:hi*per], u[lo*per:hi*per], x[lo*per:hi*per]
		tanhAffine32(d, uu, 0, 0.5*s, 0.5, 0.5)
		var total float64
		for i, sig := range d {
			t, xi := s*uu[i], xx[i]
			g := sig // σ(|t|)
			if t < 0 {
				g = 1 - sig
			}
			total += float64(max(t, 0) - logHalfOne(g) - xi*t)
			d[i] = s * (sig - xi) * inv
		}
		parts[w] = total
	})
	var total float64
	for _, v := range parts[:p] {
		total += v
	}
	return total / float64(len(u))
}

// logHalfOne is log g for g ∈ [½, 1] in float32, to about 1e-7 absolute:
// 2·atanh(z) with z = (g−1)/(g+1) ∈ [−⅓, 0], a series in z² to z¹³.
func logHalfOne(g float32) float32 {
	z := (g - 1) / (g + 1)
	z2 := z * z
	p := z2*(1.0/13) + 1.0/11
	p = z2*p + 1.0/9
	p = z2*p + 1.0/7
	p = z2*p + 1.0/5
	p = z2*p + 1.0/3
	p = z2*p + 1
	return 2 * z * p
}

func (op *bceOp) String() string        { return fmt.Sprintf("BCE{%g,%d}", op.scale, op.dims) }
func (op *bceOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bceOp) Hashcode() uint32      { return hashOf(op) }
func (op *bceOp) DiffWRT(int) []bool    { return []bool{true, false} }
func (op *bceOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	du, err := G.ApplyOp(&bceBackOp{fwd: op, shape: in[0].Shape().Clone()}, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{du, nil}, nil
}

// bceBackOp is the derivative of bceOp in its logits: the upstream
// gradient g times the gradient its forward op kept. It takes the loss
// node as input so that it runs after it.
type bceBackOp struct {
	opBase
	fwd   *bceOp
	shape tensor.Shape
	out   output
}

func (op *bceBackOp) Arity() int { return 2 }
func (op *bceBackOp) Type() hm.Type {
	return fnType(hm.TypeVariable('a'), hm.TypeVariable('a'), tensorType(len(op.shape)))
}
func (op *bceBackOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *bceBackOp) Do(in ...G.Value) (G.Value, error) {
	src := op.fwd.grad.t
	out := op.out.get(src.Dtype(), src.Shape())
	g := scalarOf(in[1])
	switch out.Dtype() {
	case tensor.Float32:
		o := floats[float32](out)
		scaleInto(o, floats[float32](src), float32(g))
	case tensor.Float64:
		o := floats[float64](out)
		scaleInto(o, floats[float64](src), g)
	}
	return out, nil
}

func scaleInto[T Float](dst, src []T, g T) {
	if g == 1 {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i] = g * v
	}
}

func (op *bceBackOp) String() string        { return fmt.Sprintf("BCEBack{%p}", op.fwd) }
func (op *bceBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bceBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *bceBackOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *bceBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}

// affineOp computes a·x + c elementwise and is not differentiated: it maps
// data (grey levels, probabilities) between encodings, e.g. 2x−1 for ±1
// units, or σ(s·u) when sigmoid is set.
type affineOp struct {
	opBase
	a, c    float64
	sigmoid bool
	dims    int
	out     output
}

func (op *affineOp) Arity() int { return 1 }
func (op *affineOp) Type() hm.Type {
	return fnType(tensorType(op.dims), tensorType(op.dims))
}
func (op *affineOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *affineOp) Do(in ...G.Value) (G.Value, error) {
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		o := floats[float32](out)
		affine(op, floats[float32](in[0]), o)
	case tensor.Float64:
		o := floats[float64](out)
		affine(op, floats[float64](in[0]), o)
	}
	return out, nil
}

func affine[T Float](op *affineOp, x, y []T) {
	if x32, ok := any(x).([]float32); ok && op.sigmoid && op.c == 0 {
		a := float32(op.a)
		tanhAffine32(any(y).([]float32), x32, 0, 0.5*a, 0.5, 0.5) // σ(a·x)
		return
	}
	for i, v := range x {
		t := op.a*float64(v) + op.c
		if op.sigmoid {
			t = sigmoid(t)
		}
		y[i] = T(t)
	}
}

func (op *affineOp) String() string {
	return fmt.Sprintf("Affine{%g,%g,%t,%d}", op.a, op.c, op.sigmoid, op.dims)
}
func (op *affineOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *affineOp) Hashcode() uint32      { return hashOf(op) }
func (op *affineOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *affineOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}

// bernoulliOp draws a layer's state from its mean m with uniform noise u in
// [0,1): a {0,1} unit is 1 when u < m; a ±1 unit is +1 when u < (1+m)/2.
// No gradient flows through a draw (eq. 22).
type bernoulliOp struct {
	opBase
	spin bool
	dims int
	out  output
}

func (op *bernoulliOp) Arity() int { return 2 }
func (op *bernoulliOp) Type() hm.Type {
	t := tensorType(op.dims)
	return fnType(t, t, t)
}
func (op *bernoulliOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *bernoulliOp) Do(in ...G.Value) (G.Value, error) {
	if !in[0].Shape().Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%v: noise %v does not match mean %v", op, in[1].Shape(), in[0].Shape())
	}
	out := op.out.get(in[0].Dtype(), in[0].Shape())
	switch out.Dtype() {
	case tensor.Float32:
		o := floats[float32](out)
		bernoulli(op.spin, floats[float32](in[0]), floats[float32](in[1]), o)
	case tensor.Float64:
		o := floats[float64](out)
		bernoulli(op.spin, floats[float64](in[0]), floats[float64](in[1]), o)
	}
	return out, nil
}

// bernoulli draws without branches (the draws are random, so a branch
// would be mispredicted half the time): the sign bit of u − p is 1
// exactly when u < p. The draw is split across cores.
func bernoulli[T Float](spin bool, m, u, s []T) {
	chunks(len(m), 1, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			p := m[i]
			if spin {
				p = (1 + p) / 2
			}
			on := T(math.Float64bits(float64(u[i])-float64(p)) >> 63)
			if spin {
				on = 2*on - 1
			}
			s[i] = on
		}
	})
}

func (op *bernoulliOp) String() string        { return fmt.Sprintf("Bernoulli{spin:%t,%d}", op.spin, op.dims) }
func (op *bernoulliOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bernoulliOp) Hashcode() uint32      { return hashOf(op) }
func (op *bernoulliOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *bernoulliOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}
