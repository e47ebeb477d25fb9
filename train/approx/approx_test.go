package approx

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"dcim/graph"
	"dcim/graph/cputime"
	"dcim/models"

	"gorgonia.org/tensor"
)

// tinyModel returns random float32 parameters of arch on 1×6×6 images.
func tinyModel(t *testing.T, arch string, enc graph.Encoding) *graph.Params {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewParams(a, models.Shape{C: 1, H: 6, W: 6}, 3, enc, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for _, pt := range p.Tensors() {
		d := pt.Data().([]float32)
		for i := range d {
			d[i] = float32(4 * (rng.Float64() - 0.5))
		}
	}
	return p
}

func tinyImages(n int) ([]float32, []uint8) {
	rng := rand.New(rand.NewPCG(4, 5))
	img := make([]float32, n*36)
	for i := range img {
		img[i] = float32(rng.Float64())
	}
	lab := make([]uint8, n)
	for i := range lab {
		lab[i] = uint8(i % 3)
	}
	return img, lab
}

var both = []graph.Inference{graph.MeanField, graph.Moments}

// TestExactLayers checks what no method approximates: without hidden
// layers the class posterior and the image marginals are exact (KL 0, the
// same accuracy, NLL and BCE), and with one hidden layer, that layer is
// exact given the image (forward) and given the class (reverse). It holds
// as well when an image's 20 draws are run in chunks of 7.
func TestExactLayers(t *testing.T) {
	img, lab := tinyImages(7)
	for _, rows := range []int{64, 7} {
		t.Run(fmt.Sprintf("rows=%d", rows), func(t *testing.T) { exactLayers(t, img, lab, rows) })
	}
}

func exactLayers(t *testing.T, img []float32, lab []uint8, rows int) {
	for _, enc := range []graph.Encoding{graph.Binary, graph.Spin} {
		rep, err := Run(tinyModel(t, "(3)", enc), img, lab, Options{Draws: 20, Seed: 1, Methods: both, Rows: rows})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rep.Methods {
			// Both sides are float32 logits summed in whatever order the
			// CPU's kernels take, so 0 holds to float32 rounding (≈1e-7).
			if kl := rep.Class.KL[m]; math.Abs(kl.Value) > 1e-6 || kl.SE > 1e-6 {
				t.Errorf("%v depth 1, %s: KL(MC ‖ method) %v, want 0 (to float32 rounding)", enc, m, kl)
			}
			if a, b := rep.Class.Methods[m].NLL.Value, rep.Class.MC.NLL.Value; math.Abs(a-b) > 1e-6*b {
				t.Errorf("%v depth 1, %s: NLL %g, Monte Carlo %g", enc, m, a, b)
			}
			if a, b := rep.Image.Methods[m], rep.Image.MC.Value; math.Abs(a-b) > 1e-6*b {
				t.Errorf("%v depth 1, %s: image BCE %g, Monte Carlo %g", enc, m, a, b)
			}
		}
		rep, err = Run(tinyModel(t, "(2,1,3),(3)", enc), img, lab, Options{Draws: 20, Seed: 1, Methods: both, Rows: rows})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rep.Methods {
			for _, l := range []Layer{rep.Forward[0], rep.Reverse[0]} {
				if e := l.Errors[m]; l.Layer != 1 || e.Max.Value > 1e-6 {
					t.Errorf("%v depth 2, %s: layer %d error %+v, want 0 (to float32 rounding)", enc, m, l.Layer, e)
				}
			}
			if kl := rep.Class.KL[m]; !(kl.Value > 0) {
				t.Errorf("%v depth 2, %s: KL(MC ‖ method) %v, want > 0 above a drawn layer", enc, m, kl)
			}
		}
	}
}

// TestJackknifeOfMean checks the standard error against a case worked by
// hand: for a mean the delete-a-group jackknife gives the standard error
// of the mean of the group means, sd/√G.
func TestJackknifeOfMean(t *testing.T) {
	const S = 40 // four draws per group
	d := newDrawStats(1, S)
	groupMeans := make([]float64, groups)
	rows := make([]float64, S)
	for s := range S {
		rows[s] = float64(s*s%7) + 0.5*float64(s/4)
		groupMeans[groupOf(s, S)] += rows[s] / (S / groups)
	}
	addDraws(d, rows[:13], 0) // in two chunks
	addDraws(d, rows[13:], 13)
	reps := d.done().replicates()
	col := make([]float64, len(reps))
	for i, r := range reps {
		col[i] = r[0]
	}
	got := jackknife(col)
	var mean, ss float64
	for _, g := range groupMeans {
		mean += g / groups
	}
	for _, g := range groupMeans {
		ss += (g - mean) * (g - mean)
	}
	want := math.Sqrt(ss / (groups - 1) / groups)
	if math.Abs(got.Value-mean) > 1e-12 || math.Abs(got.SE-want) > 1e-12 {
		t.Errorf("jackknife of the mean: %v, want %g ± %g", got, mean, want)
	}
}

// TestClassFigures checks accuracy, NLL and ECE on posteriors worked by hand.
func TestClassFigures(t *testing.T) {
	probs := []float64{0.9, 0.1, 0.6, 0.4, 0.3, 0.7, 0.55, 0.45}
	labels := []uint8{0, 1, 1, 0}
	f := classFigures(probs, labels, 2)
	nll := -(math.Log(0.9) + math.Log(0.4) + math.Log(0.7) + math.Log(0.55)) / 4
	// Bins of width 1/15: 0.9 → bin 13, 0.6 → 9, 0.7 → 10, 0.55 → 8;
	// each holds one image: ECE = (0.1 + 0.6 + 0.3 + 0.45)/4.
	ece := (0.1 + 0.6 + 0.3 + 0.45) / 4
	if f[0] != 0.75 || math.Abs(f[1]-nll) > 1e-15 || math.Abs(f[2]-ece) > 1e-15 {
		t.Errorf("classFigures = %v, want [0.75 %g %g]", f, nll, ece)
	}
	if kl := meanKL(probs, probs, 2); kl != 0 {
		t.Errorf("KL of posteriors to themselves = %g", kl)
	}
}

// TestSameSeedSameReport runs a model twice with one seed and once with
// another: the first two reports are byte for byte the same, the third
// differs.
func TestSameSeedSameReport(t *testing.T) {
	p := tinyModel(t, "(2,1,3),(4),(3)", graph.Spin)
	img, lab := tinyImages(5)
	var out [][]byte
	for _, seed := range []uint64{1, 1, 2} {
		rep, err := Run(p, img, lab, Options{Draws: 12, Seed: seed, Methods: both, Rows: 16})
		if err != nil {
			t.Fatal(err)
		}
		js, err := rep.JSON()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, js)
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("the same seed gave different reports")
	}
	if bytes.Equal(out[0], out[2]) {
		t.Error("different seeds gave the same report")
	}
}

