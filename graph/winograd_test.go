package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"dcim/graph/internal/simd"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// withConvAlgorithm returns f's result under the convolution algorithm a.
func withConvAlgorithm[R any](a ConvAlgorithm, f func() R) R {
	defer SetConvAlgorithm(convAlgorithm)
	SetConvAlgorithm(a)
	return f()
}

// winoF32Bound is the float32 error bound of the Winograd kernels, relative
// to the root-mean-square of the terms of each output (so that it holds
// for outputs that cancel): F(2×2, 3×3) measured 8.6e-7 worst on these
// shapes (inputs and kernels uniform in [−1, 1]).
const winoF32Bound = 4e-6

// TestWinograd checks the three Winograd kernels against the definition:
// in float64 to 1e-12, in float32 to winoF32Bound, for the CNN's stride-1
// 3×3 layers and odd shapes, with chunks of one tile row, a few images,
// and the whole share.
func TestWinograd(t *testing.T) {
	defer func(c int) { winoCols = c }(winoCols)
	var geoms []ConvGeom
	for _, g := range cnnGeoms(t, 5) {
		if g.K == 3 && g.S == 1 {
			geoms = append(geoms, g)
		}
	}
	for _, c := range [][7]int{{3, 2, 6, 8, 3, 3, 1}, {2, 1, 4, 4, 1, 3, 1}, {4, 3, 10, 6, 5, 3, 1}} {
		g, ok := NewConvGeom(c[0], c[1], c[2], c[3], c[4], c[5], c[6])
		if !ok {
			t.Fatalf("geometry %v rejected", c)
		}
		geoms = append(geoms, g)
	}
	worst := 0.0
	for _, cols := range []int{1, 40, 1 << 20} {
		winoCols = cols
		for gi, g := range geoms {
			t.Run(fmt.Sprintf("cols%d/%+v", cols, g), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(gi), 11))
				x, w, y := randSlice(rng, g.N*g.inSize()), randSlice(rng, g.O*g.colRows()), randSlice(rng, g.N*g.outSize())
				want := [3][]float64{}
				want[0], want[1], want[2] = naiveConv(g, x, w, y)
				// The scale of each output: the root-mean-square of its
				// terms times their number, bounded by the worst case.
				scale := [3]float64{math.Sqrt(float64(g.C * 9)), math.Sqrt(float64(g.O * 9)), math.Sqrt(float64(g.N * g.Ho * g.Wo))}
				var ws64 workspace[float64]
				got64 := [3][]float64{make([]float64, len(want[0])), make([]float64, len(want[1])), make([]float64, len(want[2]))}
				winoForward(g, x, w, got64[0], &ws64)
				winoTranspose(g, y, w, got64[1], &ws64)
				winoKernelGrad(g, x, y, got64[2], &ws64)
				var ws32 workspace[float32]
				x32, w32, y32 := to32(x), to32(w), to32(y)
				got32 := [3][]float32{make([]float32, len(want[0])), make([]float32, len(want[1])), make([]float32, len(want[2]))}
				winoForward(g, x32, w32, got32[0], &ws32)
				winoTranspose(g, y32, w32, got32[1], &ws32)
				winoKernelGrad(g, x32, y32, got32[2], &ws32)
				for k := range want {
					for i, v := range want[k] {
						if d := math.Abs(got64[k][i] - v); d > 1e-12*scale[k] {
							t.Fatalf("%s float64 [%d] = %.17g, want %.17g", convNames[k], i, got64[k][i], v)
						}
						d := math.Abs(float64(got32[k][i])-v) / scale[k]
						worst = max(worst, d)
						if d > winoF32Bound {
							t.Fatalf("%s float32 [%d] = %g, want %g (relative error %.3g)", convNames[k], i, got32[k][i], v, d)
						}
					}
				}
			})
		}
	}
	t.Logf("worst float32 error relative to the terms' scale: %.3g (bound %g)", worst, winoF32Bound)
}

// TestWinogradChoice checks which layers of the CNN each algorithm sends to
// Winograd: auto takes the stride-1 3×3 layers with at least winoMinC
// input channels, never the strided ones or an odd output.
func TestWinogradChoice(t *testing.T) {
	odd, _ := NewConvGeom(1, 32, 7, 7, 4, 3, 1)
	cases := []struct {
		a    ConvAlgorithm
		want []bool
	}{
		{ConvAuto, []bool{false, true, false, true, true, false, false}},
		{ConvWinograd, []bool{true, true, false, true, true, false, false}},
		{ConvIm2col, []bool{false, false, false, false, false, false, false}},
	}
	for _, c := range cases {
		for i, g := range append(cnnGeoms(t, 4), odd) {
			if got := withConvAlgorithm(c.a, g.winograd); got != c.want[i] {
				t.Errorf("%v: layer %d (%+v) winograd = %t, want %t", c.a, i+1, g, got, c.want[i])
			}
		}
	}
	for _, s := range []string{"auto", "im2col", "winograd"} {
		if a, err := ParseConvAlgorithm(s); err != nil || a.String() != s {
			t.Errorf("ParseConvAlgorithm(%q) = %v, %v", s, a, err)
		}
	}
	if _, err := ParseConvAlgorithm("fft"); err == nil {
		t.Error("ParseConvAlgorithm(\"fft\") accepted")
	}
}

