package graph

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gorgonia.org/tensor"
)

// TestTanhAffine32 checks the vector kernel (and its scalar tail) against
// math.Tanh for tanh and the sigmoid, over lengths that leave every tail.
func TestTanhAffine32(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 31, 1000} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i%400-200) * 0.05
		}
		dst := make([]float32, n)
		const b = 0.25
		tanhAffine32(dst, src, b, 1, 1, 0)
		for i, x := range src {
			want := math.Tanh(float64(x + b))
			if d := math.Abs(float64(dst[i]) - want); d > 5e-7 {
				t.Fatalf("n=%d: tanh(%g) = %g, want %g", n, x+b, dst[i], want)
			}
		}
		copy(dst, src)
		tanhAffine32(dst, dst, b, 0.5, 0.5, 0.5) // in place
		for i, x := range src {
			want := 1 / (1 + math.Exp(-float64(x+b)))
			if d := math.Abs(float64(dst[i]) - want); d > 5e-7 {
				t.Fatalf("n=%d: σ(%g) = %g, want %g", n, x+b, dst[i], want)
			}
		}
	}
}

func BenchmarkTanhAffine32(b *testing.B) {
	v := make([]float32, 1<<16)
	for i := range v {
		v[i] = float32(i%200-100) * 0.05
	}
	out := make([]float32, len(v))
	b.Run("kernel", func(b *testing.B) {
		b.SetBytes(4 * int64(len(v)))
		for range b.N {
			tanhAffine32(out, v, 0, 1, 1, 0)
		}
	})
	b.Run("scalar", func(b *testing.B) {
		b.SetBytes(4 * int64(len(v)))
		for range b.N {
			for i, x := range v {
				out[i] = tanh32(x)
			}
		}
	})
}

// TestBCE32 checks the float32 fused sigmoid+BCE pass against the float64
// one, loss and gradient, for both pixel scales.
func TestBCE32(t *testing.T) {
	const n, per = 3, 301
	u32, x32 := make([]float32, n*per), make([]float32, n*per)
	u64, x64 := make([]float64, n*per), make([]float64, n*per)
	for i := range u32 {
		u32[i] = float32(i%97-48) * 0.37
		x32[i] = float32(i%11) / 10
		u64[i], x64[i] = float64(u32[i]), float64(x32[i])
	}
	for _, s := range []float64{1, 2} {
		d32, d64 := make([]float32, len(u32)), make([]float64, len(u64))
		got := bce32(float32(s), u32, x32, d32, n, make([]float64, 2))
		want := bce(s, u64, x64, d64, n, make([]float64, 2))
		if math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("s=%g: bce32 = %.9g, bce = %.9g", s, got, want)
		}
		for i := range d32 {
			if d := math.Abs(float64(d32[i]) - d64[i]); d > 1e-6/float64(len(u32)) {
				t.Fatalf("s=%g: gradient %d = %g, want %g", s, i, d32[i], d64[i])
			}
		}
	}
	for g := float32(0.5); g <= 1; g += 1.0 / 1024 {
		if d := math.Abs(float64(logHalfOne(g)) - math.Log(float64(g))); d > 2e-7 {
			t.Fatalf("logHalfOne(%g) off by %g", g, d)
		}
	}
}

// naiveConv computes conv, convT and kgrad of g straight from the
// definition, in float64.
func naiveConv(g ConvGeom, x, w, y []float64) (cx, ty, kg []float64) {
	cx, ty, kg = make([]float64, g.N*g.outSize()), make([]float64, g.N*g.inSize()), make([]float64, g.O*g.colRows())
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.O; o++ {
			for i := 0; i < g.Ho; i++ {
				for j := 0; j < g.Wo; j++ {
					yi := ((n*g.O+o)*g.Ho+i)*g.Wo + j
					for c := 0; c < g.C; c++ {
						for ki := 0; ki < g.K; ki++ {
							for kj := 0; kj < g.K; kj++ {
								wi := ((o*g.C+c)*g.K+ki)*g.K + kj
								xi := ((n*g.C+c)*g.H+i*g.S+ki)*g.W + j*g.S + kj
								cx[yi] += w[wi] * x[xi]
								ty[xi] += w[wi] * y[yi]
								kg[wi] += x[xi] * y[yi]
							}
						}
					}
				}
			}
		}
	}
	return cx, ty, kg
}

