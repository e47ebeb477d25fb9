package graph

import (
	"math"
	"math/rand/v2"
	"slices"
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
	reverse := map[string]bool{"ce": false, "label": true, "draw": true, "layer": true, "ce-mf": false, "sleep": false}
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

// Under MonteCarlo inference the reverse layer terms read the sampled
// forward chain: layer:k scores the chain's own draw of layer k under
// q(x^k | x^{k+1}) with x^{k+1} the same sample's draw of layer k+1 (one
// ancestral sample, as wake-sleep's wake phase has it), checked here
// against the BCE computed by hand from the graph's draws.
func TestLayerTermsReadTheSampledChain(t *testing.T) {
	p := mustParams(t, "(4),(3),(3)", models.Shape{C: 1, H: 1, W: 3}, 3, Spin, tensor.Float64)
	randomize(p, 4)
	net, err := New(p, Config{Objective: models.MustParseObjective("ce+layer:*"), Batch: 5, Inference: MonteCarlo, DrawGradient: StraightThrough})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	img, lab := tinyBatch(5, p.Input, 3, 2)
	if err := net.SetBatch(img, lab); err != nil {
		t.Fatal(err)
	}
	net.DrawNoise(rand.New(rand.NewPCG(3, 3)))
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	x1, x2 := net.Draws[1].Value().Data().([]float64), net.Draws[2].Value().Data().([]float64)
	W2, b1 := p.W[1].Data().([]float64), p.B[0].Data().([]float64)
	// −log q(x¹ | x²) per unit: q(x¹_i = ±1) = e^{±u_i}/2cosh u_i, u = W²ᵀx² + b¹.
	var want float64
	for r := range 5 {
		for i := range 4 {
			u := b1[i]
			for j := range 3 {
				u += W2[j*4+i] * x2[r*3+j]
			}
			want += math.Log(2*math.Cosh(u)) - x1[r*4+i]*u
		}
	}
	want /= 20
	var keys []string
	for _, term := range net.Terms {
		keys = append(keys, term.Key())
		if term.Key() == "layer1" {
			if got := Scalar(term.Value); math.Abs(got-want) > 1e-12 {
				t.Errorf("layer1 = %.15g, by hand from the sampled chain %.15g", got, want)
			}
		}
	}
	if !slices.Equal(keys, []string{"ce", "draw1", "layer1", "layer2"}) {
		t.Errorf("terms %v, want ce, draw1, layer1, layer2", keys)
	}
}

// ce-mf is the mean-field chain's cross-entropy whatever the inference:
// beside the sampled chain (MonteCarlo) or the moment method its value and
// gradients are those of ce in a mean-field graph of the same weights.
func TestMeanFieldCEBesideOtherInference(t *testing.T) {
	p := mustParams(t, "(3,1,2),(5),(4),(3)", models.Shape{C: 1, H: 5, W: 5}, 3, Spin, tensor.Float64)
	randomize(p, 8)
	run := func(cfg Config) (float64, [][]float64) {
		cfg.Batch, cfg.Grad = 4, true
		_, _, grads := runNet(t, p, cfg, noiseStream(2))
		net, v, _ := runNet(t, p, cfg, noiseStream(2))
		for _, term := range net.Terms {
			if term.Kind == models.MeanFieldCE || (term.Kind == models.CE && cfg.Inference == MeanField) {
				v = Scalar(term.Value)
			}
		}
		return v, grads
	}
	want, wantGrads := run(Config{Objective: models.MustParseObjective("ce")})
	for _, cfg := range []Config{
		{Objective: models.MustParseObjective("0*ce+ce-mf"), Inference: MonteCarlo, DrawGradient: StraightThrough},
		{Objective: models.MustParseObjective("0*ce+ce-mf"), Inference: MonteCarlo, DrawGradient: PSA},
		{Objective: models.MustParseObjective("0*ce+ce-mf"), Inference: Moments},
	} {
		got, grads := run(cfg)
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%v: ce-mf = %.15g, mean-field ce %.15g", cfg.Inference, got, want)
		}
		for i := range grads {
			for j, g := range grads[i] {
				if math.Abs(g-wantGrads[i][j]) > 1e-12*(1+math.Abs(g)) {
					t.Fatalf("%v/%v: gradient %s[%d] = %g, mean field %g", cfg.Inference, cfg.DrawGradient, p.Names()[i], j, g, wantGrads[i][j])
				}
			}
		}
	}
}