// TestConvOpGradient checks the derivatives of the three convolution ops
// (conv, convT and kgrad, each differentiated through the other two by
// Gorgonia) against central differences in float64, under im2col and under
// Winograd, for geometries Winograd applies to and one it does not.
func TestConvOpGradient(t *testing.T) {
	for _, algo := range []ConvAlgorithm{ConvIm2col, ConvWinograd} {
		for _, c := range [][7]int{{2, 2, 6, 6, 3, 3, 1}, {1, 3, 8, 6, 2, 3, 1}, {2, 2, 7, 7, 2, 3, 2}} {
			g, _ := NewConvGeom(c[0], c[1], c[2], c[3], c[4], c[5], c[6])
			for kind := range convNames {
				t.Run(fmt.Sprintf("%v/%+v/%s", algo, g, convNames[kind]), func(t *testing.T) {
					withConvAlgorithm(algo, func() bool { checkConvGradient(t, convKind(kind), g); return true })
				})
			}
		}
	}
}

// checkConvGradient builds loss = Σ r ⊙ op(a, b) for the op of the given
// kind and compares Gorgonia's gradients in a and b with central
// differences.
func checkConvGradient(t *testing.T, kind convKind, g ConvGeom) {
	op := newConv(kind, g)
	sa, sb, so := op.shapes()
	rng := rand.New(rand.NewPCG(uint64(kind), 5))
	eg := G.NewGraph()
	a := G.NewTensor(eg, tensor.Float64, 4, G.WithShape(sa...), G.WithName("a"), G.WithValue(tensor.New(tensor.WithShape(sa...), tensor.WithBacking(randSlice(rng, sa.TotalSize())))))
	b := G.NewTensor(eg, tensor.Float64, 4, G.WithShape(sb...), G.WithName("b"), G.WithValue(tensor.New(tensor.WithShape(sb...), tensor.WithBacking(randSlice(rng, sb.TotalSize())))))
	r := G.NewTensor(eg, tensor.Float64, 4, G.WithShape(so...), G.WithName("r"), G.WithValue(tensor.New(tensor.WithShape(so...), tensor.WithBacking(randSlice(rng, so.TotalSize())))))
	out, err := G.ApplyOp(op, a, b)
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
	grads, err := G.Grad(loss, a, b)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	run := func() float64 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return loss.Value().Data().(float64)
	}
	run()
	analytic := [][]float64{
		append([]float64(nil), grads[0].Value().Data().([]float64)...),
		append([]float64(nil), grads[1].Value().Data().([]float64)...),
	}
	values := [][]float64{a.Value().Data().([]float64), b.Value().Data().([]float64)}
	if worst, where := worstGradError(values, []string{a.Name(), b.Name()}, analytic, run, 1); worst > 1e-7 {
		t.Fatalf("max relative error %.3g at %s", worst, where)
	}
}

// TestTranspose checks transpose, strips of vector blocks (16 and 8 wide
// with AVX-512, 8 with AVX2), blocks of 8 on the rest and scalar edges,
// against the definition.
func TestTranspose(t *testing.T) {
	defer simd.SetWide(simd.Wide())
	for _, wide := range []bool{false, true} {
		simd.SetWide(wide)
		for _, c := range [][2]int{{1, 1}, {8, 8}, {16, 24}, {13, 8}, {32, 676}, {9, 17}, {24, 40}, {40, 24}, {676, 32}, {33, 49}} {
			rows, cols := c[0], c[1]
			src := make([]float32, rows*cols)
			for i := range src {
				src[i] = float32(i)
			}
			dst := make([]float32, len(src))
			transpose(dst, src, rows, cols)
			for i := range rows {
				for j := range cols {
					if dst[j*rows+i] != src[i*cols+j] {
						t.Fatalf("wide %t, %d×%d: dst[%d,%d] = %g, want %g", wide, rows, cols, j, i, dst[j*rows+i], src[i*cols+j])
					}
				}
			}
		}
	}
}

// TestWinogradWide checks that the three Winograd kernels give the same
// bits with the AVX-512 tile transforms and transposes as with the AVX2
// ones, on the CNN's layers and on channel counts that are odd multiples
// of 8 (where the 16-lane kernels fall back to 8 lanes) and sizes that
// leave partial transpose blocks.
func TestWinogradWide(t *testing.T) {
	if !simd.OK {
		t.Skip("no vector kernels")
	}
	defer simd.SetWide(simd.Wide())
	for _, on := range []bool{false, true} {
		want := "AVX2 8-lane"
		if simd.SetWide(on); simd.Wide() {
			want = "AVX-512 16-lane"
		}
		if got := WinoTransforms(); got != want {
			t.Errorf("WinoTransforms() = %q with SetWide(%t), want %q", got, on, want)
		}
	}
	geoms := cnnGeoms(t, 3)[1:2]
	for _, c := range [][7]int{{2, 24, 10, 12, 40, 3, 1}, {3, 48, 6, 22, 8, 3, 1}, {2, 16, 20, 20, 32, 3, 1}} {
		g, _ := NewConvGeom(c[0], c[1], c[2], c[3], c[4], c[5], c[6])
		geoms = append(geoms, g)
	}
	for gi, g := range geoms {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(gi), 12))
			x, w, y := randF32(rng, g.N*g.inSize()), randF32(rng, g.O*g.colRows()), randF32(rng, g.N*g.outSize())
			var got [2][3][]float32
			for i, wide := range []bool{false, true} {
				simd.SetWide(wide)
				var ws workspace[float32]
				out := [3][]float32{make([]float32, len(y)), make([]float32, len(x)), make([]float32, len(w))}
				winoForward(g, x, w, out[0], &ws)
				winoTranspose(g, y, w, out[1], &ws)
				winoKernelGrad(g, x, y, out[2], &ws)
				got[i] = out
			}
			for k := range got[0] {
				for i, v := range got[0][k] {
					if got[1][k][i] != v {
						t.Fatalf("%s [%d]: %g with AVX-512 transforms, %g with AVX2", convNames[k], i, got[1][k][i], v)
					}
				}
			}
		})
	}
}