// TestConvChunks checks the three chunked kernels against the definition
// in float64 and float32, for the CNN's layers and odd shapes, with chunks
// of one image, of a few images with a remainder, and of the whole share.
func TestConvChunks(t *testing.T) {
	defer func(c int) { convCols = c }(convCols)
	geoms := cnnGeoms(t, 5)
	for _, c := range [][7]int{{3, 2, 9, 5, 3, 3, 2}, {2, 1, 8, 8, 2, 2, 2}, {3, 2, 11, 8, 3, 5, 3}, {4, 3, 6, 6, 5, 1, 1}, {2, 4, 7, 17, 3, 3, 1}} {
		g, ok := NewConvGeom(c[0], c[1], c[2], c[3], c[4], c[5], c[6])
		if !ok {
			t.Fatalf("geometry %v rejected", c)
		}
		geoms = append(geoms, g)
	}
	for _, cols := range []int{1, 150, 1 << 20} {
		convCols = cols
		for gi, g := range geoms {
			rng := rand.New(rand.NewPCG(uint64(gi), 7))
			x, w, y := randSlice(rng, g.N*g.inSize()), randSlice(rng, g.O*g.colRows()), randSlice(rng, g.N*g.outSize())
			cx, ty, kg := naiveConv(g, x, w, y)
			var ws64 workspace[float64]
			var ws32 workspace[float32]
			got64 := [][]float64{make([]float64, len(cx)), make([]float64, len(ty)), make([]float64, len(kg))}
			convForward(g, x, w, got64[0], &ws64)
			convTranspose(g, y, w, got64[1], &ws64)
			convKernelGrad(g, x, y, got64[2], &ws64)
			x32, w32, y32 := to32(x), to32(w), to32(y)
			got32 := [][]float32{make([]float32, len(cx)), make([]float32, len(ty)), make([]float32, len(kg))}
			convForward(g, x32, w32, got32[0], &ws32)
			convTranspose(g, y32, w32, got32[1], &ws32)
			convKernelGrad(g, x32, y32, got32[2], &ws32)
			for k, want := range [][]float64{cx, ty, kg} {
				for i, v := range want {
					if d := math.Abs(got64[k][i] - v); d > 1e-10 {
						t.Fatalf("cols %d, %+v, %s float64 [%d] = %g, want %g", cols, g, convNames[k], i, got64[k][i], v)
					}
					if d := math.Abs(float64(got32[k][i]) - v); d > 1e-3*math.Max(1, math.Abs(v)) {
						t.Fatalf("cols %d, %+v, %s float32 [%d] = %g, want %g", cols, g, convNames[k], i, got32[k][i], v)
					}
				}
			}
		}
	}
}

func to32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

// TestVectorKernels checks actBack, sum and addTo in float32 (vector
// kernels and tails) against plain loops.
func TestVectorKernels(t *testing.T) {
	for _, n := range []int{0, 3, 8, 13, 64, 77} {
		y, dy := make([]float32, n), make([]float32, n)
		for i := range y {
			y[i] = float32(i%17-8) / 9
			dy[i] = float32(i%5) - 2
		}
		for _, act := range []activation{actTanh, actSigmoid} {
			dz := make([]float32, n)
			actBack(act, y, dy, dz)
			for i, v := range y {
				want := dy[i] * (1 - v*v)
				if act == actSigmoid {
					want = dy[i] * v * (1 - v)
				}
				if math.Abs(float64(dz[i]-want)) > 1e-6 {
					t.Fatalf("n=%d %s: dz[%d] = %g, want %g", n, actNames[act], i, dz[i], want)
				}
			}
		}
		var want float64
		for _, v := range dy {
			want += float64(v)
		}
		if got := sum(dy); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("n=%d: sum = %g, want %g", n, got, want)
		}
		acc := make([]float32, n)
		addTo(acc, dy)
		addTo(acc, dy)
		for i, v := range dy {
			if acc[i] != 2*v {
				t.Fatalf("n=%d: addTo [%d] = %g, want %g", n, i, acc[i], 2*v)
			}
		}
	}
}

