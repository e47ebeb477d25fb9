package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds what every op of this package shares. Each op follows
// Gorgonia's contract (gorgonia.Op, plus gorgonia.SDOp so that
// gorgonia.Grad differentiates through it). An op keeps its output tensor
// between runs of the graph, so a training step allocates nothing in steady
// state; ops whose derivative is not needed say so through DiffWRT.

// opBase implements the parts of gorgonia.Op that are alike for all ops.
type opBase struct{}

func (opBase) ReturnsPtr() bool     { return false }
func (opBase) CallsExtern() bool    { return false }
func (opBase) OverwritesInput() int { return -1 }

// hashOf hashes an op's String, which names the op and all its settings.
func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}

func writeHash(h hash.Hash, op fmt.Stringer) { fmt.Fprint(h, op.String()) }

// output is an op's output tensor, reused while dtype and shape stay.
type output struct{ t *tensor.Dense }

func (o *output) get(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if o.t == nil || o.t.Dtype() != dt || !o.t.Shape().Eq(shape) {
		o.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	}
	return o.t
}

// floatKernel is an op's arithmetic for one element type T: it reads the
// op's inputs and writes its output out. Each op writes its kernel once, as
// a generic function, and doFloat picks the instance for the dtype at hand.
type floatKernel[O any, T Float] func(op O, out []T, in []G.Value)

// doFloat runs the instance of an op's kernel that matches out's dtype and
// returns out, which the op keeps for the next step.
func doFloat[O any](op O, out *tensor.Dense, in []G.Value, k32 floatKernel[O, float32], k64 floatKernel[O, float64]) (G.Value, error) {
	switch out.Dtype() {
	case tensor.Float32:
		k32(op, floats[float32](out), in)
	case tensor.Float64:
		k64(op, floats[float64](out), in)
	default:
		return nil, fmt.Errorf("%v: dtype %v, want float32 or float64", op, out.Dtype())
	}
	return out, nil
}

// scalarKernel is doFloat's counterpart for an op whose output is a scalar
// (a loss): it returns the value in float64.
type scalarKernel[O any, T Float] func(op O, in []G.Value) float64

// doScalar runs the instance of a scalar op's kernel that matches the dtype
// of its first input and wraps the result as a scalar of that dtype.
func doScalar[O any](op O, in []G.Value, k32 scalarKernel[O, float32], k64 scalarKernel[O, float64]) (G.Value, error) {
	var v float64
	switch dt := in[0].Dtype(); dt {
	case tensor.Float32:
		v = k32(op, in)
	case tensor.Float64:
		v = k64(op, in)
	default:
		return nil, fmt.Errorf("%v: dtype %v, want float32 or float64", op, dt)
	}
	return scalarValue(in[0].Dtype(), v), nil
}

// floats returns the []float32 or []float64 behind a tensor value, without
// the allocation that (*tensor.Dense).Data makes for its new slice header
// on every call; the ops call it once per input per step.
func floats[T Float](v G.Value) []T {
	if d, ok := v.(*tensor.Dense); ok && !d.IsScalar() && len(d.Raw) > 0 {
		var z T
		if n := int(unsafe.Sizeof(z)); d.Dtype().Size() == uintptr(n) {
			return unsafe.Slice((*T)(unsafe.Pointer(&d.Raw[0])), len(d.Raw)/n)
		}
	}
	return v.Data().([]T)
}

// tensorType is the Hindley–Milner type of a tensor of any float dtype.
func tensorType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// fnType builds the type of an op from its input and output types.
func fnType(ts ...hm.Type) hm.Type { return hm.NewFnType(ts...) }

func shapeOf(d G.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("expected tensor.Shape, got %T", d)
	}
	return s, nil
}

// rows and cols view a tensor shape as a matrix: the first axis against
// all others (a batch of flattened C·H·W states).
func rows(s tensor.Shape) int {
	if len(s) == 0 {
		return 1
	}
	return s[0]
}

func cols(s tensor.Shape) int {
	n := 1
	for _, d := range s[1:] {
		n *= d
	}
	return n
}

func checkArity(op G.Op, n int) error {
	if op.Arity() >= 0 && n != op.Arity() {
		return fmt.Errorf("%v: got %d inputs, want %d", op, n, op.Arity())
	}
	return nil
}

// scalarValue returns a Gorgonia scalar of the given dtype.
func scalarValue(dt tensor.Dtype, v float64) G.Value {
	if dt == tensor.Float32 {
		return G.NewF32(float32(v))
	}
	return G.NewF64(v)
}

// scalarOf reads a scalar Value (the incoming gradient of a loss).
func scalarOf(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	case []float32:
		return float64(x[0])
	case []float64:
		return x[0]
	}
	panic(fmt.Sprintf("graph: not a float scalar: %T", v.Data()))
}

func noDiff(n int) []bool { return make([]bool, n) }

func errNoDiff(op G.Op) error { return fmt.Errorf("%v is not differentiable", op) }