// BenchmarkRunCNN measures Run on the paper's CNN (random weights, ±1
// units): per image, 200 draws through the forward chain and both methods,
// with the Monte-Carlo graph run on batches of 200 and of 1000 rows. It
// reports the CPU seconds per row, which a shared machine does not skew
// as it does the wall time.
func BenchmarkRunCNN(b *testing.B) {
	p, err := graph.NewParams(models.MNISTCNN(), models.MNISTInput, 10, graph.Spin, tensor.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	const n, draws = 10, 200
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]float32, n*models.MNISTInput.Size())
	for i := range img {
		img[i] = float32(rng.Float64())
	}
	lab := make([]uint8, n)
	for _, rows := range []int{200, 1000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			start := cputime.Process()
			for b.Loop() {
				if _, err := Run(p, img, lab, Options{Draws: draws, Seed: 1, Methods: both, Rows: rows}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cputime.Process()-start).Seconds()/float64(b.N)/(n*draws+10*draws)*1e6, "cpu-µs/row")
		})
	}
}

// TestMemoryFlatInDraws: once an image's draws fill a graph run, more
// draws are run in more chunks and cost no memory; the estimate grows
// with the model's states and with the images, and never overflows.
func TestMemoryFlatInDraws(t *testing.T) {
	p := tinyModel(t, "(2,1,3),(3)", graph.Binary)
	base := Memory(p, 10, Options{Draws: 256, Methods: both})
	for _, draws := range []int{300, 30000, MaxDraws} {
		if m := Memory(p, 10, Options{Draws: draws, Methods: both}); m != base {
			t.Errorf("%d draws: %d bytes, want %d as for 256", draws, m, base)
		}
	}
	if small := Memory(p, 10, Options{Draws: 16, Methods: both}); small > base {
		t.Errorf("16 draws: %d bytes, more than 256 draws' %d", small, base)
	}
	if more := Memory(p, 1000, Options{Draws: 256, Methods: both}); more <= base {
		t.Errorf("1000 images: %d bytes, want more than 10 images' %d", more, base)
	}
	if m := Memory(p, math.MaxInt32, Options{Draws: MaxDraws, Rows: math.MaxInt32, Methods: both}); m <= 0 {
		t.Errorf("huge flags: %d bytes, want a large positive estimate", m)
	}
	if _, err := Run(p, make([]float32, 36), []uint8{0}, Options{Draws: MaxDraws + 1}); err == nil {
		t.Errorf("Run with %d draws: no error", MaxDraws+1)
	}
}
