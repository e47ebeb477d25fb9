package complete

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"dcim/data"
	"dcim/graph"
	"dcim/models"

	"gorgonia.org/tensor"
)

// newParams returns randomly initialised parameters of arch (the last
// layer's units are the classes).
func newParams(t *testing.T, arch string, in models.Shape, enc graph.Encoding, dt tensor.Dtype, seed uint64) *graph.Params {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewParams(a, in, a[len(a)-1].Units, enc, dt, seed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// countObserved returns the observed pixels of image i under m.
func countObserved(m *Mask, i int) (int, []bool) {
	obs := make([]bool, m.H*m.W)
	m.Observed(i, obs)
	n := 0
	for _, o := range obs {
		if o {
			n++
		}
	}
	return n, obs
}

// writePNG writes a w×h grey mask whose pixel (x, y) is white where white
// says so.
func writePNG(t *testing.T, w, h int, white func(x, y int) bool) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if white(x, y) {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	path := filepath.Join(t.TempDir(), "mask.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMasks(t *testing.T) {
	const h, w = 28, 28
	opts := MaskOptions{Size: 14, P: 0.9, Seed: 1}
	diag := writePNG(t, w, h, func(x, y int) bool { return x > y })
	tests := []struct {
		kind     string
		opts     MaskOptions
		name     string
		observed int
		// pixels (y, x) that must be observed / missing
		in, out [][2]int
	}{
		{"bottom", opts, "bottom", 392, [][2]int{{0, 0}, {13, 27}}, [][2]int{{14, 0}, {27, 27}}},
		{"top", opts, "top", 392, [][2]int{{14, 0}, {27, 27}}, [][2]int{{0, 0}, {13, 27}}},
		{"left", opts, "left", 392, [][2]int{{0, 14}, {27, 27}}, [][2]int{{0, 0}, {27, 13}}},
		{"right", opts, "right", 392, [][2]int{{0, 0}, {27, 13}}, [][2]int{{0, 14}, {27, 27}}},
		{"centre", opts, "centre14", 784 - 196, [][2]int{{6, 6}, {21, 21}, {0, 0}}, [][2]int{{7, 7}, {20, 20}}},
		{"centre", MaskOptions{Size: 28}, "centre28", 0, nil, [][2]int{{0, 0}, {27, 27}}},
		{"centre", MaskOptions{Size: 3}, "centre3", 784 - 9, [][2]int{{11, 11}, {15, 15}, {12, 15}}, [][2]int{{12, 12}, {14, 14}}},
		{"random", opts, "random0.90", 784 - 706, nil, nil},
		{"random", MaskOptions{P: 0}, "random0.00", 784, nil, nil},
		{"png:" + diag, opts, "png-mask", 378, [][2]int{{0, 1}, {26, 27}}, [][2]int{{0, 0}, {5, 5}, {27, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMask(tt.kind, tt.opts, h, w)
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != tt.name {
				t.Errorf("name %q, want %q", m.Name, tt.name)
			}
			n, obs := countObserved(m, 0)
			if n != tt.observed {
				t.Errorf("%d observed pixels, want %d", n, tt.observed)
			}
			for _, yx := range tt.in {
				if !obs[yx[0]*w+yx[1]] {
					t.Errorf("pixel %v missing, want observed", yx)
				}
			}
			for _, yx := range tt.out {
				if obs[yx[0]*w+yx[1]] {
					t.Errorf("pixel %v observed, want missing", yx)
				}
			}
		})
	}
}

func TestRandomMaskIsSeededPerImage(t *testing.T) {
	mk := func(seed uint64) *Mask {
		m, err := NewMask("random", MaskOptions{P: 0.5, Seed: seed}, 28, 28)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	_, a0 := countObserved(mk(1), 0)
	_, b0 := countObserved(mk(1), 0)
	_, a1 := countObserved(mk(1), 1)
	_, c0 := countObserved(mk(2), 0)
	if !reflect.DeepEqual(a0, b0) {
		t.Error("same seed and image gave different masks")
	}
	if reflect.DeepEqual(a0, a1) {
		t.Error("images 0 and 1 got the same random mask")
	}
	if reflect.DeepEqual(a0, c0) {
		t.Error("seeds 1 and 2 gave the same random mask")
	}
}

func TestMaskErrors(t *testing.T) {
	small := writePNG(t, 20, 28, func(int, int) bool { return true })
	tests := []struct {
		spec string
		opts MaskOptions
		want string
	}{
		{"centre", MaskOptions{Size: 29}, "larger than the 28×28 image"},
		{"centre", MaskOptions{Size: 0}, "size 0"},
		{"random", MaskOptions{P: 1}, "want a fraction in [0,1)"},
		{"random", MaskOptions{P: -0.1}, "want a fraction in [0,1)"},
		{"random", MaskOptions{P: math.NaN()}, "want a fraction in [0,1)"},
		{"png:" + small, MaskOptions{}, "is 28×20 pixels, want 28×28"},
		{"png:" + filepath.Join(t.TempDir(), "none.png"), MaskOptions{}, "no such file"},
		{"png:" + filepath.Join("testdata", "..", "mask.go"), MaskOptions{}, "unknown format"},
		{"middle", MaskOptions{}, `unknown mask "middle"`},
		{"bottom,", MaskOptions{}, `unknown mask ""`},
		{"", MaskOptions{}, "empty mask"},
		{"all,bottom", MaskOptions{Size: 14, P: 0.9}, "mask bottom given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParseMasks(tt.spec, tt.opts, 28, 28)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseMasksAll(t *testing.T) {
	ms, err := ParseMasks("all", MaskOptions{Size: 14, P: 0.9}, 28, 28)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	want := []string{"bottom", "top", "left", "right", "centre14", "random0.90"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("masks %v, want %v", names, want)
	}
}

func TestParseMethods(t *testing.T) {
	tests := []struct {
		spec    string
		mixture bool
		want    []Method
		err     bool
	}{
		{"all", false, []Method{Zero, Mean, Generative, Joint, Iterate}, false},
		{"all", true, []Method{Zero, Mean, Generative, Joint, Iterate, Mixture}, false},
		{"zero,joint", false, []Method{Zero, Joint}, false},
		{"mixture", false, []Method{Mixture}, false},
		{"bayes", false, nil, true},
	}
	for _, tt := range tests {
		got, err := ParseMethods(tt.spec, tt.mixture)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMethods(%q, %v) = %v, %v; want %v (error %v)", tt.spec, tt.mixture, got, err, tt.want, tt.err)
		}
	}
}

// bernoulliLL is log q(x | means_j) summed over the pixels where use holds,
// written out pixel by pixel.
func bernoulliLL(x []float32, means []float32, use func(p int) bool) float64 {
	var s float64
	for p, v := range x {
		if use(p) {
			m := min(max(float64(means[p]), probFloor), 1-probFloor)
			s += float64(v)*math.Log(m) + (1-float64(v))*math.Log(1-m)
		}
	}
	return s
}

// TestMarginalisation checks, on the reverse means of a small random
// two-layer model, that the generative log-likelihood of the observed
// pixels is the sum over them of the Bernoulli log-likelihood, that with
// nothing missing it is the full-image log-likelihood, and that it equals
// log Σ over every binary completion of the missing pixels of the
// full-image likelihood: the missing pixels marginalise out exactly.
func TestMarginalisation(t *testing.T) {
	for _, enc := range []graph.Encoding{graph.Binary, graph.Spin} {
		t.Run(enc.String(), func(t *testing.T) {
			p := newParams(t, "(6),(3)", models.Shape{C: 1, H: 3, W: 4}, enc, tensor.Float64, 7)
			e := &evaluator{p: p, size: 12, classes: 3}
			means, err := graph.ClassImages(e.p, []uint8{0, 1, 2}, graph.MeanField)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			x := make([]float32, 2*12)
			for i := range x {
				x[i] = rng.Float32()
			}
			all := make([]bool, len(x))
			for i := range all {
				all[i] = true
			}
			missing := []int{1, 6, 11} // of image 0
			obs := clone(all)
			for _, j := range missing {
				obs[j] = false
			}
			full := LogLikelihoods(x, all, means, 12)
			part := LogLikelihoods(x, obs, means, 12)
			for i := range 2 {
				img := x[i*12 : (i+1)*12]
				for c := range 3 {
					mc := means[c*12 : (c+1)*12]
					want := bernoulliLL(img, mc, func(int) bool { return true })
					if got := full[i*3+c]; math.Abs(got-want) > 1e-9 {
						t.Errorf("image %d class %d full: %v, want %v", i, c, got, want)
					}
					want = bernoulliLL(img, mc, func(p int) bool { return obs[i*12+p] })
					if got := part[i*3+c]; math.Abs(got-want) > 1e-9 {
						t.Errorf("image %d class %d observed: %v, want %v", i, c, got, want)
					}
				}
			}
			// Image 0: sum the likelihood over the 2³ binary completions.
			for c := range 3 {
				mc := means[c*12 : (c+1)*12]
				var sum float64
				for bits := range 1 << len(missing) {
					img := clone(x[:12])
					for k, j := range missing {
						img[j] = float32(bits >> k & 1)
					}
					sum += math.Exp(bernoulliLL(img, mc, func(int) bool { return true }))
				}
				if got, want := part[c], math.Log(sum); math.Abs(got-want) > 1e-9 {
					t.Errorf("class %d: log q(x_obs) %v, log Σ over completions %v", c, got, want)
				}
			}
		})
	}
}

func clone[T any](v []T) []T { return append([]T(nil), v...) }

// TestMixtureInChunks checks the mixture method, which scores the draws a
// chunk at a time, against its formula evaluated on all draws at once:
// log q(x_obs | c) = log (1/S) Σ_s q(x_obs | draw s of c), the posterior its
// softmax, and the completion the mean image under the posterior over all
// draws. With 3 classes × 200 draws the draws span three chunks.
func TestMixtureInChunks(t *testing.T) {
	const K, S, size, n = 3, 200, 12, 5
	p := newParams(t, "(6),(3)", models.Shape{C: 1, H: 3, W: 4}, graph.Binary, tensor.Float64, 7)
	e := &evaluator{p: p, size: size, classes: K, cfg: Config{Draws: S, Seed: 9}}
	var err error
	if e.mixMeans, err = e.mixtureMeans(); err != nil {
		t.Fatal(err)
	}
	if len(e.mixMeans) != K*S*size || K*S <= 2*mixChunk {
		t.Fatalf("%d means for %d draws of %d chunks", len(e.mixMeans)/size, K*S, mixChunk)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x, obs := make([]float32, n*size), make([]bool, n*size)
	for i := range x {
		x[i], obs[i] = rng.Float32(), rng.IntN(3) > 0
	}
	post, mean := e.mixture(x, obs)

	ll := LogLikelihoods(x, obs, e.mixMeans, size) // n × K·S
	for i := range n {
		row := ll[i*K*S : (i+1)*K*S]
		want := make([]float64, K)
		for c := range K {
			want[c] = logSumExp(row[c*S:(c+1)*S]) - math.Log(S)
		}
		softmaxRow(want)
		for c := range K {
			if got := post[i*K+c]; math.Abs(got-want[c]) > 1e-12 {
				t.Errorf("image %d: p(class %d) = %v, want %v", i, c, got, want[c])
			}
		}
		w := clone(row)
		softmaxRow(w)
		for j := range size {
			var m float64
			for d, wd := range w {
				m += wd * float64(e.mixMeans[d*size+j])
			}
			if got := mean[i*size+j]; math.Abs(got-m) > 1e-12 {
				t.Errorf("image %d pixel %d: mean %v, want %v", i, j, got, m)
			}
		}
	}
	// The draws do not depend on the chunk size: the first draws of a
	// shorter run are the same.
	e2 := &evaluator{p: p, size: size, classes: 1, cfg: Config{Draws: 300, Seed: 9}}
	one, err := e2.mixtureMeans()
	if err != nil {
		t.Fatal(err)
	}
	for i := range S * size {
		if math.Abs(float64(one[i]-e.mixMeans[i])) > 1e-6 {
			t.Fatalf("draw %d of class 0 differs between runs of 300 and 600 draws: %v, %v", i/size, one[i], e.mixMeans[i])
		}
	}
}

var (
	mnistOnce sync.Once
	mnist     *data.MNIST
	mnistErr  error
)

// loadMNIST loads the real MNIST files once.
func loadMNIST(t *testing.T) *data.MNIST {
	t.Helper()
	mnistOnce.Do(func() { mnist, mnistErr = data.Load(data.Options{}) })
	if mnistErr != nil {
		t.Fatalf("MNIST: %v", mnistErr)
	}
	return mnist
}

// testImages returns the first n MNIST test images and the masks of spec.
func testImages(t *testing.T, m *data.MNIST, n int, spec string, o MaskOptions) (*data.Set, []*Mask) {
	t.Helper()
	test, err := m.Test.Subset(n)
	if err != nil {
		t.Fatal(err)
	}
	masks, err := ParseMasks(spec, o, 28, 28)
	if err != nil {
		t.Fatal(err)
	}
	return test, masks
}

// naiveBayes returns a one-layer DCIM (arch (10), {0,1} units) whose
// forward and reverse chains are the same naive Bayes model of the
// training images: with W_c = logit(m_c), m_c the class's mean image,
// a⁰ = 0 and b_c = Σ_p log(1 − m_cp) + log prior_c, the reverse chain
// gives q(x = 1 | c) = σ(W_c) = m_c and the forward chain's softmax of
// W·x + b is Bayes' rule for binary pixels.
func naiveBayes(t *testing.T, train *data.Set) *graph.Params {
	t.Helper()
	p := newParams(t, "(10)", models.MNISTInput, graph.Binary, tensor.Float32, 1)
	size := train.PixelsPerImage()
	sum := make([]float64, 10*size)
	count := make([]float64, 10)
	img := make([]float32, size)
	for i := range train.N {
		c := int(train.Labels[i])
		loadImage(img, train, i)
		for j, v := range img {
			sum[c*size+j] += float64(v)
		}
		count[c]++
	}
	w, b := p.W[0].Data().([]float32), p.B[0].Data().([]float32)
	for c := range 10 {
		var bias float64
		for j := range size {
			m := (sum[c*size+j] + 1) / (count[c] + 2) // Laplace smoothing
			w[c*size+j] = float32(math.Log(m / (1 - m)))
			bias += math.Log(1 - m)
		}
		b[c] = float32(bias + math.Log(count[c]/float64(train.N)))
	}
	return p
}

// TestGenerativeBeatsZeroFill runs the methods on 1,000 real MNIST test
// images with the bottom half missing, with a naive Bayes model built in
// closed form from the training images: the generative method must beat
// zero-fill by at least 0.15 (measured for this model: bottom half zero
// 0.49, generative 0.735; 90 % random zero 0.16, generative 0.69), and the numbers must repeat
// exactly.
func TestGenerativeBeatsZeroFill(t *testing.T) {
	m := loadMNIST(t)
	p := naiveBayes(t, m.Train)
	test, masks := testImages(t, m, 1000, "bottom,random", MaskOptions{P: 0.9, Seed: 1})
	cfg := Config{Masks: masks, Methods: []Method{Zero, Mean, Generative, Joint, Iterate}, Steps: 2, Batch: 300, Show: 4}
	fill := PixelMean(m.Train)
	r, err := Evaluate(p, test, fill, cfg)
	if err != nil {
		t.Fatal(err)
	}
	acc := map[string]float64{}
	for _, row := range r.Cells {
		for _, c := range row {
			acc[c.Mask+" "+string(c.Method)] = c.Accuracy
			t.Logf("%s %s: accuracy %.3f, BCE %.4f", c.Mask, c.Method, c.Accuracy, c.BCE)
		}
	}
	if r.CleanAccuracy < 0.8 {
		t.Errorf("clean accuracy %.3f, want at least 0.8 from naive Bayes", r.CleanAccuracy)
	}
	if g, z := acc["bottom generative"], acc["bottom zero"]; g < z+0.15 {
		t.Errorf("bottom half: generative %.3f, zero-fill %.3f; want a margin of at least 0.15", g, z)
	}
	if g, z := acc["random0.90 generative"], acc["random0.90 zero"]; g < z+0.15 {
		t.Errorf("90%% random: generative %.3f, zero-fill %.3f; want a margin of at least 0.15", g, z)
	}
	for _, row := range r.Cells {
		for _, c := range row {
			if c.Missing != int64(r.N)*int64(map[string]int{"bottom": 392, "random0.90": 706}[c.Mask]) {
				t.Errorf("%s %s: %d missing pixels", c.Mask, c.Method, c.Missing)
			}
			if c.Method != Generative {
				continue
			}
			// The generative completion, Σ_c q(c | x_obs) q(x = 1 | c), is
			// closer to the truth than the class-blind mean image.
			if mean := row[1].BCE; c.BCE >= mean {
				t.Errorf("%s %s: completion BCE %.4f, not below mean-fill's %.4f", c.Mask, c.Method, c.BCE, mean)
			}
		}
	}
	again, err := Evaluate(p, test, fill, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, again) {
		t.Error("a second run with the same configuration gave different results")
	}
}

// TestMixtureOfCertainDraws makes the reverse chain's layer d−1 certain
// given the class (top weights ±1000, so q(x^{d−1} = 1 | c) is 0 or 1):
// every draw then equals the mean, and the mixture over S draws must give
// the generative method's posterior and completions.
func TestMixtureOfCertainDraws(t *testing.T) {
	m := loadMNIST(t)
	p := newParams(t, "(16),(10)", models.MNISTInput, graph.Binary, tensor.Float32, 5)
	top := p.W[1].Data().([]float32)
	for i, w := range top {
		top[i] = float32(math.Copysign(1000, float64(w)))
	}
	test, masks := testImages(t, m, 50, "bottom,random", MaskOptions{P: 0.5, Seed: 2})
	r, err := Evaluate(p, test, PixelMean(test), Config{Masks: masks, Methods: []Method{Generative, Mixture}, Draws: 5, Seed: 9, Show: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Cells {
		gen, mix := row[0], row[1]
		if !reflect.DeepEqual(gen.Pred, mix.Pred) {
			t.Errorf("%s: mixture predictions %v, generative %v", gen.Mask, mix.Pred, gen.Pred)
		}
		for i := range gen.Prob {
			if d := math.Abs(float64(gen.Prob[i] - mix.Prob[i])); d > 1e-5 {
				t.Errorf("%s image %d: mixture probability %v, generative %v", gen.Mask, i, mix.Prob[i], gen.Prob[i])
			}
		}
		if d := math.Abs(gen.BCE - mix.BCE); d > 1e-5 {
			t.Errorf("%s: mixture completion BCE %v, generative %v", gen.Mask, mix.BCE, gen.BCE)
		}
	}
}

// TestFitMasked fine-tunes the naive Bayes model's forward chain on
// training images with the bottom half hidden: its mean-fill accuracy on
// bottom-masked test images must rise by at least 0.05 (measured: 0.525
// before, 0.608 after).
func TestFitMasked(t *testing.T) {
	m := loadMNIST(t)
	p := naiveBayes(t, m.Train)
	train, err := m.Train.Subset(5000)
	if err != nil {
		t.Fatal(err)
	}
	test, masks := testImages(t, m, 1000, "bottom", MaskOptions{})
	fill := PixelMean(m.Train)
	accuracy := func() float64 {
		r, err := Evaluate(p, test, fill, Config{Masks: masks, Methods: []Method{Mean}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Cells[0][0].Accuracy
	}
	before := accuracy()
	var ces []float64
	err = FitMasked(p, train, masks, fill, FitOptions{Epochs: 2, Seed: 1, Whole: -1, Progress: func(_ int, ce float64) { ces = append(ces, ce) }})
	if err != nil {
		t.Fatal(err)
	}
	after := accuracy()
	t.Logf("mean-fill accuracy %.3f before, %.3f after; training cross-entropy %v", before, after, ces)
	if after < before+0.05 {
		t.Errorf("mean-fill accuracy %.3f after fitting, %.3f before; want a gain of at least 0.05", after, before)
	}
	if len(ces) != 2 || !(ces[1] < ces[0]) {
		t.Errorf("training cross-entropy per epoch %v, want two falling values", ces)
	}
}

// TestFitDiverges: a fit whose learning rate makes the parameters or the
// loss non-finite ends with an error saying so, instead of handing back
// NaN weights.
func TestFitDiverges(t *testing.T) {
	set := data.Synthetic(256, 10, 28, 1)
	p := newParams(t, "(16),(10)", models.MNISTInput, graph.Binary, tensor.Float32, 3)
	masks, err := ParseMasks("bottom", MaskOptions{}, 28, 28)
	if err != nil {
		t.Fatal(err)
	}
	err = FitMasked(p, set, masks, PixelMean(set), FitOptions{Epochs: 1, LR: math.Inf(1), Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "training diverged (a learning rate of +Inf is too high?)") {
		t.Fatalf("FitMasked with an infinite learning rate: %v, want an error saying it diverged", err)
	}
}
