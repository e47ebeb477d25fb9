package graph

import (
	"math"
	"testing"
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
