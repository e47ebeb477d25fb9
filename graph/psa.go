package graph

import (
	"fmt"
	"hash"
	"math"

	"dcim/graph/internal/simd"
	"dcim/models"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The path sample-analytic estimator (PSA; Shekhovtsov, Yanush, Flach,
// "Path sample-analytic gradient estimators for stochastic binary
// networks", NeurIPS 2020) for the DCIM's sampled forward chain.
//
// In the sampled chain every hidden layer is drawn, x^k ~ p(x^k | x^{k−1}),
// from its mean m^k = σ(a^k), a^k = W^k x^{k−1} + b^k, with x^{k−1} itself
// drawn. The gradient of the expected loss E[f] reaches layer k's
// parameters through m^k, so what an estimator must supply is ∂E/∂m^k_i.
// For a unit with two states that derivative is a difference:
//
//	∂E/∂m_i = c·(E[f | x_i = 1] − E[f | x_i = off])
//
// with c = ½ for ±1 units (P(x_i = 1) = (1+m_i)/2) and c = 1 for {0,1}
// units (P(x_i = 1) = m_i). Straight-through replaces the difference by a
// derivative: flipping x_i moves the next layer's means by δ·W_ji·σ'(a_j)
// to first order (δ = 2 for ±1 units, 1 for {0,1}), which gives the usual
// back-propagation through m^{k+1} = σ(W x^k + b). PSA keeps the flip
// exact where it is cheap, one unit at a time, on the sample drawn:
//
//   - into a hidden layer: the next layer's means under the flip of x_i,
//     σ(a_j − δ·s_i·W_ji) (s_i = ±1, the unit's drawn sign), against m_j,
//     each weighted by ∂E/∂m_j as estimated for the layer above — the
//     analytic step is exact for one layer and the layers above are
//     linearised (the estimator's bias);
//   - into the class layer: the cross-entropy itself under the flip, the
//     logits moved by −δ·s_i·W_{·i}, exactly.
//
// With one hidden layer PSA is therefore unbiased (x_{−i} is drawn from
// its marginal, the flip is summed analytically); deeper, its bias is the
// linearisation of E[f] in the means of the layers above the flip, and its
// variance is lower than straight-through's. Both need the same one sample
// of the chain.
//
// In the graph PSA is straight-through plus a remainder: the linear map's
// own derivative (Wᵀ·dz into x^{k−1}) is the first-order part, and the ops
// here add the rest — the exact flip minus its linearisation — into the
// drawn input x^{k−1}; the weights' and biases' gradients are straight-
// through's (∂E/∂m^k·σ'(a^k) times the drawn input), which is exact given
// ∂E/∂m^k.

// flipOf returns the flip amplitude δ and the factor c of a unit encoding:
// a flip of x_i moves a_j by −δ·s_i·W_ji, and ∂E/∂m_i = c·(E[f | on] −
// E[f | off]).
func flipOf(act activation) (delta, c float64) {
	if act == actTanh {
		return 2, 0.5
	}
	return 1, 1
}

// psaActOp is biasActOp for a layer whose input is a draw: y = σ(z + b),
// with z = W·x computed by the layer's linear op. Its derivative in z and b
// is biasActOp's; it also differentiates in x, adding PSA's remainder
// (see psaBackOp) to the linear op's Wᵀ·dz.
type psaActOp struct {
	opBase
	act   activation
	zDims int
	bDims int
	xDims int
	wDims int
	conv  bool
	geom  ConvGeom // conv only; N is taken from the run's batch
	out   output
	base  biasActOp
}

// psaAct applies psaActOp: the mean of layer l given the drawn state x of
// the layer below, z = l.Forward(x).
func psaAct(l *Layer, z, x *G.Node, act activation) (*G.Node, error) {
	op := &psaActOp{act: act, zDims: z.Dims(), bDims: l.B.Dims(), xDims: x.Dims(), wDims: l.W.Dims(), conv: l.Spec.Kind == models.Conv, geom: l.geom}
	op.base = biasActOp{act: act, zDims: z.Dims(), bDims: l.B.Dims()}
	return G.ApplyOp(op, z, l.B, x, l.W)
}

func (op *psaActOp) Arity() int { return 4 }
func (op *psaActOp) Type() hm.Type {
	return fnType(tensorType(op.zDims), tensorType(op.bDims), tensorType(op.xDims), tensorType(op.wDims), tensorType(op.zDims))
}
func (op *psaActOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if err := checkArity(op, len(ds)); err != nil {
		return nil, err
	}
	return op.base.InferShape(ds[:2]...)
}
func (op *psaActOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	b := &op.base
	return doFloat(b, op.out.get(in[0].Dtype(), in[0].Shape()), in[:2], biasActKernel[float32], biasActKernel[float64])
}
func (op *psaActOp) String() string {
	return fmt.Sprintf("PSAAct{%s,%d,%d,%d,%d,%t,%v}", actNames[op.act], op.zDims, op.bDims, op.xDims, op.wDims, op.conv, op.geom)
}
func (op *psaActOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *psaActOp) Hashcode() uint32      { return hashOf(op) }
func (op *psaActOp) DiffWRT(int) []bool    { return []bool{true, true, true, false} }

// SymDiff: dz and db as biasActOp; dx is PSA's remainder, psaBackOp.
func (op *psaActOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dzb, err := op.base.SymDiff(in[:2], out, grad)
	if err != nil {
		return nil, err
	}
	back := &psaBackOp{act: op.act, conv: op.conv, geom: op.geom, xDims: op.xDims, zDims: op.zDims, wDims: op.wDims, bDims: op.bDims}
	dx, err := G.ApplyOp(back, in[0], in[1], in[2], in[3], out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dzb[0], dzb[1], dx, nil}, nil
}

// psaBackOp is PSA's remainder for the input x of one layer: for each
// drawn input unit i (sign s_i),
//
//	dx_i = Σ_j g_j·[c·s_i·(m_j − σ(a_j − δ·s_i·W_ji)) − W_ji·σ'(a_j)]
//
// over the units j that read x_i, with a = z + b, m = σ(a) and g = ∂E/∂m
// the upstream gradient: the exact change of m_j under the flip of x_i,
// less the first-order change that the linear op's own derivative
// already passes on. Inputs: z, b, x, W, m, g.
type psaBackOp struct {
	opBase
	act                        activation
	conv                       bool
	geom                       ConvGeom
	xDims, zDims, wDims, bDims int
	out                        output
}

func (op *psaBackOp) Arity() int { return 6 }
func (op *psaBackOp) Type() hm.Type {
	z := tensorType(op.zDims)
	return fnType(z, tensorType(op.bDims), tensorType(op.xDims), tensorType(op.wDims), z, z, tensorType(op.xDims))
}
func (op *psaBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if err := checkArity(op, len(ds)); err != nil {
		return nil, err
	}
	s, err := shapeOf(ds[2])
	return s.Clone(), err
}
func (op *psaBackOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	return doFloat(op, op.out.get(in[2].Dtype(), in[2].Shape()), in, psaBackKernel[float32], psaBackKernel[float64])
}

func psaBackKernel[T Float](op *psaBackOp, dx []T, in []G.Value) {
	z, b, x, w, m, g := floats[T](in[0]), floats[T](in[1]), floats[T](in[2]), floats[T](in[3]), floats[T](in[4]), floats[T](in[5])
	rows := rows(in[2].Shape())
	if op.conv {
		geom := op.geom
		geom.N = rows
		psaConvBack(op.act, geom, z, b, x, w, m, g, dx)
		return
	}
	psaDenseBack(op.act, rows, z, b, x, w, m, g, dx)
}

// actOf is the unit's mean σ(t) and actDeriv its derivative read off the
// mean, in the element type at hand (tanh32 for float32).
func actOf[T Float](act activation, t T) T {
	if _, ok := any(t).(float32); ok {
		f := float32(t)
		if act == actTanh {
			return T(tanh32(f))
		}
		return T(0.5 + 0.5*tanh32(0.5*f))
	}
	if act == actTanh {
		return T(math.Tanh(float64(t)))
	}
	return T(sigmoid(float64(t)))
}

func actDeriv[T Float](act activation, m T) T {
	if act == actTanh {
		return 1 - m*m
	}
	return m * (1 - m)
}

// signOf is a drawn unit's sign s = ±1: the state itself for ±1 units,
// 2x−1 for {0,1} units.
func signOf[T Float](act activation, x T) T {
	if act == actTanh {
		return x
	}
	return 2*x - 1
}

// psaDenseBack is psaBackOp for a dense layer: x is rows×I, W is O×I,
// z, m and g are rows×O. Rows are split across cores; for each output
// unit the remainder runs over the inputs, through the vector kernel for
// float32.
func psaDenseBack[T Float](act activation, rows int, z, b, x, w, m, g, dx []T) {
	nIn, nOut := len(x)/rows, len(z)/rows
	delta, c := flipOf(act)
	dl, cc := T(delta), T(c)
	S, M, A := affineOf(act)
	parallel(rows, 1, func(_, lo, hi int) {
		sgn := make([]T, nIn)
		for r := lo; r < hi; r++ {
			xr, dr := x[r*nIn:(r+1)*nIn], dx[r*nIn:(r+1)*nIn]
			clear(dr)
			for i, v := range xr {
				sgn[i] = signOf(act, v)
			}
			for j := range nOut {
				gj := g[r*nOut+j]
				if gj == 0 {
					continue
				}
				a, mj := z[r*nOut+j]+b[j], m[r*nOut+j]
				d := actDeriv(act, mj)
				wj := w[j*nIn : (j+1)*nIn]
				i := 0
				if d32, ok := any(dr).([]float32); ok && simd.OK {
					i = nIn &^ 7
					simd.PSADense(d32[:i], any(sgn).([]float32), any(wj).([]float32), float32(a), float32(mj), float32(d), float32(gj), float32(delta), float32(c), S, M, A)
				}
				for ; i < nIn; i++ {
					s := sgn[i]
					dr[i] += gj * (cc*s*(mj-actOf(act, a-dl*s*wj[i])) - wj[i]*d)
				}
			}
		}
	})
}

// affineOf returns S, M, A with σ(t) = A + M·tanh(S·t): tanh itself, or
// the sigmoid, (1 + tanh(t/2))/2.
func affineOf(act activation) (S, M, A float32) {
	if act == actTanh {
		return 1, 1, 0
	}
	return 0.5, 0.5, 0.5
}

// psaConvBack is psaBackOp for a convolution of geometry geom (N rows):
// x is N×C×H×W, W is O×C×K×K, z, m and g are N×O×Ho×Wo, b has O values.
// Images are split across cores. For each tap (c, ki, kj) the signs of
// the inputs it meets at the Ho×Wo output positions are gathered into one
// plane, the remainder of every output channel o (weight W[o,c,ki,kj]) is
// summed over that plane — Ho·Wo contiguous values per channel, through
// the vector kernel for float32 — and the sum is added back to the inputs.
func psaConvBack[T Float](act activation, geom ConvGeom, z, b, x, w, m, g, dx []T) {
	delta, c := flipOf(act)
	dl, cc := T(delta), T(c)
	S, M, A := affineOf(act)
	in, out := geom.inSize(), geom.outSize()
	plane, kk := geom.Ho*geom.Wo, geom.K*geom.K
	parallel(geom.N, 1, func(_, lo, hi int) {
		sg := make([]T, plane)  // the tap's inputs' signs, by output position
		acc := make([]T, plane) // the tap's remainder, by output position
		deriv := make([]T, out)
		arg := make([]T, out)
		for n := lo; n < hi; n++ {
			xn, dn := x[n*in:(n+1)*in], dx[n*in:(n+1)*in]
			zn, mn, gn := z[n*out:(n+1)*out], m[n*out:(n+1)*out], g[n*out:(n+1)*out]
			clear(dn)
			for j, v := range mn {
				deriv[j] = actDeriv(act, v)
				arg[j] = zn[j] + b[j/plane]
			}
			for ci := range geom.C {
				for ki := range geom.K {
					for kj := range geom.K {
						first := ci*geom.H*geom.W + ki*geom.W + kj // the input at output position (0, 0)
						for y := range geom.Ho {
							row := xn[first+y*geom.S*geom.W:]
							for xo := range geom.Wo {
								sg[y*geom.Wo+xo] = signOf(act, row[xo*geom.S])
							}
						}
						clear(acc)
						for o := range geom.O {
							wt := w[(o*geom.C+ci)*kk+ki*geom.K+kj]
							span := o * plane
							ar, mo, do, gom := arg[span:span+plane], mn[span:span+plane], deriv[span:span+plane], gn[span:span+plane]
							p := 0
							if a32, ok := any(acc).([]float32); ok && simd.OK {
								p = plane &^ 7
								simd.PSAConv(a32[:p], any(sg).([]float32), any(ar).([]float32), any(mo).([]float32), any(do).([]float32), any(gom).([]float32), float32(wt), float32(delta), float32(c), S, M, A)
							}
							for ; p < plane; p++ {
								s := sg[p]
								acc[p] += gom[p] * (cc*s*(mo[p]-actOf(act, ar[p]-dl*s*wt)) - wt*do[p])
							}
						}
						for y := range geom.Ho {
							row := dn[first+y*geom.S*geom.W:]
							for xo := range geom.Wo {
								row[xo*geom.S] += acc[y*geom.Wo+xo]
							}
						}
					}
				}
			}
		}
	})
}

func (op *psaBackOp) String() string {
	return fmt.Sprintf("PSABack{%s,%t,%v,%d,%d,%d,%d}", actNames[op.act], op.conv, op.geom, op.xDims, op.zDims, op.wDims, op.bDims)
}
func (op *psaBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *psaBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *psaBackOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *psaBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}

// psaCrossEntropyOp is crossEntropyOp for class logits z = W·x + b read
// from a drawn layer x: the same value, the same derivative in z, and a
// derivative in x that adds PSA's remainder at the class layer — the exact
// change of each row's cross-entropy under the flip of one unit of x, less
// its linearisation (see psaCrossEntropyBackOp). Inputs: z, t, x, W.
type psaCrossEntropyOp struct {
	opBase
	act   activation
	xDims int
	ce    crossEntropyOp
}

func (op *psaCrossEntropyOp) Arity() int { return 4 }
func (op *psaCrossEntropyOp) Type() hm.Type {
	return fnType(tensorType(2), tensorType(2), tensorType(op.xDims), tensorType(2), hm.TypeVariable('a'))
}
func (op *psaCrossEntropyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *psaCrossEntropyOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	return op.ce.Do(in[:2]...)
}
func (op *psaCrossEntropyOp) String() string {
	return fmt.Sprintf("PSACrossEntropy{%s,%d}", actNames[op.act], op.xDims)
}
func (op *psaCrossEntropyOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *psaCrossEntropyOp) Hashcode() uint32      { return hashOf(op) }
func (op *psaCrossEntropyOp) DiffWRT(int) []bool    { return []bool{true, false, true, false} }
func (op *psaCrossEntropyOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dz, err := G.ApplyOp(&crossEntropyBackOp{}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	dx, err := G.ApplyOp(&psaCrossEntropyBackOp{act: op.act, xDims: op.xDims}, in[0], in[1], in[2], in[3], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz, nil, dx, nil}, nil
}

// psaCrossEntropyBackOp is PSA's remainder at the class layer: for row r
// and drawn unit i (sign s_i),
//
//	dx_ri = g/R·[c·s_i·(f_r(z_r) − f_r(z_r − δ·s_i·W_{·i})) − Σ_k W_ki·(p_rk − t_rk)]
//
// where f_r(z) = −Σ_k t_rk log softmax(z)_k is the row's cross-entropy,
// p_r = softmax(z_r), R the number of rows (the loss is their mean) and g
// the loss's upstream gradient. Inputs: z (R×K), t, x (R×I), W (K×I), g.
type psaCrossEntropyBackOp struct {
	opBase
	act   activation
	xDims int
	out   output
}

func (op *psaCrossEntropyBackOp) Arity() int { return 5 }
func (op *psaCrossEntropyBackOp) Type() hm.Type {
	return fnType(tensorType(2), tensorType(2), tensorType(op.xDims), tensorType(2), hm.TypeVariable('a'), tensorType(op.xDims))
}
func (op *psaCrossEntropyBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if err := checkArity(op, len(ds)); err != nil {
		return nil, err
	}
	s, err := shapeOf(ds[2])
	return s.Clone(), err
}
func (op *psaCrossEntropyBackOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	return doFloat(op, op.out.get(in[2].Dtype(), in[2].Shape()), in, psaCrossEntropyBackKernel[float32], psaCrossEntropyBackKernel[float64])
}

func psaCrossEntropyBackKernel[T Float](op *psaCrossEntropyBackOp, dx []T, in []G.Value) {
	z, t, x, w := floats[T](in[0]), floats[T](in[1]), floats[T](in[2]), floats[T](in[3])
	g := scalarOf(in[4])
	R := rows(in[0].Shape())
	K, I := len(z)/R, len(x)/R
	delta, c := flipOf(op.act)
	scale := g / float64(R)
	parallel(R, 8, func(_, lo, hi int) {
		zf := make([]float64, K)
		p := make([]float64, K)
		for r := lo; r < hi; r++ {
			zr, tr := z[r*K:(r+1)*K], t[r*K:(r+1)*K]
			f := rowCE(zr, tr, p)
			for i := range I {
				s := float64(signOf(op.act, x[r*I+i]))
				var lin float64
				for k := range K {
					wk := float64(w[k*I+i])
					zf[k] = float64(zr[k]) - delta*s*wk
					lin += wk * (p[k] - float64(tr[k]))
				}
				ff := rowCEf(zf, tr)
				dx[r*I+i] = T(scale * (c*s*(f-ff) - lin))
			}
		}
	})
}

// rowCE returns one row's cross-entropy −Σ_k t_k log softmax(z)_k and
// writes softmax(z) into p.
func rowCE[T Float](z, t []T, p []float64) float64 {
	m := float64(z[0])
	for _, v := range z {
		m = max(m, float64(v))
	}
	var s float64
	for k, v := range z {
		p[k] = math.Exp(float64(v) - m)
		s += p[k]
	}
	lse := m + math.Log(s)
	var f float64
	for k, v := range z {
		p[k] /= s
		if t[k] != 0 {
			f -= float64(t[k]) * (float64(v) - lse)
		}
	}
	return f
}

// rowCEf is rowCE for float64 logits, without the probabilities.
func rowCEf[T Float](z []float64, t []T) float64 {
	m := z[0]
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	var f float64
	for k, v := range z {
		if t[k] != 0 {
			f -= float64(t[k]) * (v - lse)
		}
	}
	return f
}

func (op *psaCrossEntropyBackOp) String() string {
	return fmt.Sprintf("PSACrossEntropyBack{%s,%d}", actNames[op.act], op.xDims)
}
func (op *psaCrossEntropyBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *psaCrossEntropyBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *psaCrossEntropyBackOp) DiffWRT(n int) []bool  { return noDiff(n) }
func (op *psaCrossEntropyBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoDiff(op)
}
