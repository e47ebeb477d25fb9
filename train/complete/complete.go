// Package complete classifies and completes partly observed images with a
// DCIM, using its two chains together: the forward chain as a classifier
// p(class | image) (eq. 14–15) and the reverse chain as a class-conditional
// image model q(image | class) (eq. 18–20), under which missing pixels
// marginalise out exactly (the paper's §1: a stochastic model can pose
// inference problems with missing data).
package complete

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"dcim/data"
	"dcim/graph"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Method is a way of classifying (and completing) a masked image.
type Method string

// The methods, in the order "all" runs them.
const (
	// Zero fills the missing pixels with 0 and runs the forward chain.
	Zero Method = "zero"
	// Mean fills them with the training set's mean image.
	Mean Method = "mean"
	// Generative is Bayes with the reverse model and a uniform prior:
	// argmax_c q(x_obs | c), the reverse chain run from the one-hot c.
	Generative Method = "generative"
	// Joint multiplies the forward posterior on the mean-filled image by
	// the generative likelihood of the observed pixels (raised to Beta).
	Joint Method = "joint"
	// Iterate fills the missing pixels from the reverse chain run from the
	// current class posterior and re-classifies, Steps times, starting
	// from the forward posterior on the mean-filled image.
	Iterate Method = "iterate"
	// Mixture is Generative with q(x_obs | c) averaged over Draws draws of
	// layer d−1 run down from class c (for models trained with eq. 22).
	Mixture Method = "mixture"
	// Synthesis completes the image as each class c in turn (the missing
	// pixels set to q(x = 1 | c)) and scores c by the forward chain's
	// belief in c on that completion times the generative likelihood of
	// the observed pixels raised to Beta:
	// log p(c | x_obs, x̄_miss(c)) + β log q(x_obs | c).
	Synthesis Method = "synthesis"
)

// Methods lists every method, in the order "all" runs them.
var Methods = []Method{Zero, Mean, Generative, Joint, Iterate, Mixture, Synthesis, GenerativeIS, JointIS}

// ParseMethods reads a -method value: one method, a comma-separated list,
// or "all" (every method but synthesis, whose ten forward passes per
// image make it the slowest, and the importance-sampling ones, which run
// the joint graph S times per image; mixture only when withMixture).
func ParseMethods(spec string, withMixture bool) ([]Method, error) {
	var out []Method
	for _, s := range strings.Split(spec, ",") {
		if s == "all" {
			for _, m := range Methods {
				if m != Synthesis && m != GenerativeIS && m != JointIS && (m != Mixture || withMixture) {
					out = append(out, m)
				}
			}
			continue
		}
		if !slices.Contains(Methods, Method(s)) {
			return nil, fmt.Errorf("unknown method %q (want zero, mean, generative, joint, iterate, mixture, synthesis, generative-is, joint-is or all)", s)
		}
		out = append(out, Method(s))
	}
	return out, nil
}

// Config says what Evaluate runs.
type Config struct {
	Masks   []*Mask
	Methods []Method
	Steps   int // T, the rounds of Iterate
	// Beta (β) weighs the generative log-likelihood log q(x_obs | c) in
	// Joint and Synthesis; 0 means 1, the plain product of Joint.
	Beta float64
	// Draws is S: the draws of layer d−1 per class for Mixture, and the
	// samples of the forward chain per image for GenerativeIS and JointIS.
	Draws int
	Seed  uint64 // seeds the draws of Mixture and of the importance sampling
	Batch int    // images per graph run (default 500)
	Show  int    // the first Show images are kept whole for pictures
	// Inference runs the forward chain and the reverse chain from the
	// classes by mean field (the zero value) or the moment method; Iterate
	// and Mixture run their reverse chains by mean field either way.
	Inference graph.Inference
	// Progress, if set, is called after each batch with the images done
	// and the total, summed over the masks.
	Progress func(done, total int)
}

