package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkGorgoniaBaseline is the reference point of the speed work: the
// paper's CNN trained discriminatively the way Gorgonia's own examples
// build a convnet (G.Conv2d, G.Tanh, G.Mul, G.SoftMax, a cross-entropy of
// G.Log and G.HadamardProd, dual values bound by the tape machine, and
// G.AdamSolver), one training step per iteration at batch 64 in float32.
// Compare its img/s with BenchmarkStep/cnn/discriminative in the same run.
func BenchmarkGorgoniaBaseline(b *testing.B) {
	const batch = 64
	g := G.NewGraph()
	dt := tensor.Float32
	x := G.NewTensor(g, dt, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x"), G.WithInit(G.Uniform(0, 1)))
	y := G.NewMatrix(g, dt, G.WithShape(batch, 10), G.WithName("y"), G.WithInit(G.Zeroes()))
	convs := []struct{ in, out, k, s int }{{1, 32, 3, 1}, {32, 32, 3, 1}, {32, 32, 2, 2}, {32, 64, 3, 1}, {64, 64, 3, 1}, {64, 64, 2, 2}}
	var learnables G.Nodes
	h := x
	for _, c := range convs {
		w := G.NewTensor(g, dt, 4, G.WithShape(c.out, c.in, c.k, c.k), G.WithInit(G.GlorotU(1)))
		learnables = append(learnables, w)
		z, err := G.Conv2d(h, w, tensor.Shape{c.k, c.k}, []int{0, 0}, []int{c.s, c.s}, []int{1, 1})
		if err != nil {
			b.Fatal(err)
		}
		h = G.Must(G.Tanh(z))
	}
	h = G.Must(G.Reshape(h, tensor.Shape{batch, 64 * 4 * 4}))
	for _, d := range []struct{ in, out int }{{1024, 50}, {50, 10}} {
		w := G.NewMatrix(g, dt, G.WithShape(d.in, d.out), G.WithInit(G.GlorotU(1)))
		learnables = append(learnables, w)
		h = G.Must(G.Mul(h, w))
		if d.out == 50 {
			h = G.Must(G.Tanh(h))
		}
	}
	probs := G.Must(G.SoftMax(h))
	cost := G.Must(G.Neg(G.Must(G.Mean(G.Must(G.HadamardProd(G.Must(G.Log(probs)), y))))))
	if _, err := G.Grad(cost, learnables...); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(learnables...))
	defer vm.Close()
	solver := G.NewAdamSolver(G.WithLearnRate(1e-3), G.WithBeta1(0.9), G.WithBeta2(0.999), G.WithEps(1e-7))
	step := func() {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		if err := solver.Step(G.NodesToValueGrads(learnables)); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}
