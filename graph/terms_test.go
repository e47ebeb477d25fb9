package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"dcim/models"

	"gorgonia.org/tensor"
)

// Every term kind that models declares has a graph builder.
func TestEveryKindHasABuilder(t *testing.T) {
	for _, k := range models.TermKinds() {
		if _, ok := termBuilders[k]; !ok {
			t.Errorf("term kind %v has no builder in termBuilders", k)
		}
	}
	if len(termBuilders) != len(models.TermKinds()) {
		t.Errorf("%d builders for %d kinds", len(termBuilders), len(models.TermKinds()))
	}
}

// λ multiplies the reverse terms, and only them: for every kind, a loss of
// that one term at λ = 3 is 3 times (reverse) or exactly (other kinds) the
// loss at λ = 1, and each gradient scales alike. The table says which
// kinds score the reverse model; a kind missing from it fails the test,
// so that a new kind is a decision.
func TestLambdaOnEveryKind(t *testing.T) {
	reverse := map[string]bool{"ce": false, "label": true, "draw": true, "layer": true}
	p := mustParams(t, "(3,1,2),(5),(3)", models.Shape{C: 1, H: 4, W: 4}, 3, Spin, tensor.Float64)
	randomize(p, 3)
	img, lab := tinyBatch(4, p.Input, 3, 5)
	for _, k := range models.TermKinds() {
		t.Run(k.String(), func(t *testing.T) {
			rev, listed := reverse[k.String()]
			if !listed {
				t.Fatalf("kind %v: say in this test whether it scores the reverse model", k)
			}
			if rev != k.Reverse() {
				t.Errorf("kind %v: Reverse() = %v, want %v", k, k.Reverse(), rev)
			}
			obj := models.Objective{{Kind: k, Weight: 0.5}}
			run := func(lambda float64) (float64, [][]float64) {
				net, err := New(p, Config{Objective: obj, Lambda: lambda, Batch: 4, Grad: true})
				if err != nil {
					t.Fatal(err)
				}
				defer net.Close()
				if err := net.SetBatch(img, lab); err != nil {
					t.Fatal(err)
				}
				net.DrawNoise(rand.New(rand.NewPCG(1, 2)))
				if err := net.Run(); err != nil {
					t.Fatal(err)
				}
				var grads [][]float64
				for _, g := range net.Grads {
					if g != nil {
						grads = append(grads, g.Value().Data().([]float64))
					}
				}
				return Scalar(net.Loss), grads
			}
			l1, g1 := run(1)
			l3, g3 := run(3)
			want := 1.0
			if rev {
				want = 3
			}
			if l1 == 0 || math.Abs(l3/l1-want) > 1e-12 {
				t.Errorf("loss at λ 3 / loss at λ 1 = %g / %g = %g, want %g", l3, l1, l3/l1, want)
			}
			if len(g1) == 0 || len(g1) != len(g3) {
				t.Fatalf("%d and %d gradients", len(g1), len(g3))
			}
			for i := range g1 {
				for j := range g1[i] {
					if d := math.Abs(g3[i][j] - want*g1[i][j]); d > 1e-12*(1+math.Abs(g3[i][j])) {
						t.Fatalf("gradient %d[%d]: %g at λ 3, %g at λ 1", i, j, g3[i][j], g1[i][j])
					}
				}
			}
		})
	}
}