// sleep is the mean-field cross-entropy of the chain-mode dreams, read as
// data: its dreams are the images the chain-mode Generator draws from the
// same noise, and its value and gradients are those of ce in a graph
// whose images are the dreams (no gradient through the reverse chain,
// none to a⁰).
func TestSleepIsCEOnChainDreams(t *testing.T) {
	for _, enc := range []Encoding{Spin, Binary} {
		t.Run(enc.String(), func(t *testing.T) {
			p := mustParams(t, "(3,1,2),(5),(4),(3)", models.Shape{C: 1, H: 5, W: 5}, 3, enc, tensor.Float64)
			randomize(p, 9)
			img, lab := tinyBatch(4, p.Input, 3, 6)
			net, err := New(p, Config{Objective: models.MustParseObjective("sleep"), Batch: 4, Grad: true})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			if err := net.SetBatch(img, lab); err != nil {
				t.Fatal(err)
			}
			net.DrawNoise(rand.New(rand.NewPCG(5, 5)))
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			dream := slices.Clone(net.Dream.Value().Data().([]float64))

			d := p.Depth()
			gen, err := NewGenerator(p, d, []int{3, 2, 1}[:d-1], 4)
			if err != nil {
				t.Fatal(err)
			}
			defer gen.Close()
			if err := gen.SetClasses(lab); err != nil {
				t.Fatal(err)
			}
			gen.DrawNoise(rand.New(rand.NewPCG(5, 5)))
			if err := gen.Run(); err != nil {
				t.Fatal(err)
			}
			for i, v := range gen.Image.Value().Data().([]float64) {
				if v != dream[i] {
					t.Fatalf("dream[%d] = %g, chain-mode generator %g", i, dream[i], v)
				}
			}

			ce, err := New(p, Config{Objective: models.MustParseObjective("ce"), Batch: 4, Grad: true})
			if err != nil {
				t.Fatal(err)
			}
			defer ce.Close()
			if err := ce.SetBatch(img, lab); err != nil {
				t.Fatal(err)
			}
			i := 0
			fill(ce.X.Value().(*tensor.Dense), func() float64 { v := dream[i]; i++; return v })
			if err := ce.Run(); err != nil {
				t.Fatal(err)
			}
			if got, want := Scalar(net.Loss), Scalar(ce.Loss); math.Abs(got-want) > 1e-12 {
				t.Errorf("sleep = %.15g, ce on the dreams %.15g", got, want)
			}
			if len(net.Grads) != len(ce.Grads) {
				t.Fatalf("%d and %d gradients", len(net.Grads), len(ce.Grads))
			}
			for k, g := range net.Grads {
				if (g == nil) != (ce.Grads[k] == nil) {
					t.Fatalf("gradient %s: sleep has one %t, ce %t", p.Names()[k], g != nil, ce.Grads[k] != nil)
				}
				if g == nil {
					continue
				}
				want := ce.Grads[k].Value().Data().([]float64)
				for j, v := range g.Value().Data().([]float64) {
					if math.Abs(v-want[j]) > 1e-12*(1+math.Abs(v)) {
						t.Fatalf("gradient %s[%d] = %g, ce on the dreams %g", p.Names()[k], j, v, want[j])
					}
				}
			}
			if net.Grads[len(net.Grads)-1] != nil {
				t.Error("sleep has a gradient to a⁰: the dream is not data")
			}
		})
	}
}
