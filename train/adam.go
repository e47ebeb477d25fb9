package train

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Keras's defaults for Adam, the paper's likely settings (it trained with Keras).
const (
	DefaultLR      = 1e-3
	DefaultBeta1   = 0.9
	DefaultBeta2   = 0.999
	DefaultEpsilon = 1e-7
)

// Adam is the Adam optimiser as Keras implements it:
//
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	lr_t = lr·√(1−β2^t)/(1−β1^t)
//	w ← w − lr_t·m/(√v + ε)
//
// Its moments are plain float32 slices, one per parameter, so that they can
// be checkpointed and restored bit for bit.
type Adam struct {
	LR, Beta1, Beta2, Epsilon float64
	// T is the number of steps taken so far.
	T int
	// M and V are the first and second moments, aligned with the
	// parameters passed to NewAdam.
	M, V [][]float32
}

// NewAdam returns an optimiser with learning rate lr and Keras's other
// defaults, with zero moments for parameters of the given sizes.
func NewAdam(lr float64, sizes []int) *Adam {
	a := &Adam{LR: lr, Beta1: DefaultBeta1, Beta2: DefaultBeta2, Epsilon: DefaultEpsilon}
	for _, n := range sizes {
		a.M = append(a.M, make([]float32, n))
		a.V = append(a.V, make([]float32, n))
	}
	return a
}

// Step advances t and applies one update to every parameter whose gradient
// is not nil. params[i] and grads[i] must have the length given to NewAdam
// for i.
func (a *Adam) Step(params, grads [][]float32) error {
	if len(params) != len(a.M) || len(grads) != len(a.M) {
		return fmt.Errorf("adam: %d parameters and %d gradients, want %d", len(params), len(grads), len(a.M))
	}
	for i, g := range grads {
		if g != nil && (len(g) != len(a.M[i]) || len(params[i]) != len(a.M[i])) {
			return fmt.Errorf("adam: parameter %d has %d values and %d gradients, want %d", i, len(params[i]), len(g), len(a.M[i]))
		}
	}
	a.T++
	t := float64(a.T)
	lrT := a.LR * math.Sqrt(1-math.Pow(a.Beta2, t)) / (1 - math.Pow(a.Beta1, t))
	// Every element is updated on its own, so splitting the work across
	// cores leaves the result bitwise the same.
	var wg sync.WaitGroup
	for i, g := range grads {
		if g == nil {
			continue
		}
		n := len(g)
		parts := min(runtime.GOMAXPROCS(0), max(1, n/adamGrain))
		for k := range parts {
			lo, hi := k*n/parts, (k+1)*n/parts
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.update(params[i][lo:hi], g[lo:hi], a.M[i][lo:hi], a.V[i][lo:hi], lrT)
			}()
		}
	}
	wg.Wait()
	return nil
}

// adamGrain is the least number of values worth a goroutine of their own.
const adamGrain = 1 << 15

// update applies one Adam step to the values w with gradients g and
// moments m, v, in float32 as Keras computes it: eight values at a time
// with AVX2 and FMA where the CPU has them, the rest one at a time. (One
// float64 value at a time, the update was a fifth of a dense eq. (21)
// training step.)
func (a *Adam) update(w, g, m, v []float32, lrT float64) {
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	c1, c2 := float32(1-a.Beta1), float32(1-a.Beta2)
	eps, lr := float32(a.Epsilon), float32(lrT)
	j := 0
	if adamVector && len(w) >= 8 {
		adamKernel(w, g, m, v, b1, c1, b2, c2, eps, lr)
		j = len(w) &^ 7
	}
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for ; j < len(w); j++ {
		mj := b1*m[j] + c1*g[j]
		vj := b2*v[j] + c2*g[j]*g[j]
		m[j], v[j] = mj, vj
		w[j] -= lr * mj / (float32(math.Sqrt(float64(vj))) + eps)
	}
}
