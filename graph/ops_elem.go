package graph

import (
	"fmt"
	"hash"
	"math"

	"dcim/graph/internal/simd"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// activation is a unit's mean-field nonlinearity: the logistic sigmoid for
// {0,1} units (eq. 7), tanh for ±1 units (eq. 9), or none (class logits).
type activation int

const (
	actIdentity activation = iota
	actSigmoid
	actTanh
)

var actNames = [...]string{"id", "sigmoid", "tanh"}

func sigmoid(t float64) float64 {
	if t >= 0 {
		return 1 / (1 + math.Exp(-t))
	}
	e := math.Exp(t)
	return e / (1 + e)
}

func activate[T Float](act activation, v []T) {
	if v32, ok := any(v).([]float32); ok {
		activate32(act, v32)
		return
	}
	switch act {
	case actSigmoid:
		for i, t := range v {
			v[i] = T(sigmoid(float64(t)))
		}
	case actTanh:
		for i, t := range v {
			v[i] = T(math.Tanh(float64(t)))
		}
	}
}

// activate32 is activate for float32, through tanh32: σ(t) = (1 + tanh(t/2))/2.
func activate32(act activation, v []float32) {
	switch act {
	case actSigmoid:
		tanhAffine32(v, v, 0, 0.5, 0.5, 0.5)
	case actTanh:
		tanhAffine32(v, v, 0, 1, 1, 0)
	}
}

// tanhAffine32 writes dst[i] = a + m·tanh32(s·(src[i] + b)): tanh (s = m = 1,
// a = 0) or the sigmoid (s = m = a = ½) of a biased pre-activation, eight
// lanes at a time where the CPU has AVX2 and FMA. dst may be src.
func tanhAffine32(dst, src []float32, b, s, m, a float32) {
	i := 0
	if simd.OK && len(dst) >= 8 {
		simd.TanhAffine(dst, src[:len(dst)], b, s, m, a)
		i = len(dst) &^ 7
	}
	for ; i < len(dst); i++ {
		dst[i] = a + m*tanh32(s*(src[i]+b))
	}
}

// tanh32 is tanh in float32 to within a few ulp, as a rational function
// of degree 13/6 on [−7.9, 7.9] (outside, tanh rounds to ±1): the
// approximation Eigen uses, several times faster than math.Tanh.
func tanh32(x float32) float32 {
	const c = 7.90531110763549805
	x = max(-c, min(c, x))
	x2 := x * x
	p := x2*-2.76076847742355e-16 + 2.00018790482477e-13
	p = x2*p + -8.60467152213735e-11
	p = x2*p + 5.12229709037114e-08
	p = x2*p + 1.48572235717979e-05
	p = x2*p + 6.37261928875436e-04
	p = x2*p + 4.89352455891786e-03
	p = x * p
	q := x2*1.19825839466702e-06 + 1.18534705686654e-04
	q = x2*q + 2.26843463243900e-03
	q = x2*q + 4.89352518554385e-03
	return p / q
}

// biasActOp computes y = act(z + b), the bias broadcast over the batch and
// over whatever follows it: z is N×B×S for a bias of B values (S = H·W for a
// convolutional layer's per-channel bias, S = 1 for a dense layer or the
// per-pixel image bias a⁰).
type biasActOp struct {
	opBase
	act   activation
	zDims int
	bDims int
	out   output
}

func biasAct(z, b *G.Node, act activation) (*G.Node, error) {
	return G.ApplyOp(&biasActOp{act: act, zDims: z.Dims(), bDims: b.Dims()}, z, b)
}

func (op *biasActOp) Arity() int { return 2 }
func (op *biasActOp) Type() hm.Type {
	return fnType(tensorType(op.zDims), tensorType(op.bDims), tensorType(op.zDims))
}

func (op *biasActOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if err := checkArity(op, len(ds)); err != nil {
		return nil, err
	}
	z, err := shapeOf(ds[0])
	if err != nil {
		return nil, err
	}
	b, err := shapeOf(ds[1])
	if err != nil {
		return nil, err
	}
	if c := cols(z); c%b.TotalSize() != 0 {
		return nil, fmt.Errorf("%v: bias %v does not broadcast over %v", op, b, z)
	}
	return z.Clone(), nil
}

func (op *biasActOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, biasActKernel[float32], biasActKernel[float64])
}

func biasActKernel[T Float](op *biasActOp, y []T, in []G.Value) {
	addBiasAct(op.act, floats[T](in[0]), floats[T](in[1]), y, rows(in[0].Shape()))
}

// addBiasAct writes y = act(z + b) for z of n rows of B×S values, rows
// split across cores. A per-channel bias (S > 1) and the activation are
// applied in one pass over each channel's span.
func addBiasAct[T Float](act activation, z, b, y []T, n int) {
	per := len(z) / n
	sp := per / len(b)
	chunks(n, per, func(_, lo, hi int) {
		if sp == 1 {
			for r := lo; r < hi; r++ {
				zr, yr := z[r*per:(r+1)*per], y[r*per:(r+1)*per]
				for j, c := range b {
					yr[j] = zr[j] + c
				}
			}
			activate(act, y[lo*per:hi*per])
			return
		}
		for i := lo * per; i < hi*per; i += sp {
			biasActSpan(act, z[i:i+sp], y[i:i+sp], b[(i/sp)%len(b)])
		}
	})
}

// biasActSpan writes y = act(z + c) for one span sharing the bias c.
func biasActSpan[T Float](act activation, z, y []T, c T) {
	if act != actIdentity {
		if z32, ok := any(z).([]float32); ok {
			s, m, a := float32(1), float32(1), float32(0)
			if act == actSigmoid {
				s, m, a = 0.5, 0.5, 0.5
			}
			tanhAffine32(any(y).([]float32), z32, float32(c), s, m, a)
			return
		}
	}
	for j, v := range z {
		y[j] = v + c
	}
	activate(act, y)
}

