package train

import (
	"math"
	"testing"
)

// TestAdamKeras checks single updates against Keras's formula written out.
func TestAdamKeras(t *testing.T) {
	tests := []struct {
		name  string
		lr    float64
		w, g  []float32
		steps int
	}{
		{"one step", 1e-3, []float32{0.5, -1, 2}, []float32{0.1, -0.2, 0}, 1},
		{"three steps", 1e-2, []float32{1, 2}, []float32{3, -4}, 3},
		{"large gradient", 1e-3, []float32{0}, []float32{1e6}, 2},
		// 21 values: two groups of eight for the vector kernel, five after.
		{"vector and tail", 1e-3, spread(21, 0.5), spread(21, -0.03), 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAdam(tc.lr, []int{len(tc.w)})
			w := append([]float32(nil), tc.w...)
			want := make([]float64, len(w))
			m, v := make([]float64, len(w)), make([]float64, len(w))
			for j := range w {
				want[j] = float64(w[j])
			}
			for s := 1; s <= tc.steps; s++ {
				if err := a.Step([][]float32{w}, [][]float32{tc.g}); err != nil {
					t.Fatal(err)
				}
				lrT := tc.lr * math.Sqrt(1-math.Pow(0.999, float64(s))) / (1 - math.Pow(0.9, float64(s)))
				for j, g := range tc.g {
					m[j] = 0.9*m[j] + 0.1*float64(g)
					v[j] = 0.999*v[j] + 0.001*float64(g)*float64(g)
					want[j] -= lrT * m[j] / (math.Sqrt(v[j]) + 1e-7)
				}
			}
			if a.T != tc.steps {
				t.Errorf("T = %d, want %d", a.T, tc.steps)
			}
			for j := range w {
				if math.Abs(float64(w[j])-want[j]) > 1e-6*math.Max(1, math.Abs(want[j])) {
					t.Errorf("w[%d] = %v, want %v", j, w[j], want[j])
				}
			}
		})
	}
}

// spread returns n values from a·1 to a·n with alternating signs.
func spread(n int, a float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = a * float32(i+1)
		if i%2 == 1 {
			s[i] = -s[i]
		}
	}
	return s
}

// TestAdamNilGradient leaves a parameter without gradient untouched.
func TestAdamNilGradient(t *testing.T) {
	a := NewAdam(1e-3, []int{2, 1})
	w0, w1 := []float32{1, 2}, []float32{3}
	if err := a.Step([][]float32{w0, w1}, [][]float32{{1, 1}, nil}); err != nil {
		t.Fatal(err)
	}
	if w1[0] != 3 || a.M[1][0] != 0 || a.V[1][0] != 0 {
		t.Errorf("parameter without gradient changed: w %v m %v v %v", w1, a.M[1], a.V[1])
	}
	if w0[0] == 1 {
		t.Error("parameter with gradient did not change")
	}
	if err := a.Step([][]float32{w0}, [][]float32{nil}); err == nil {
		t.Error("mismatched parameter count accepted")
	}
}

// BenchmarkAdam times one Adam step over the paper's dense net's
// parameters (784·512 + 512·512 + 512·10 weights and their biases).
func BenchmarkAdam(b *testing.B) {
	sizes := []int{784 * 512, 512, 512 * 512, 512, 512 * 10, 10, 784}
	a := NewAdam(1e-3, sizes)
	var params, grads [][]float32
	for _, n := range sizes {
		params, grads = append(params, make([]float32, n)), append(grads, spread(n, 1e-6))
	}
	for range b.N {
		if err := a.Step(params, grads); err != nil {
			b.Fatal(err)
		}
	}
}