// TestConvDeterministic checks that the kernel gradient, im2col and
// Winograd, is bitwise the same on every run (resumed training relies on
// it), whatever the timing of the workers. It runs with four workers
// whatever the machine, for with one worker there is no timing to depend on.
func TestConvDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, algo := range []ConvAlgorithm{ConvIm2col, ConvWinograd} {
		for _, g := range cnnGeoms(t, 16) {
			if p := g.plan().workers; p < 4 {
				t.Fatalf("%+v: %d workers, want 4", g, p)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			x, y := randF32(rng, g.N*g.inSize()), randF32(rng, g.N*g.outSize())
			var ws workspace[float32]
			grad := func() []float32 {
				dw := make([]float32, g.O*g.colRows())
				withConvAlgorithm(algo, func() bool { convKernelGrad(g, x, y, dw, &ws); return true })
				return dw
			}
			first := grad()
			for range 5 {
				again := grad()
				for i := range first {
					if first[i] != again[i] {
						t.Fatalf("%v, %+v: kernel gradient [%d] %g, then %g", algo, g, i, first[i], again[i])
					}
				}
			}
		}
	}
}

// TestBCEBack checks that bceBackOp, which recomputes the BCE gradient from
// the logits and targets, gives bitwise the gradient the loss's own sweep
// forms (so that training figures do not change with the op that forms
// it), times the upstream gradient.
func TestBCEBack(t *testing.T) {
	const n, per = 3, 301
	u, x := make([]float64, n*per), make([]float64, n*per)
	for i := range u {
		u[i] = float64(i%97-48) * 0.37
		x[i] = float64(i%11) / 10
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, s := range []float64{1, 2} {
			for _, g := range []float64{1, 0.5} {
				uv, xv := tensor.New(tensor.WithShape(n, per), tensor.WithBacking(u)), tensor.New(tensor.WithShape(n, per), tensor.WithBacking(x))
				if dt == tensor.Float32 {
					uv, xv = tensor.New(tensor.WithShape(n, per), tensor.WithBacking(to32(u))), tensor.New(tensor.WithShape(n, per), tensor.WithBacking(to32(x)))
				}
				fwd := &bceOp{scale: s, dims: 2}
				if _, err := fwd.Do(uv, xv); err != nil {
					t.Fatal(err)
				}
				back := &bceBackOp{scale: s, dims: 2}
				got, err := back.Do(uv, xv, scalarValue(dt, g))
				if err != nil {
					t.Fatal(err)
				}
				want := fwd.work.t.Data()
				for i := range u {
					var a, b float64
					switch w := want.(type) {
					case []float32:
						a, b = float64(got.Data().([]float32)[i]), float64(float32(g)*w[i])
					case []float64:
						a, b = got.Data().([]float64)[i], g*w[i]
					}
					if a != b {
						t.Fatalf("%v, s=%g, g=%g: gradient [%d] = %g, the loss's sweep gives %g", dt, s, g, i, a, b)
					}
				}
			}
		}
	}
}

