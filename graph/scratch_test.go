package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// poison fills every buffer of ws, to its capacity, with NaN: what a
// kernel finds there when another op used the shared workspace last.
func poison[T Float](ws *workspace[T]) {
	for _, b := range ws.bufs {
		b = b[:cap(b)]
		for i := range b {
			b[i] = T(math.NaN())
		}
	}
}

// TestScratchShared checks that the kernels which borrow a workspace read
// nothing of it that they did not write in the same call: each kernel run
// on a workspace poisoned with NaN after a first call gives the first
// call's result bit for bit. Every op of every graph shares the pool, so a
// kernel that relied on its own earlier contents would read another op's.
func TestScratchShared(t *testing.T) {
	geoms := cnnGeoms(t, 3)
	if g, ok := NewConvGeom(2, 3, 7, 5, 4, 3, 2); ok { // odd sizes, partial grid
		geoms = append(geoms, g)
	}
	for _, alg := range []ConvAlgorithm{ConvIm2col, ConvAuto} {
		for gi, g := range geoms {
			for k := range 3 {
				t.Run(fmt.Sprintf("%v/%+v/%s", alg, g, convNames[k]), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(gi), 3))
					x, w, y := to32(randSlice(rng, g.N*g.inSize())), to32(randSlice(rng, g.O*g.colRows())), to32(randSlice(rng, g.N*g.outSize()))
					run := func(ws *workspace[float32]) []float32 {
						return withConvAlgorithm(alg, func() []float32 {
							switch convKind(k) {
							case convFwd:
								out := make([]float32, len(y))
								convForward(g, x, w, out, ws)
								return out
							case convTrans:
								out := make([]float32, len(x))
								convTranspose(g, y, w, out, ws)
								return out
							default:
								out := make([]float32, len(w))
								convKernelGrad(g, x, y, out, ws)
								return out
							}
						})
					}
					var ws workspace[float32]
					want := run(&ws)
					poison(&ws)
					got := run(&ws)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("[%d] = %g after the workspace was poisoned, %g before", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
	t.Run("biasSum", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 3))
		dz := to32(randSlice(rng, 64*32*7*7))
		var ws workspace[float32]
		want, got := make([]float32, 32), make([]float32, 32)
		biasSum(dz, want, 64, &ws)
		poison(&ws)
		biasSum(dz, got, 64, &ws)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("[%d] = %g after the workspace was poisoned, %g before", i, got[i], want[i])
			}
		}
	})
}

// TestScratchPool checks the pool's lending: a workspace given back is
// lent again, and one lent twice at once is never the same.
func TestScratchPool(t *testing.T) {
	a := borrow[float32]()
	b := borrow[float32]()
	if a == b {
		t.Fatal("two workspaces lent at once are the same")
	}
	giveBack(b)
	if c := borrow[float32](); c != b {
		t.Fatal("the workspace given back was not lent again")
	}
	giveBack(a)
	giveBack(b)
}
