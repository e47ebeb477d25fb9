package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"dcim/graph/cputime"
	"dcim/models"
)

// cnnGeoms returns the geometry of every convolutional layer of the
// paper's CNN (§3.2) at batch n.
func cnnGeoms(tb testing.TB, n int) []ConvGeom {
	arch, in := paperCNN, models.MNISTInput
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
// 64 in float32, with GFLOP/s (2·N·O·Ho·Wo·C·K·K flops each) and CPU time
// per op as metrics.
func BenchmarkConv(b *testing.B) {
	const n = 64
	for li, g := range cnnGeoms(b, n) {
		rng := rand.New(rand.NewPCG(uint64(li), 1))
		x, w, y := randF32(rng, g.N*g.inSize()), randF32(rng, g.O*g.colRows()), randF32(rng, g.N*g.outSize())
		flops := 2 * float64(g.N*g.outSize()*g.colRows())
		algos := []ConvAlgorithm{ConvIm2col}
		if withConvAlgorithm(ConvWinograd, func() bool { return g.winograd() }) {
			algos = append(algos, ConvWinograd)
		}
		for _, kind := range []convKind{convFwd, convTrans, convKernel} {
			for _, algo := range algos {
				name := fmt.Sprintf("L%d_%dx%dx%d_k%ds%d_o%d/%s/%v", li+1, g.C, g.H, g.W, g.K, g.S, g.O, convNames[kind], algo)
				b.Run(name, func(b *testing.B) {
					defer SetConvAlgorithm(convAlgorithm)
					SetConvAlgorithm(algo)
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
					c0 := cputime.Process()
					for range b.N {
						run()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N)/1e6, "cpu-ms/op")
				})
			}
		}
	}
}

// BenchmarkDense times the dense layer's products at batch 64 in float32
// for the shapes of the paper's dense net: forward h·Wᵀ, reverse r·W and
// the weight gradient dyᵀ·h, with GFLOP/s and CPU time per op as metrics.
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
				c0 := cputime.Process()
				for range b.N {
					gemmSplit(c.tA, c.tB, c.m, c.nn, c.k, c.a, c.lda, c.bb, c.ldb, out)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N)/1e6, "cpu-ms/op")
			})
		}
	}
}

// BenchmarkConvChunk compares chunk sizes of the three kernels on the
// CNN's layers 2 and 5, for im2col (GEMM columns per chunk, convCols) and
// Winograd (tile columns per chunk, winoCols), reporting CPU time per op as
// well, which a busy machine disturbs less than wall time.
func BenchmarkConvChunk(b *testing.B) {
	defer func(c, w int) { convCols, winoCols = c, w }(convCols, winoCols)
	algos := []struct {
		algo  ConvAlgorithm
		knob  *int
		sizes []int
	}{
		{ConvIm2col, &convCols, []int{1, 512, 2048, 8192}},
		{ConvWinograd, &winoCols, []int{1, 64, 128, 256, 1024}},
	}
	gs := cnnGeoms(b, 64)
	for _, a := range algos {
		for _, li := range []int{1, 4} {
			g := gs[li]
			rng := rand.New(rand.NewPCG(uint64(li), 1))
			x, w, y := randF32(rng, g.N*g.inSize()), randF32(rng, g.O*g.colRows()), randF32(rng, g.N*g.outSize())
			dx, dw := make([]float32, len(x)), make([]float32, len(w))
			for _, cols := range a.sizes {
				b.Run(fmt.Sprintf("%v/L%d/cols%d", a.algo, li+1, cols), func(b *testing.B) {
					*a.knob = cols
					defer SetConvAlgorithm(convAlgorithm)
					SetConvAlgorithm(a.algo)
					var ws workspace[float32]
					c0 := cputime.Process()
					for range b.N {
						convForward(g, x, w, y, &ws)
						convTranspose(g, y, w, dx, &ws)
						convKernelGrad(g, x, y, dw, &ws)
					}
					b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N)/1e6, "cpu-ms/op")
				})
			}
		}
	}
}

// BenchmarkSgemmPeak calibrates: the BLAS on square matrices, in GFLOP per
// CPU second (one thread per GEMM, as the ops call it).
func BenchmarkSgemmPeak(b *testing.B) {
	for _, n := range []int{256, 1024} {
		rng := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randF32(rng, n*n), randF32(rng, n*n), make([]float32, n*n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			c0 := cputime.Process()
			for range b.N {
				gemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/(float64(cputime.Process()-c0)/1e9)/1e9, "GF/cpu-s")
		})
	}
}

// BenchmarkGemmShapes times, in GFLOP per CPU second, the GEMM of each
// kernel of each CNN layer for one image on a cache-warm grid.
func BenchmarkGemmShapes(b *testing.B) {
	for li, g := range cnnGeoms(b, 64) {
		_, lg := g.grid()
		rows := g.colRows()
		rng := rand.New(rand.NewPCG(1, 1))
		col, w, yg := randF32(rng, rows*lg), randF32(rng, g.O*rows), randF32(rng, g.O*lg)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"fwd", func() { gemm(false, false, g.O, lg, rows, 1, w, rows, col, lg, 0, yg, lg) }},
			{"T", func() { gemm(true, false, rows, lg, g.O, 1, w, rows, yg, lg, 0, col, lg) }},
			{"kg", func() { gemm(false, true, g.O, rows, lg, 1, yg, lg, col, lg, 1, w, rows) }},
		} {
			b.Run(fmt.Sprintf("L%d/%s/%dx%dx%d", li+1, c.name, g.O, lg, rows), func(b *testing.B) {
				c0 := cputime.Process()
				for range b.N {
					c.f()
				}
				b.ReportMetric(2*float64(g.O*lg*rows)*float64(b.N)/(float64(cputime.Process()-c0)/1e9)/1e9, "GF/cpu-s")
			})
		}
	}
}
