//go:build amd64 && !purego

package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"dcim/graph/cputime"

	"golang.org/x/sys/cpu"
)

// kernels returns the micro-kernels this CPU can run, the AVX-512 one
// also with A and B always packed.
func kernels() []*kernel {
	ks := []*kernel{avx2}
	if cpu.X86.HasAVX512F {
		packed := *avx512
		packed.name, packed.inPlace = avx512.name+" packed", false
		ks = append(ks, avx512, &packed)
	}
	return ks
}

// TestSgemm checks every kernel against a float64 reference on shapes
// that are and are not multiples of the tiles, all four transpositions,
// alpha ≠ 1, beta 0, 1 and other, and leading dimensions past the rows,
// to |ΔC| ≤ 1e-4·√(k+1) (the entries are uniform on [−1, 1], so a sum of
// k products has a float32 rounding error of order 6e-8·√k·|C|).
func TestSgemm(t *testing.T) {
	if !OK {
		t.Skip("no AVX2/FMA")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{
		{1, 1, 1}, {6, 16, 3}, {7, 17, 5}, {12, 32, 8}, {13, 33, 9}, {14, 31, 300},
		{32, 624, 288}, {13, 35, 300}, {64, 10, 512}, {5, 3, 0}, {288, 32, 32},
		{275, 64, 32}, {9, 676, 32}, {64, 256, 784}, {25, 47, 257},
	}
	for _, kn := range kernels() {
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {2, -0.25}} {
						alpha, beta := ab[0], ab[1]
						lda, ldb, ldc := k+1, n+2, n+3
						if tA {
							lda = m + 1
						}
						if tB {
							ldb = k + 2
						}
						a := make([]float32, max(m, k)*lda+1)
						b := make([]float32, max(n, k)*ldb+1)
						c := make([]float32, m*ldc)
						for _, v := range [][]float32{a, b, c} {
							for i := range v {
								v[i] = float32(rng.Float64()*2 - 1)
							}
						}
						want := make([]float64, m*ldc)
						for i := range m {
							for j := range n {
								var acc float64
								for p := range k {
									av, bv := a[i*lda+p], b[p*ldb+j]
									if tA {
										av = a[p*lda+i]
									}
									if tB {
										bv = b[j*ldb+p]
									}
									acc += float64(av) * float64(bv)
								}
								want[i*ldc+j] = float64(alpha)*acc + float64(beta)*float64(c[i*ldc+j])
							}
							for j := n; j < ldc; j++ { // past the row: untouched
								want[i*ldc+j] = float64(c[i*ldc+j])
							}
						}
						sgemm(kn, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						for i, w := range want {
							if d := math.Abs(float64(c[i]) - w); d > 1e-4*math.Sqrt(float64(k)+1) {
								t.Fatalf("%s %v tA=%t tB=%t α=%g β=%g: C[%d,%d] = %g, want %g", kn.name, s, tA, tB, alpha, beta, i/ldc, i%ldc, c[i], w)
							}
						}
					}
				}
			}
		}
	}
}

// gemmShapes are the float32 GEMMs of one training step (eq. (21)) at
// batch 64 of the paper's CNN and dense net, as package graph calls them
// (after its split over two workers): op(A) m×k, op(B) k×n, with the
// number of calls per step.
var gemmShapes = []struct {
	net          string
	tA, tB       bool
	m, n, k, per int
}{
	{"cnn", false, false, 288, 32, 32, 1024},
	{"cnn", true, false, 32, 32, 288, 1024},
	{"cnn", false, true, 288, 32, 32, 1024},
	{"cnn", true, false, 64, 64, 256, 128},
	{"cnn", false, true, 256, 64, 64, 128},
	{"cnn", false, false, 256, 64, 64, 128},
	{"cnn", false, true, 275, 64, 32, 160},
	{"cnn", false, false, 275, 32, 64, 160},
	{"cnn", false, true, 32, 128, 144, 128},
	{"cnn", true, false, 128, 144, 32, 128},
	{"cnn", false, false, 32, 144, 128, 128},
	{"cnn", true, false, 64, 32, 275, 128},
	{"cnn", true, false, 256, 16, 64, 128},
	{"cnn", false, false, 64, 16, 256, 128},
	{"cnn", false, true, 64, 256, 16, 128},
	{"cnn", true, false, 9, 676, 32, 128},
	{"cnn", false, false, 32, 676, 9, 128},
	{"cnn", false, true, 32, 9, 676, 128},
	{"dense", false, true, 64, 256, 784, 4},
	{"dense", true, false, 512, 392, 64, 4},
	{"dense", false, false, 64, 392, 512, 4},
	{"dense", false, true, 64, 256, 512, 4},
	{"dense", false, false, 64, 256, 512, 4},
	{"dense", true, false, 256, 512, 64, 4},
	{"dense", false, true, 64, 10, 512, 2},
	{"dense", false, false, 64, 512, 10, 2},
	{"dense", true, false, 10, 512, 64, 2},
}