// Cell is one mask × method of the results.
type Cell struct {
	Mask     string  `json:"mask"`
	Method   Method  `json:"method"`
	N        int     `json:"n"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
	// BCE is the mean per-pixel binary cross-entropy (nats) of the
	// completed pixels against the true grey levels, over the missing
	// pixels of all images (0 if none is missing).
	BCE     float64 `json:"bce"`
	Missing int64   `json:"missing_pixels"`

	Pred   []uint8   `json:"-"` // predicted class of each image
	Prob   []float32 `json:"-"` // its posterior probability
	Images []float32 `json:"-"` // completions of the first Show images
	bce    float64
}

// Result holds the cells, mask by mask, and what the pictures need.
type Result struct {
	N             int       `json:"n"`
	CleanAccuracy float64   `json:"clean_accuracy"` // forward chain on the unmasked images
	Masks         []string  `json:"masks"`
	Methods       []Method  `json:"methods"`
	Cells         [][]Cell  `json:"cells"` // [mask][method]
	Show          int       `json:"-"`
	C, H, W       int       `json:"-"`
	Classes       int       `json:"-"`
	Originals     []float32 `json:"-"` // the first Show images
	Labels        []uint8   `json:"-"` // every image's true label
	CleanPred     []uint8   `json:"-"`
	CleanProb     []float32 `json:"-"`
	Observed      [][]bool  `json:"-"` // [mask], the first Show images' observed pixels
}

// loadImage copies image i of s into dst as grey levels in [0,1]; it is the
// one place this package reads a data set's pixels.
func loadImage(dst []float32, s *data.Set, i int) { s.Batch(dst[:0:len(dst)], i, 1) }

// PixelMean returns the mean image of s (C·H·W grey levels), the fill of
// the Mean method.
func PixelMean(s *data.Set) []float32 {
	size := s.PixelsPerImage()
	sum := make([]float64, size)
	img := make([]float32, size)
	for i := range s.N {
		loadImage(img, s, i)
		for j, v := range img {
			sum[j] += float64(v)
		}
	}
	out := make([]float32, size)
	for j, v := range sum {
		out[j] = float32(v / float64(s.N))
	}
	return out
}

// evaluator holds the graphs and the reverse means shared by all batches.
type evaluator struct {
	p             *graph.Params
	cfg           Config
	size, classes int
	fill          []float32 // the Mean method's fill
	net           *graph.Net
	gen           *graph.Generator // from class probabilities, for Iterate
	classMeans    []float32        // q(x = 1 | c) of each class, classes×size
	mixMeans      []float32        // q(x = 1 | x^{d−1}_s), S draws per class, classes·S×size
	classMeans64  []float64
	joint         *graph.Joint // for GenerativeIS and JointIS
	isRNG         *rand.Rand   // their samples' noise
}

// Evaluate runs every mask × method of cfg over the images of set with the
// model p; fill is the training mean image for the Mean and Joint methods.
// The same cfg gives the same numbers.
func Evaluate(p *graph.Params, set *data.Set, fill []float32, cfg Config) (*Result, error) {
	size := p.Input.Size()
	if set.PixelsPerImage() != size || set.H != p.Input.H || set.W != p.Input.W {
		return nil, fmt.Errorf("images of %d×%d×%d for a model of input %v", set.C, set.H, set.W, p.Input)
	}
	if len(fill) != size {
		return nil, fmt.Errorf("fill image of %d values, want %d", len(fill), size)
	}
	if len(cfg.Masks) == 0 || len(cfg.Methods) == 0 {
		return nil, fmt.Errorf("nothing to evaluate: %d masks, %d methods", len(cfg.Masks), len(cfg.Methods))
	}
	for _, m := range cfg.Masks {
		if m.H != set.H || m.W != set.W {
			return nil, fmt.Errorf("mask %s is %d×%d, images are %d×%d", m.Name, m.H, m.W, set.H, set.W)
		}
	}
	if cfg.Steps < 0 {
		return nil, fmt.Errorf("%d iterate steps, want at least 0", cfg.Steps)
	}
	if cfg.Batch < 1 {
		cfg.Batch = defaultBatch
	}
	if cfg.Beta == 0 {
		cfg.Beta = 1
	}
	n := set.N
	cfg.Batch = min(cfg.Batch, n)
	cfg.Show = min(max(cfg.Show, 0), n)
	e := &evaluator{p: p, cfg: cfg, size: size, classes: p.Classes, fill: fill}
	defer e.close()
	if err := e.build(); err != nil {
		return nil, err
	}
	r := &Result{
		N: n, Methods: slices.Clone(cfg.Methods), Show: cfg.Show,
		C: set.C, H: set.H, W: set.W, Classes: p.Classes,
		Labels: make([]uint8, n),
	}
	copy(r.Labels, set.Labels[:n])
	if err := e.clean(set, r); err != nil {
		return nil, err
	}
	total := len(cfg.Masks) * n
	for mi, m := range cfg.Masks {
		r.Masks = append(r.Masks, m.Name)
		cells := make([]Cell, len(cfg.Methods))
		for k, meth := range cfg.Methods {
			cells[k] = Cell{Mask: m.Name, Method: meth, N: n, Pred: make([]uint8, n), Prob: make([]float32, n)}
		}
		r.Observed = append(r.Observed, make([]bool, cfg.Show*size))
		for lo := 0; lo < n; lo += cfg.Batch {
			hi := min(lo+cfg.Batch, n)
			if err := e.batch(set, m, lo, hi, cells, r.Observed[mi]); err != nil {
				return nil, fmt.Errorf("mask %s, images %d…%d: %w", m.Name, lo, hi-1, err)
			}
			if cfg.Progress != nil {
				cfg.Progress(mi*n+hi, total)
			}
		}
		for k := range cells {
			c := &cells[k]
			c.Accuracy = float64(c.Correct) / float64(n)
			if c.Missing > 0 {
				c.BCE = c.bce / float64(c.Missing)
			}
		}
		r.Cells = append(r.Cells, cells)
	}
	return r, nil
}

// build makes the graphs and runs the reverse chain from every class.
func (e *evaluator) build() error {
	p, cfg, d := e.p, e.cfg, e.p.Depth()
	var err error
	if e.net, err = graph.New(p, graph.Config{Batch: cfg.Batch, Inference: cfg.Inference}); err != nil {
		return fmt.Errorf("forward chain: %w", err)
	}
	classes := make([]uint8, e.classes)
	for c := range classes {
		classes[c] = uint8(c)
	}
	if e.classMeans, err = graph.ClassImages(p, classes, cfg.Inference); err != nil {
		return fmt.Errorf("reverse chain from the classes: %w", err)
	}
	e.classMeans64 = convert[float64](e.classMeans)
	if slices.Contains(cfg.Methods, Iterate) {
		if e.gen, err = graph.NewGenerator(p, d, nil, cfg.Batch); err != nil {
			return fmt.Errorf("reverse chain: %w", err)
		}
	}
	if slices.Contains(cfg.Methods, GenerativeIS) || slices.Contains(cfg.Methods, JointIS) {
		if d < 2 {
			return fmt.Errorf("the importance-sampling methods draw the hidden layers; arch %v has none", p.Arch)
		}
		if cfg.Draws < 1 {
			return fmt.Errorf("importance sampling with %d samples, want at least 1", cfg.Draws)
		}
		e.isRNG = rand.New(rand.NewPCG(cfg.Seed, 0x6973)) // "is"
	}
	if slices.Contains(cfg.Methods, Mixture) {
		if d < 2 {
			return fmt.Errorf("method mixture draws layer d−1; arch %v has no hidden layer", p.Arch)
		}
		if cfg.Draws < 1 {
			return fmt.Errorf("method mixture with %d draws, want at least 1", cfg.Draws)
		}
		if e.mixMeans, err = e.mixtureMeans(); err != nil {
			return fmt.Errorf("reverse chain for the mixture: %w", err)
		}
	}
	return nil
}

// mixChunk is the number of draws of layer d−1 the mixture method runs
// down the reverse chain, and scores, at a time: its memory beside the
// draws' image means is that of a few chunks, whatever the draws.
const mixChunk = 256

// mixtureMeans runs the reverse chain down from Draws draws of layer d−1
// of each class, mixChunk rows at a time, and returns the image means,
// class-major. The noise of the draws is one stream, taken row by row, so
// the draws do not depend on the chunk size.
func (e *evaluator) mixtureMeans() ([]float32, error) {
	S, size := e.cfg.Draws, e.size
	J := e.classes * S
	rows := min(J, mixChunk)
	gen, err := graph.NewGenerator(e.p, e.p.Depth(), []int{e.p.Depth() - 1}, rows)
	if err != nil {
		return nil, err
	}
	defer gen.Close()
	rng := rand.New(rand.NewPCG(e.cfg.Seed, 0x6d6978)) // "mix"
	out := make([]float32, J*size)
	labels := make([]uint8, rows)
	for lo := 0; lo < J; lo += rows {
		n := min(rows, J-lo)
		for i := range labels {
			labels[i] = uint8(min(lo+i, J-1) / S) // the last chunk repeats its last draw
		}
		if err := gen.SetClasses(labels); err != nil {
			return nil, err
		}
		gen.DrawNoise(rng)
		if err := gen.Run(); err != nil {
			return nil, err
		}
		copy(out[lo*size:], graph.Float32s(gen.Image)[:n*size])
	}
	return out, nil
}

func (e *evaluator) close() {
	if e.net != nil {
		e.net.Close()
	}
	if e.gen != nil {
		e.gen.Close()
	}
	if e.joint != nil {
		e.joint.Close()
	}
}

// forward returns p(class | image) of the forward chain for b images.
func (e *evaluator) forward(images []float32, labels []uint8) ([]float64, error) {
	if err := e.net.SetBatch(images, labels); err != nil {
		return nil, err
	}
	if err := e.net.Run(); err != nil {
		return nil, err
	}
	probs := graph.Float32s(e.net.Probs)[:len(labels)*e.classes]
	out := make([]float64, len(probs))
	for i, v := range probs {
		out[i] = float64(v)
	}
	return out, nil
}

// clean classifies the unmasked images and keeps the first Show.
func (e *evaluator) clean(set *data.Set, r *Result) error {
	n, size := set.N, e.size
	r.CleanPred, r.CleanProb = make([]uint8, n), make([]float32, n)
	r.Originals = make([]float32, r.Show*size)
	correct := 0
	x := make([]float32, e.cfg.Batch*size)
	for lo := 0; lo < n; lo += e.cfg.Batch {
		hi := min(lo+e.cfg.Batch, n)
		for i := lo; i < hi; i++ {
			loadImage(x[(i-lo)*size:(i-lo+1)*size], set, i)
		}
		probs, err := e.forward(x[:(hi-lo)*size], r.Labels[lo:hi])
		if err != nil {
			return fmt.Errorf("clean images %d…%d: %w", lo, hi-1, err)
		}
		for i := lo; i < hi; i++ {
			c, pr := top(probs[(i-lo)*e.classes : (i-lo+1)*e.classes])
			r.CleanPred[i], r.CleanProb[i] = uint8(c), float32(pr)
			if r.CleanPred[i] == r.Labels[i] {
				correct++
			}
		}
		if lo < r.Show {
			copy(r.Originals[lo*size:], x[:(min(hi, r.Show)-lo)*size])
		}
	}
	r.CleanAccuracy = float64(correct) / float64(n)
	return nil
}

// top returns the most probable class of a row and its probability.
func top(row []float64) (int, float64) {
	best := 0
	for c, v := range row {
		if v > row[best] {
			best = c
		}
	}
	return best, row[best]
}

// batch runs every method on images lo…hi−1 under mask m.
func (e *evaluator) batch(set *data.Set, m *Mask, lo, hi int, cells []Cell, showObs []bool) error {
	b, size, K := hi-lo, e.size, e.classes
	plane := m.H * m.W
	x := make([]float32, b*size)
	obs := make([]bool, b*size)
	planeObs := make([]bool, plane)
	for i := range b {
		loadImage(x[i*size:(i+1)*size], set, lo+i)
		m.Observed(lo+i, planeObs)
		for j := range size {
			obs[i*size+j] = planeObs[j%plane]
		}
	}
	if lo < e.cfg.Show {
		copy(showObs[lo*size:], obs[:(min(hi, e.cfg.Show)-lo)*size])
	}
	labels := set.Labels[lo:hi]
	filled := func(with func(i, j int) float32) []float32 {
		out := make([]float32, b*size)
		for i := range b {
			for j := range size {
				k := i*size + j
				if obs[k] {
					out[k] = x[k]
				} else {
					out[k] = with(i, j)
				}
			}
		}
		return out
	}
	meanFilled := filled(func(_, j int) float32 { return e.fill[j] })

	// Computed once per batch, when a method needs them.
	var meanPost, classLL []float64
	meanPosterior := func() ([]float64, error) {
		var err error
		if meanPost == nil {
			meanPost, err = e.forward(meanFilled, labels)
		}
		return meanPost, err
	}
	likelihoods := func() []float64 {
		if classLL == nil {
			classLL = LogLikelihoods(x, obs, e.classMeans, size)
		}
		return classLL
	}
	// completeFrom fills the missing pixels with the posterior mean of the
	// reverse model's pixels, Σ_j w_ij means_j.
	completeFrom := func(w, means []float64) []float32 {
		fill := mixMean(w, means, size)
		return filled(func(i, j int) float32 { return float32(fill[i*size+j]) })
	}
	classMeans64 := e.classMeans64
	var is *importanceResults
	sampled := func() (*importanceResults, error) {
		var err error
		if is == nil {
			is, err = e.importanceMethods(x, obs, meanFilled)
		}
		return is, err
	}

	for k := range cells {
		var post []float64 // b×K posterior
		var done []float32 // b×size completion
		var err error
		switch cells[k].Method {
		case Zero:
			done = filled(func(int, int) float32 { return 0 })
			post, err = e.forward(done, labels)
		case Mean:
			done = meanFilled
			post, err = meanPosterior()
		case Generative:
			post = slices.Clone(likelihoods())
			softmaxRows(post, K)
			done = completeFrom(post, classMeans64)
		case Joint:
			var fwd []float64
			if fwd, err = meanPosterior(); err != nil {
				break
			}
			post = slices.Clone(likelihoods())
			for i, v := range fwd {
				post[i] = math.Log(max(v, 1e-300)) + e.cfg.Beta*post[i]
			}
			softmaxRows(post, K)
			done = completeFrom(post, classMeans64)
		case Iterate:
			post, done, err = e.iterate(x, obs, labels, meanFilled, meanPosterior)
		case Mixture:
			var fill []float64
			post, fill = e.mixture(x, obs)
			done = filled(func(i, j int) float32 { return float32(fill[i*size+j]) })
		case Synthesis:
			if post, err = e.synthesis(x, obs, labels, likelihoods(), filled); err == nil {
				done = completeFrom(post, classMeans64)
			}
		case GenerativeIS, JointIS:
			var r *importanceResults
			if r, err = sampled(); err != nil {
				break
			}
			post, done = r.genPost, r.genDone
			if cells[k].Method == JointIS {
				post, done = r.jointPost, r.jointDone
			}
		}
		if err != nil {
			return fmt.Errorf("method %s: %w", cells[k].Method, err)
		}
		c := &cells[k]
		for i := range b {
			cls, pr := top(post[i*K : (i+1)*K])
			c.Pred[lo+i], c.Prob[lo+i] = uint8(cls), float32(pr)
			if uint8(cls) == labels[i] {
				c.Correct++
			}
		}
		for j, o := range obs {
			if !o {
				c.bce += pixelBCE(x[j], done[j])
				c.Missing++
			}
		}
		if lo < e.cfg.Show {
			if c.Images == nil {
				c.Images = make([]float32, e.cfg.Show*size)
			}
			copy(c.Images[lo*size:], done[:(min(hi, e.cfg.Show)-lo)*size])
		}
	}
	return nil
}

// iterate starts from the forward posterior on the mean-filled image and,
// Steps times, fills the missing pixels with the reverse chain run from
// the class posterior (the state of layer d set to the probabilities) and
// re-classifies the completed image with the forward chain.
func (e *evaluator) iterate(x []float32, obs []bool, labels []uint8, meanFilled []float32, start func() ([]float64, error)) ([]float64, []float32, error) {
	post, err := start()
	if err != nil {
		return nil, nil, err
	}
	post, done := slices.Clone(post), meanFilled
	N, K := e.cfg.Batch, e.classes
	state := make([]float64, N*K)
	for range e.cfg.Steps {
		clear(state)
		copy(state, post)
		if err := e.gen.SetState(state); err != nil {
			return nil, nil, err
		}
		if err := e.gen.Run(); err != nil {
			return nil, nil, err
		}
		means := e.gen.Images()
		done = slices.Clone(x)
		for j, o := range obs {
			if !o {
				done[j] = means[j]
			}
		}
		if post, err = e.forward(done, labels); err != nil {
			return nil, nil, err
		}
	}
	return post, done, nil
}

// mixture scores each class by log q(x_obs | c) = log (1/S) Σ_s q(x_obs | x^{d−1}_s),
// the draws x^{d−1}_s of layer d−1 made from class c, and returns the
// class posterior and the posterior mean image over all draws, with which
// the missing pixels are completed. The draws are scored mixChunk at a
// time, each chunk folded into running log-sum-exps, so that its memory
// does not grow with the draws:
//
//	per image i and class c: m_ic = max, z_ic = Σ exp(ll − m_ic) over c's draws so far;
//	per image i: M_i, Z_i the same over all draws so far, and
//	A_i = Σ_j exp(ll_ij − M_i) means_j, so that the mean image is A_i / Z_i.
func (e *evaluator) mixture(x []float32, obs []bool) (post, mean []float64) {
	size, K, S := e.size, e.classes, e.cfg.Draws
	b, J := len(x)/size, K*S
	o := newObserved(x, obs, size)
	cm, cz := make([]float64, b*K), make([]float64, b*K)
	am, az := make([]float64, b), make([]float64, b)
	for i := range cm {
		cm[i] = math.Inf(-1)
	}
	for i := range am {
		am[i] = math.Inf(-1)
	}
	mean = make([]float64, b*size) // A, then A / Z
	means64 := make([]float64, min(J, mixChunk)*size)
	for j0 := 0; j0 < J; j0 += mixChunk {
		jc := min(mixChunk, J-j0)
		chunk := e.mixMeans[j0*size : (j0+jc)*size]
		ll := o.logLik(chunk) // b×jc, then the weights exp(ll − M_i)
		for i := range b {
			row := ll[i*jc : (i+1)*jc]
			for j, v := range row {
				k := i*K + (j0+j)/S
				if v > cm[k] {
					cz[k] = cz[k]*math.Exp(cm[k]-v) + 1
					cm[k] = v
				} else {
					cz[k] += math.Exp(v - cm[k])
				}
			}
			top := am[i]
			for _, v := range row {
				top = max(top, v)
			}
			if scale := math.Exp(am[i] - top); scale != 1 {
				az[i] *= scale
				blas64.Scal(scale, blas64.Vector{N: size, Inc: 1, Data: mean[i*size : (i+1)*size]})
			}
			am[i] = top
			for j, v := range row {
				row[j] = math.Exp(v - top)
				az[i] += row[j]
			}
		}
		for k, v := range chunk {
			means64[k] = float64(v)
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: b, Cols: jc, Stride: jc, Data: ll},
			blas64.General{Rows: jc, Cols: size, Stride: size, Data: means64[:jc*size]},
			1, blas64.General{Rows: b, Cols: size, Stride: size, Data: mean})
	}
	for i := range b {
		blas64.Scal(1/az[i], blas64.Vector{N: size, Inc: 1, Data: mean[i*size : (i+1)*size]})
	}
	post = make([]float64, b*K)
	for k := range post {
		post[k] = cm[k] + math.Log(cz[k]) - math.Log(float64(S))
	}
	softmaxRows(post, K)
	return post, mean
}

// synthesis scores each class c by log p(c | x_c) + β log q(x_obs | c),
// x_c the image completed with class c's reverse means.
func (e *evaluator) synthesis(x []float32, obs []bool, labels []uint8, ll []float64, filled func(func(i, j int) float32) []float32) ([]float64, error) {
	size, K := e.size, e.classes
	b := len(x) / size
	post := make([]float64, b*K)
	for c := range K {
		mc := e.classMeans[c*size : (c+1)*size]
		fwd, err := e.forward(filled(func(_, j int) float32 { return mc[j] }), labels)
		if err != nil {
			return nil, err
		}
		for i := range b {
			post[i*K+c] = math.Log(max(fwd[i*K+c], 1e-300)) + e.cfg.Beta*ll[i*K+c]
		}
	}
	softmaxRows(post, K)
	return post, nil
}

func softmaxRows(v []float64, k int) {
	for i := 0; i < len(v); i += k {
		softmaxRow(v[i : i+k])
	}
}

// mixMean returns the n×size matrix w·means of the n×J weights w and the
// J×size means.
func mixMean(w, means []float64, size int) []float64 {
	J := len(means) / size
	n := len(w) / J
	out := make([]float64, n*size)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas64.General{Rows: n, Cols: J, Stride: J, Data: w},
		blas64.General{Rows: J, Cols: size, Stride: size, Data: means},
		0, blas64.General{Rows: n, Cols: size, Stride: size, Data: out})
	return out
}

// convert returns a copy of v with its elements converted.
func convert[To, From float32 | float64 | uint8 | int64](v []From) []To {
	out := make([]To, len(v))
	for i, x := range v {
		out[i] = To(x)
	}
	return out
}