func (op *biasActOp) String() string {
	return fmt.Sprintf("BiasAct{%s,%d,%d}", actNames[op.act], op.zDims, op.bDims)
}
func (op *biasActOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *biasActOp) Hashcode() uint32      { return hashOf(op) }
func (op *biasActOp) DiffWRT(int) []bool    { return []bool{true, true} }

// SymDiff: dz = dy ⊙ act'(z+b), read off the output y; db sums dz over the
// axes the bias was broadcast along.
func (op *biasActOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dz := grad
	if op.act != actIdentity {
		var err error
		if dz, err = G.ApplyOp(&actBackOp{act: op.act, dims: op.zDims}, out, grad); err != nil {
			return nil, err
		}
	}
	db, err := G.ApplyOp(&biasSumOp{zDims: op.zDims, bShape: in[1].Shape().Clone()}, dz)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz, db}, nil
}

// actBackOp computes dz = dy ⊙ act'(z) from the activation's output y:
// y(1−y) for the sigmoid, 1−y² for tanh.
type actBackOp struct {
	opBase
	act  activation
	dims int
	out  output
}

func (op *actBackOp) Arity() int { return 2 }
func (op *actBackOp) Type() hm.Type {
	t := tensorType(op.dims)
	return fnType(t, t, t)
}
func (op *actBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds[0])
	return s.Clone(), err
}
func (op *actBackOp) Do(in ...G.Value) (G.Value, error) {
	return doFloat(op, op.out.get(in[0].Dtype(), in[0].Shape()), in, actBackKernel[float32], actBackKernel[float64])
}

func actBackKernel[T Float](op *actBackOp, dz []T, in []G.Value) {
	actBack(op.act, floats[T](in[0]), floats[T](in[1]), dz)
}

func actBack[T Float](act activation, y, dy, dz []T) {
	chunks(len(y), 1, func(_, lo, hi int) {
		if z32, ok := any(dz[lo:hi]).([]float32); ok && simd.OK {
			simd.ActBack(z32, any(y[lo:hi]).([]float32), any(dy[lo:hi]).([]float32), act == actSigmoid)
			lo += (hi - lo) &^ 7
		}
		if act == actSigmoid {
			for i, v := range y[lo:hi] {
				dz[lo+i] = dy[lo+i] * v * (1 - v)
			}
			return
		}
		for i, v := range y[lo:hi] {
			dz[lo+i] = dy[lo+i] * (1 - v*v)
		}
	})
}

func (op *actBackOp) String() string                                     { return fmt.Sprintf("ActBack{%s,%d}", actNames[op.act], op.dims) }
func (op *actBackOp) WriteHash(h hash.Hash)                              { writeHash(h, op) }
func (op *actBackOp) Hashcode() uint32                                   { return hashOf(op) }
func (op *actBackOp) DiffWRT(n int) []bool                               { return noDiff(n) }
func (op *actBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) { return nil, errNoDiff(op) }

// biasSumOp sums a gradient over the axes a bias was broadcast along.
type biasSumOp struct {
	opBase
	zDims  int
	bShape tensor.Shape
	out    output
}

func (op *biasSumOp) Arity() int { return 1 }
func (op *biasSumOp) Type() hm.Type {
	return fnType(tensorType(op.zDims), tensorType(len(op.bShape)))
}
func (op *biasSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.bShape.Clone(), nil }
func (op *biasSumOp) Do(in ...G.Value) (G.Value, error) {
	return doFloat(op, op.out.get(in[0].Dtype(), op.bShape), in, biasSumKernel[float32], biasSumKernel[float64])
}

func biasSumKernel[T Float](_ *biasSumOp, db []T, in []G.Value) {
	ws := borrow[T]()
	defer giveBack(ws)
	biasSum(floats[T](in[0]), db, rows(in[0].Shape()), ws)
}

// biasSum sums dz (N×B×S, n rows) over N and S into db (B values), each
// core summing its rows into a partial sum of its own.
func biasSum[T Float](dz, db []T, n int, ws *workspace[T]) {
	per := len(dz) / n
	sp := per / len(db)
	parts := ws.get(workers(n), len(db))
	p := chunks(n, per, func(w, lo, hi int) {
		part := parts[w]
		clear(part)
		for r := lo; r < hi; r++ {
			row := dz[r*per : (r+1)*per]
			if sp == 1 {
				addTo(part, row)
				continue
			}
			for c := range part {
				part[c] += sum(row[c*sp : (c+1)*sp])
			}
		}
	})
	copy(db, parts[0])
	for _, part := range parts[1:p] {
		for c, v := range part {
			db[c] += v
		}
	}
}

// sum adds up v, with the vector kernel for float32.
func sum[T Float](v []T) T {
	var acc T
	i := 0
	if v32, ok := any(v).([]float32); ok && simd.OK && len(v) >= 8 {
		acc = T(simd.Sum(v32))
		i = len(v) &^ 7
	}
	for _, x := range v[i:] {
		acc += x
	}
	return acc
}

func (op *biasSumOp) String() string                                     { return fmt.Sprintf("BiasSum{%d,%v}", op.zDims, op.bShape) }
func (op *biasSumOp) WriteHash(h hash.Hash)                              { writeHash(h, op) }
func (op *biasSumOp) Hashcode() uint32                                   { return hashOf(op) }
func (op *biasSumOp) DiffWRT(n int) []bool                               { return noDiff(n) }
func (op *biasSumOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) { return nil, errNoDiff(op) }
