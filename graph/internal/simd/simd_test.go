package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestSgemm(t *testing.T) {
	if !OK {
		t.Skip("no AVX2/FMA")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{1, 1, 1}, {6, 16, 3}, {7, 17, 5}, {32, 624, 288}, {13, 35, 300}, {64, 10, 512}, {5, 3, 0}} {
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
					}
					Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
					for i := range m {
						for j := range n {
							if d := math.Abs(float64(c[i*ldc+j]) - want[i*ldc+j]); d > 1e-4*math.Sqrt(float64(k)+1) {
								t.Fatalf("%v tA=%t tB=%t α=%g β=%g: C[%d,%d] = %g, want %g", s, tA, tB, alpha, beta, i, j, c[i*ldc+j], want[i*ldc+j])
							}
						}
					}
				}
			}
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	if !OK {
		b.Skip("no AVX2/FMA")
	}
	for _, s := range [][3]int{{32, 624, 288}, {288, 624, 32}, {32, 288, 624}, {64, 80, 576}, {256, 256, 256}} {
		m, n, k := s[0], s[1], s[2]
		x, y, z := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for range b.N {
				Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
