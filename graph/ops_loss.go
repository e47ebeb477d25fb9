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
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, softmaxKernel[float32], softmaxKernel[float64])
}

func softmaxKernel[T Float](_ *softmaxOp, p []T, in []G.Value) {
	softmaxRows(floats[T](in[0]), p, cols(in[0].Shape()))
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
	return doScalar(op, in, crossEntropyKernel[float32], crossEntropyKernel[float64])
}

func crossEntropyKernel[T Float](_ crossEntropyOp, in []G.Value) float64 {
	return crossEntropy(floats[T](in[0]), floats[T](in[1]), cols(in[0].Shape()), nil, 0)
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
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, crossEntropyBackKernel[float32], crossEntropyBackKernel[float64])
}

func crossEntropyBackKernel[T Float](_ *crossEntropyBackOp, dz []T, in []G.Value) {
	crossEntropy(floats[T](in[0]), floats[T](in[1]), cols(in[0].Shape()), dz, scalarOf(in[2]))
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
// eq. (9)). Its derivative in u, bceBackOp, is computed afresh from u and
// x; the sweep here keeps σ(s·u) in a scratch buffer of its own.
type bceOp struct {
	opBase
	scale float64
	dims  int
	// diffTarget also differentiates in the targets x: −s·u/len(u), for
	// targets that are straight-through draws.
	diffTarget bool
	work       output // scratch: σ(s·u) and the gradient of bce and bce32
	parts      []float64
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
	if n := workers(rows(in[0].Shape())); len(op.parts) < n {
		op.parts = make([]float64, n)
	}
	op.work.get(in[0].Dtype(), in[0].Shape())
	return doScalar(op, in, bceKernel32, bceKernel64)
}

func bceKernel32(op *bceOp, in []G.Value) float64 {
	return bce32(float32(op.scale), floats[float32](in[0]), floats[float32](in[1]), floats[float32](op.work.t), rows(in[0].Shape()), op.parts)
}

func bceKernel64(op *bceOp, in []G.Value) float64 {
	return bce(op.scale, floats[float64](in[0]), floats[float64](in[1]), floats[float64](op.work.t), rows(in[0].Shape()), op.parts)
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

func (op *bceOp) String() string {
	if op.diffTarget {
		return fmt.Sprintf("BCE{%g,%d,dx}", op.scale, op.dims)
	}
	return fmt.Sprintf("BCE{%g,%d}", op.scale, op.dims)
}
func (op *bceOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bceOp) Hashcode() uint32      { return hashOf(op) }
func (op *bceOp) DiffWRT(int) []bool    { return []bool{true, op.diffTarget} }
func (op *bceOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	du, err := G.ApplyOp(&bceBackOp{scale: op.scale, dims: op.dims}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	if !op.diffTarget {
		return G.Nodes{du, nil}, nil
	}
	// ∂/∂x of the mean of softplus(s·u) − x·s·u is −s·u/len(u).
	dx, err := G.ApplyOp(&affineOp{a: -op.scale / float64(in[0].Shape().TotalSize()), dims: op.dims}, in[0])
	if err != nil {
		return nil, err
	}
	if dx, err = G.Mul(dx, grad); err != nil {
		return nil, err
	}
	return G.Nodes{du, dx}, nil
}

// bceBackOp is the derivative of bceOp in its logits u, for targets x and
// upstream gradient g: g·s·(σ(s·u) − x)/len(u).
type bceBackOp struct {
	opBase
	scale float64
	dims  int
	out   output
}

func (op *bceBackOp) Arity() int { return 3 }
func (op *bceBackOp) Type() hm.Type {
	t := tensorType(op.dims)
	return fnType(t, t, hm.TypeVariable('a'), t)
}
func (op *bceBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *bceBackOp) Do(in ...G.Value) (G.Value, error) {
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, bceBackKernel[float32], bceBackKernel[float64])
}

// bceBackKernel writes du = g·s·(σ(s·u) − x)/len(u), rows split across
// cores, σ from the vector tanh kernel for float32. It rounds as bce and
// bce32 round their gradient, s·(σ − x)/len(u) and then the factor g, so
// that a training run's figures do not depend on which op forms it.
func bceBackKernel[T Float](op *bceBackOp, du []T, in []G.Value) {
	u, x, g := floats[T](in[0]), floats[T](in[1]), T(scalarOf(in[2]))
	s, inv := op.scale, 1/float64(len(u))
	n := rows(in[0].Shape())
	per := len(u) / n
	chunks(n, per, func(_, lo, hi int) {
		d, uu, xx := du[lo*per:hi*per], u[lo*per:hi*per], x[lo*per:hi*per]
		if d32, ok := any(d).([]float32); ok {
			s32, inv32 := float32(s), 1/float32(len(u))
			tanhAffine32(d32, any(uu).([]float32), 0, 0.5*s32, 0.5, 0.5)
			for i, v := range any(xx).([]float32) {
				d32[i] = s32 * (d32[i] - v) * inv32
			}
		} else {
			for i, v := range uu {
				d[i] = T(s * (sigmoid(s*float64(v)) - float64(xx[i])) * inv)
			}
		}
		if g != 1 {
			for i := range d {
				d[i] *= g
			}
		}
	})
}

func (op *bceBackOp) String() string        { return fmt.Sprintf("BCEBack{%g,%d}", op.scale, op.dims) }
func (op *bceBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bceBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *bceBackOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *bceBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}

// affineOp computes a·x + c elementwise: it maps data (grey levels,
// probabilities) between encodings, e.g. 2x−1 for ±1 units, or σ(s·u) when
// sigmoid is set. It is differentiated only when diff is set (and sigmoid
// is not): for straight-through draws.
type affineOp struct {
	opBase
	a, c    float64
	sigmoid bool
	diff    bool
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
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, affineKernel[float32], affineKernel[float64])
}

func affineKernel[T Float](op *affineOp, y []T, in []G.Value) {
	x := floats[T](in[0])
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
	if op.diff {
		return fmt.Sprintf("Affine{%g,%g,%t,diff,%d}", op.a, op.c, op.sigmoid, op.dims)
	}
	return fmt.Sprintf("Affine{%g,%g,%t,%d}", op.a, op.c, op.sigmoid, op.dims)
}
func (op *affineOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *affineOp) Hashcode() uint32      { return hashOf(op) }
func (op *affineOp) DiffWRT(n int) []bool  { return []bool{op.diff && !op.sigmoid} }
func (op *affineOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	if !op.diff || op.sigmoid {
		return nil, errNoDiff(op)
	}
	dx, err := G.ApplyOp(&affineOp{a: op.a, dims: op.dims}, grad)
	return G.Nodes{dx}, err
}

// bernoulliOp draws a layer's state from its mean m with uniform noise u in
// [0,1): a {0,1} unit is 1 when u < m; a ±1 unit is +1 when u < (1+m)/2.
// No gradient flows through a draw (eq. 22) unless straight is set: then
// the gradient of the draw passes to m unchanged (see StraightThrough).
type bernoulliOp struct {
	opBase
	spin     bool
	straight bool
	dims     int
	out      output
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
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, bernoulliKernel[float32], bernoulliKernel[float64])
}

func bernoulliKernel[T Float](op *bernoulliOp, s []T, in []G.Value) {
	bernoulli(op.spin, floats[T](in[0]), floats[T](in[1]), s)
}

// bernoulli draws without branches (the draws are random, so a branch
// would be mispredicted half the time): the sign bit of u − p is 1
// exactly when u < p. The draw is split across cores.
func bernoulli[T Float](spin bool, m, u, s []T) {
	chunks(len(m), 1, func(_, lo, hi int) {
		lo += bernoulliVec(spin, m[lo:hi], u[lo:hi], s[lo:hi])
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

func (op *bernoulliOp) String() string {
	if op.straight {
		return fmt.Sprintf("Bernoulli{spin:%t,straight,%d}", op.spin, op.dims)
	}
	return fmt.Sprintf("Bernoulli{spin:%t,%d}", op.spin, op.dims)
}
func (op *bernoulliOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bernoulliOp) Hashcode() uint32      { return hashOf(op) }
func (op *bernoulliOp) DiffWRT(n int) []bool  { return []bool{op.straight, false} }
func (op *bernoulliOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	if !op.straight {
		return nil, errNoDiff(op)
	}
	return G.Nodes{grad, nil}, nil
}
