package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"dcim/models"
)

// cnnGeoms returns the geometry of every convolutional layer of the
// paper's CNN (models.MNISTCNN) at batch n.
func cnnGeoms(tb testing.TB, n int) []ConvGeom {
	arch, in := models.MNISTCNN(), models.MNISTInput
	var gs []ConvGeom
	c, h, w := in.C, in.H, in.W
	for _, l := range arch {
		if l.Kind != models.Conv {
			break
		}
		g, ok := NewConvGeom(n, c, h, w, l.C, l.K, l.S)
		if !ok {
			tb.Fatalf("layer %v does not fit %d×%d×%d", l, c, h, w)
		}
		gs = append(gs, g)
		c, h, w = g.O, g.Ho, g.Wo
	}
	return gs
}

func randF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

// BenchmarkConv times the three convolution kernels (forward, transposed,
// kernel gradient) on each convolutional layer of the paper's CNN at batch
// 64 in float32, with GFLOP/s as a metric (2·N·O·Ho·Wo·C·K·K flops each).
func BenchmarkConv(b *testing.B) {
	const n = 64
	for li, g := range cnnGeoms(b, n) {
		rng := rand.New(rand.NewPCG(uint64(li), 1))
		x, w, y := randF32(rng, g.N*g.inSize()), randF32(rng, g.O*g.colRows()), randF32(rng, g.N*g.outSize())
		flops := 2 * float64(g.N*g.outSize()*g.colRows())
		for _, kind := range []convKind{convFwd, convTrans, convKernel} {
			name := fmt.Sprintf("L%d_%dx%dx%d_k%ds%d_o%d/%s", li+1, g.C, g.H, g.W, g.K, g.S, g.O, convNames[kind])
			b.Run(name, func(b *testing.B) {
				var ws workspace[float32]
				dx, dw := make([]float32, len(x)), make([]float32, len(w))
				run := func() {
					switch kind {
					case convFwd:
						convForward(g, x, w, y, &ws)
					case convTrans:
						convTranspose(g, y, w, dx, &ws)
					default:
						convKernelGrad(g, x, y, dw, &ws)
					}
				}
				run()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					run()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkDense times the dense layer's products at batch 64 in float32
// for the shapes of the paper's dense net: forward h·Wᵀ, reverse r·W and
// the weight gradient dyᵀ·h.
func BenchmarkDense(b *testing.B) {
	const n = 64
	for _, s := range []struct{ in, out int }{{784, 512}, {512, 512}, {512, 10}} {
		rng := rand.New(rand.NewPCG(uint64(s.in), uint64(s.out)))
		h, w, dy := randF32(rng, n*s.in), randF32(rng, s.out*s.in), randF32(rng, n*s.out)
		flops := 2 * float64(n*s.in*s.out)
		for _, c := range []struct {
			name   string
			tA, tB bool
			m, k   int
			a, bb  []float32
			lda    int
			ldb    int
			nn     int
		}{
			{"forward", false, true, n, s.in, h, w, s.in, s.in, s.out},
			{"reverse", false, false, n, s.out, dy, w, s.out, s.in, s.in},
			{"weightgrad", true, false, s.out, n, dy, h, s.out, s.in, s.in},
		} {
			b.Run(fmt.Sprintf("%dx%d/%s", s.out, s.in, c.name), func(b *testing.B) {
				out := make([]float32, c.m*c.nn)
				b.ReportAllocs()
				for range b.N {
					gemmRows(c.tA, c.tB, c.m, c.nn, c.k, c.a, c.lda, c.bb, c.ldb, out)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