// BenchmarkSgemm times every kernel on the GEMMs of gemmShapes, named
// net/tAtB_m×n×k/kernel so that the kernels of one shape run side by side,
// in CPU time of the benchmark's thread (which a busy machine disturbs less
// than wall time) per op and GFLOP per CPU second.
func BenchmarkSgemm(b *testing.B) {
	if !OK {
		b.Skip("no AVX2/FMA")
	}
	for _, kn := range kernels() {
		benchShapes(b, strings.ReplaceAll(kn.name, " ", "_"), func(tA, tB bool, m, n, k int, a []float32, lda int, bb []float32, ldb int, c []float32) {
			sgemm(kn, tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
		})
	}
}

// benchShapes runs f on the GEMMs of gemmShapes, as sub-benchmarks
// net/tAtB_m×n×k/name.
func benchShapes(b *testing.B, name string, f func(tA, tB bool, m, n, k int, a []float32, lda int, bb []float32, ldb int, c []float32)) {
	rng := rand.New(rand.NewPCG(3, 4))
	t := map[bool]string{false: "N", true: "T"}
	for _, s := range gemmShapes {
		x, y, z := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		for _, v := range [][]float32{x, y} {
			for i := range v {
				v[i] = float32(rng.Float64()*2 - 1)
			}
		}
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		b.Run(fmt.Sprintf("%s/%s%s_%dx%dx%d/%s", s.net, t[s.tA], t[s.tB], s.m, s.n, s.k, name), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := cputime.Thread()
			for range b.N {
				f(s.tA, s.tB, s.m, s.n, s.k, x, lda, y, ldb, z)
			}
			cpu := float64(cputime.Thread()-c0) / float64(b.N)
			b.ReportMetric(cpu, "cpu-ns/op")
			b.ReportMetric(2*float64(s.m*s.n*s.k)/cpu, "GFLOP/cpu-s")
		})
	}
}

// TestPickKernel checks the run-time choice: AVX-512 where the CPU has it
// unless DCIM_SGEMM=avx2, and that Kernel names the choice.
func TestPickKernel(t *testing.T) {
	best := avx2
	if cpu.X86.HasAVX512F {
		best = avx512
	}
	for _, c := range []struct {
		env  string
		want *kernel
	}{{"", best}, {"avx2", avx2}, {"avx512", best}} {
		t.Setenv("DCIM_SGEMM", c.env)
		if got := pickKernel(); got != c.want {
			t.Errorf("DCIM_SGEMM=%q: %s, want %s", c.env, got.name, c.want.name)
		}
	}
	if Kernel() != kern.name {
		t.Errorf("Kernel() = %q, want %q", Kernel(), kern.name)
	}
}

// TestPickOK checks that DCIM_SGEMM=generic, and only it, switches the
// kernels off.
func TestPickOK(t *testing.T) {
	vector := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	for _, c := range []struct {
		env  string
		want bool
	}{{"", vector}, {"avx2", vector}, {"avx512", vector}, {"generic", false}} {
		t.Setenv("DCIM_SGEMM", c.env)
		if got := pickOK(); got != c.want {
			t.Errorf("DCIM_SGEMM=%q: OK %v, want %v", c.env, got, c.want)
		}
	}
}
