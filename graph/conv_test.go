package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// The reverse chain relies on convT being the exact adjoint of conv:
// <conv(x,w), y> = <x, convT(y,w)>, and kgrad is the adjoint in w:
// <conv(x,w), y> = <w, kgrad(x,y)>.
func TestConvAdjoint(t *testing.T) {
	cases := []struct{ n, c, h, w, o, k, s int }{
		{1, 1, 5, 5, 1, 3, 1},
		{2, 3, 7, 7, 4, 3, 2},
		{3, 2, 9, 5, 3, 3, 2},
		{2, 1, 8, 8, 2, 2, 2},
		{1, 2, 11, 8, 3, 5, 3},
		{4, 3, 6, 6, 5, 1, 1},
		{2, 2, 4, 6, 3, 4, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			g, ok := NewConvGeom(c.n, c.c, c.h, c.w, c.o, c.k, c.s)
			if !ok {
				t.Fatalf("geometry rejected")
			}
			rng := rand.New(rand.NewPCG(uint64(c.h), uint64(c.k)))
			x := randSlice(rng, g.N*g.inSize())
			w := randSlice(rng, g.O*g.colRows())
			y := randSlice(rng, g.N*g.outSize())
			var ws workspace[float64]
			cx := make([]float64, len(y))
			convForward(g, x, w, cx, &ws)
			ty := make([]float64, len(x))
			convTranspose(g, y, w, ty, &ws)
			kg := make([]float64, len(w))
			convKernelGrad(g, x, y, kg, &ws)
			lhs := dot(cx, y)
			for name, rhs := range map[string]float64{"convT": dot(x, ty), "kgrad": dot(w, kg)} {
				if d := math.Abs(lhs - rhs); d > 1e-12*math.Max(1, math.Abs(lhs)) {
					t.Errorf("<conv(x,w),y> = %.17g, <·,%s> = %.17g (diff %.3g)", lhs, name, rhs, d)
				}
			}
			// conv against the definition.
			for n := 0; n < g.N; n++ {
				for o := 0; o < g.O; o++ {
					for i := 0; i < g.Ho; i++ {
						for j := 0; j < g.Wo; j++ {
							var s float64
							for ch := 0; ch < g.C; ch++ {
								for ki := 0; ki < g.K; ki++ {
									for kj := 0; kj < g.K; kj++ {
										s += w[((o*g.C+ch)*g.K+ki)*g.K+kj] * x[((n*g.C+ch)*g.H+i*g.S+ki)*g.W+j*g.S+kj]
									}
								}
							}
							if got := cx[((n*g.O+o)*g.Ho+i)*g.Wo+j]; math.Abs(got-s) > 1e-12 {
								t.Fatalf("conv[%d,%d,%d,%d] = %g, want %g", n, o, i, j, got, s)
							}
						}
					}
				}
			}
		})
	}
}

func TestConvGeomRejects(t *testing.T) {
	for _, c := range []struct{ h, w, k, s int }{{5, 5, 6, 1}, {6, 6, 3, 2}, {5, 5, 0, 1}, {5, 5, 3, 0}} {
		if _, ok := NewConvGeom(1, 1, c.h, c.w, 1, c.k, c.s); ok {
			t.Errorf("NewConvGeom(%+v) accepted", c)
		}
	}
}
