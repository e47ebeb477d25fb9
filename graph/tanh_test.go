package graph

import (
	"math"
	"testing"
)

func TestTanh32(t *testing.T) {
	worst := 0.0
	for x := -12.0; x <= 12; x += 1e-3 {
		got, want := float64(tanh32(float32(x))), math.Tanh(float64(float32(x)))
		if d := math.Abs(got - want); d > worst {
			worst = d
		}
	}
	if worst > 5e-7 {
		t.Errorf("tanh32 max abs error %g", worst)
	}
	v := []float32{-3, 0, 3}
	activate32(actSigmoid, v)
	for i, x := range []float64{-3, 0, 3} {
		if d := math.Abs(float64(v[i]) - 1/(1+math.Exp(-x))); d > 5e-7 {
			t.Errorf("sigmoid(%g) off by %g", x, d)
		}
	}
}

func BenchmarkTanh(b *testing.B) {
	v := make([]float32, 1<<16)
	b.Run("tanh32", func(b *testing.B) {
		for range b.N {
			for i := range v {
				v[i] = tanh32(float32(i%200-100) * 0.05)
			}
		}
	})
	b.Run("math.Tanh", func(b *testing.B) {
		for range b.N {
			for i := range v {
				v[i] = float32(math.Tanh(float64(i%200-100) * 0.05))
			}
		}
	})
}