// TestConvWorkers checks the three kernels, im2col and Winograd, against
// the definition with one worker and with three, on the CNN's layers:
// every worker count must keep to the chunk its buffers were sized for.
func TestConvWorkers(t *testing.T) {
	for _, procs := range []int{1, 3} {
		for _, algo := range []ConvAlgorithm{ConvIm2col, ConvWinograd} {
			for gi, g := range cnnGeoms(t, 5) {
				rng := rand.New(rand.NewPCG(uint64(gi), 9))
				x, w, y := randSlice(rng, g.N*g.inSize()), randSlice(rng, g.O*g.colRows()), randSlice(rng, g.N*g.outSize())
				want := [3][]float64{}
				want[0], want[1], want[2] = naiveConv(g, x, w, y)
				got := [3][]float64{make([]float64, len(want[0])), make([]float64, len(want[1])), make([]float64, len(want[2]))}
				func() {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					defer SetConvAlgorithm(convAlgorithm)
					SetConvAlgorithm(algo)
					var ws workspace[float64]
					convForward(g, x, w, got[0], &ws)
					convTranspose(g, y, w, got[1], &ws)
					convKernelGrad(g, x, y, got[2], &ws)
				}()
				for k := range want {
					for i, v := range want[k] {
						if math.Abs(got[k][i]-v) > 1e-10 {
							t.Fatalf("%d workers, %v, %+v: %s [%d] = %g, want %g", procs, algo, g, convNames[k], i, got[k][i], v)
						}
					}
				}
			}
		}
	}
}

// TestGemmSplit checks gemmSplit against the definition in float64 with
// three workers, for every transpose and for shapes it splits by rows
// (m ≥ n) and by columns (m < n), each large enough to be split.
func TestGemmSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, s := range [][3]int{{300, 40, 200}, {24, 700, 300}, {64, 10, 6000}, {10, 512, 2000}} {
		m, n, k := s[0], s[1], s[2]
		long, short := max(m, n), min(m, n)
		if p := min(workers(long), max(1, long*(short*k/64)/grain)); p < 2 {
			t.Fatalf("%v: split into %d pieces, want several", s, p)
		}
		rng := rand.New(rand.NewPCG(uint64(m), uint64(n)))
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a, b := randSlice(rng, m*k), randSlice(rng, k*n)
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				c := make([]float64, m*n)
				gemmSplit(tA, tB, m, n, k, a, lda, b, ldb, c)
				for i := range m {
					for j := range n {
						var want float64
						for p := range k {
							ai, bi := i*lda+p, p*ldb+j
							if tA {
								ai = p*lda + i
							}
							if tB {
								bi = j*ldb + p
							}
							want += a[ai] * b[bi]
						}
						if got := c[i*n+j]; math.Abs(got-want) > 1e-9 {
							t.Fatalf("%v tA=%t tB=%t: C[%d,%d] = %g, want %g", s, tA, tB, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

// TestInterleaveRows checks deinterleaveRows and interleaveRows in float32
// (vector kernel where the width is a multiple of 4) against the
// definition, and that interleaving the halves back restores the rows and
// leaves the values between them alone.
func TestInterleaveRows(t *testing.T) {
	for _, c := range [][2]int{{1, 4}, {3, 8}, {12, 12}, {4, 4}, {2, 13}, {5, 1}} {
		rows, width := c[0], c[1]
		stride := 2*width + 3
		src := make([]float32, (rows-1)*stride+2*width)
		for i := range src {
			src[i] = float32(i) + 0.5
		}
		d0, d1 := make([]float32, rows*width), make([]float32, rows*width)
		deinterleaveRows(d0, d1, src, rows, width, stride)
		for i := range rows {
			for j := range width {
				if d0[i*width+j] != src[i*stride+2*j] || d1[i*width+j] != src[i*stride+2*j+1] {
					t.Fatalf("%d×%d: row %d, column %d: halves %g, %g; want %g, %g", rows, width, i, j, d0[i*width+j], d1[i*width+j], src[i*stride+2*j], src[i*stride+2*j+1])
				}
			}
		}
		back := make([]float32, len(src))
		for i := range back {
			back[i] = -1
		}
		interleaveRows(back, d0, d1, rows, width, stride)
		for i, v := range back {
			want := src[i]
			if i%stride >= 2*width {
				want = -1 // between the rows: untouched
			}
			if v != want {
				t.Fatalf("%d×%d: interleaved [%d] = %g, want %g", rows, width, i, v, want)
			}
		}
	}
}
