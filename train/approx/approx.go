// Package approx measures how good approximation (2) of the paper is: it
// runs a trained DCIM's chains exactly, by ancestral sampling, and compares
// the layers' Monte-Carlo marginals with those of mean field and of
// mean-and-variance propagation, layer by layer, for the forward chain from
// test images and for the reverse chain from each class.
//
// The Monte-Carlo marginal of a layer is Rao-Blackwellised: the average,
// over S draws of its parent layer, of the layer's conditional mean given
// the drawn parent. Layer 1's conditional mean given the image (and layer
// d−1's given the class) is exact, so their error is 0 under every method
// (to float32 rounding, which differs a little between batch sizes).
// Every Monte-Carlo figure comes with a delete-a-group jackknife standard
// error over the draws (10 groups), which shows whether S is large enough.
package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"dcim/graph"

	"gorgonia.org/tensor"
)

// Options say what Run measures.
type Options struct {
	Draws   int               // S, draws per image (and per class)
	Seed    uint64            // the same seed gives the same report
	Methods []graph.Inference // the approximations compared with Monte Carlo
	// Rows is the most rows (image × draw) of one Monte-Carlo graph run
	// (default 256: the states of a small batch stay in the cache, which
	// makes the paper's CNN half as dear per row as batches of 1000, see
	// BenchmarkRunCNN). An image (or class) with more draws has them in
	// several runs, so that memory does not grow with the draws.
	Rows int
	// Progress, when not nil, is told after each batch how many of total
	// steps (test images, then classes, then the images of the likelihood)
	// are done.
	Progress func(done, total int)
	// LikelihoodDraws lists the numbers K of importance samples per image
	// of the reverse model's test log-likelihood (see Likelihood); none:
	// not estimated. LikelihoodImages is how many of the images it uses
	// (0: all).
	LikelihoodDraws  []int
	LikelihoodImages int
}

// groups is the number of jackknife groups the draws are split into.
const groups = 10

// defaultRows is Options.Rows's default.
const defaultRows = 256

// Figure is a Monte-Carlo figure and its standard error.
type Figure struct {
	Value float64 `json:"value"`
	SE    float64 `json:"se"`
}

// LayerError compares one layer's marginals: the mean and the maximum, over
// its units and the images (or classes), of |MC − method|.
type LayerError struct {
	Mean Figure `json:"mean"`
	Max  Figure `json:"max"`
	// RMS is the root mean square of MC − method with the Monte-Carlo
	// noise taken out, √max(0, mean((MC − method)²) − mean(s.e.²)): an
	// unbiased estimate of the error where it is below the noise floor.
	RMS float64 `json:"rms_denoised"`
}

// Layer is one layer's row of the report.
type Layer struct {
	Layer int `json:"layer"` // k (0: the image)
	Units int `json:"units"`
	// MCSE is the mean, over units and images, of the standard error of a
	// unit's Monte-Carlo marginal: the noise floor of Mean below.
	MCSE   float64               `json:"mc_se"`
	Errors map[string]LayerError `json:"errors"` // by method
}

// ClassFigures are a class posterior's quality on the test images: the
// accuracy, the NLL −log p(label | x^0) and the expected calibration error
// (15 equal-width confidence bins).
type ClassFigures struct {
	Accuracy Figure `json:"accuracy"`
	NLL      Figure `json:"nll"`
	ECE      Figure `json:"ece"`
}

// Class is the class layer's part of the report: the Monte-Carlo posterior
// and, per method, its posterior and KL(MC ‖ method) averaged over images.
type Class struct {
	MC      ClassFigures            `json:"montecarlo"`
	Methods map[string]ClassFigures `json:"methods"` // standard errors null: no draws
	KL      map[string]Figure       `json:"kl"`      // by method
}

// Image is the reverse chain's image layer: the per-pixel BCE of each test
// image under the image marginal of its class, Monte Carlo and per method.
type Image struct {
	MC      Figure             `json:"montecarlo"`
	Methods map[string]float64 `json:"methods"`
	// PerClass[c] are the same figures for the test images of class c.
	PerClass []ImageClass `json:"per_class"`
}

// ImageClass is Image for the test images of one class.
type ImageClass struct {
	Class   int                `json:"class"`
	Images  int                `json:"images"`
	MC      Figure             `json:"montecarlo"`
	Methods map[string]float64 `json:"methods"`
}

// Report is what Run measures.
type Report struct {
	Arch     string   `json:"arch"`
	Encoding string   `json:"encoding"`
	Images   int      `json:"images"`
	Draws    int      `json:"draws"`
	Seed     uint64   `json:"seed"`
	Methods  []string `json:"methods"`
	Forward  []Layer  `json:"forward"` // hidden layers 1…d−1
	Class    Class    `json:"class"`
	Reverse  []Layer  `json:"reverse"` // layers d−1 … 1, then the image (0)
	Image    Image    `json:"image"`
	// Likelihood is the reverse model's importance-sampled log-likelihood
	// of the binarised test images, when asked for.
	Likelihood *Likelihood `json:"likelihood,omitempty"`
}

// Run measures p on the images (N·C·H·W grey levels, NCHW) with their
// labels.
func Run(p *graph.Params, images []float32, labels []uint8, o Options) (*Report, error) {
	n := len(labels)
	if n == 0 || len(images) != n*p.Input.Size() {
		return nil, fmt.Errorf("approx: %d labels and %d pixels of %v images", n, len(images), p.Input)
	}
	if o.Draws < 1 {
		return nil, fmt.Errorf("approx: %d draws, want at least 1", o.Draws)
	}
	if o.Draws > MaxDraws {
		return nil, fmt.Errorf("approx: %d draws, more than the %d accepted", o.Draws, MaxDraws)
	}
	if o.Rows == 0 {
		o.Rows = defaultRows
	}
	rep := &Report{Arch: p.Arch.String(), Encoding: p.Encoding.String(), Images: n, Draws: o.Draws, Seed: o.Seed}
	for _, m := range o.Methods {
		rep.Methods = append(rep.Methods, m.String())
	}
	llImages := 0
	if len(o.LikelihoodDraws) > 0 {
		if llImages = o.LikelihoodImages; llImages <= 0 || llImages > n {
			llImages = n
		}
		if slices.Min(o.LikelihoodDraws) < 1 || slices.Max(o.LikelihoodDraws) > MaxLikelihoodDraws {
			return nil, fmt.Errorf("approx: %v importance samples, want 1…%d", o.LikelihoodDraws, MaxLikelihoodDraws)
		}
	}
	total := n + p.Classes + llImages
	progress := func(done int) {
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xa9970c))
	if err := forward(p, images, labels, o, rng, rep, progress); err != nil {
		return nil, err
	}
	if err := reverse(p, images, labels, o, rng, rep, func(c int) { progress(n + c) }); err != nil {
		return nil, err
	}
	if llImages > 0 {
		draws := slices.Sorted(slices.Values(o.LikelihoodDraws))
		var err error
		if rep.Likelihood, err = likelihood(p, images, labels, llImages, slices.Compact(draws), o.Rows/2, rng, func(i int) { progress(n + p.Classes + i) }); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// floats64 reads a node's value (float32 or float64) as float64.
func floats64(v any) []float64 {
	switch d := v.(*tensor.Dense).Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return d
	}
	return nil
}

// drawStats accumulates, for one image (or class) and one layer, the sums
// of a unit's conditional means over all draws and over each jackknife
// group, and their squares. The draws may come in several chunks (add);
// done then sums the groups.
type drawStats struct {
	units, draws int
	sum, sq      []float64 // per unit
	group        []float64 // group-major: group g's sums at [g·units:]
	count        [groups]int
}

func newDrawStats(units, draws int) *drawStats {
	return &drawStats{units: units, draws: draws, sum: make([]float64, units), sq: make([]float64, units), group: make([]float64, groups*units)}
}

// groupOf is the jackknife group of draw s.
func groupOf(s, draws int) int { return s * groups / draws }

// add adds rows first … first+n−1 of a batch node's value (float32 or
// float64): draws s0 … s0+n−1 of one image's layer.
func (d *drawStats) add(v any, first, s0, n int) {
	w := d.units
	switch x := v.(*tensor.Dense).Data().(type) {
	case []float32:
		addDraws(d, x[first*w:(first+n)*w], s0)
	case []float64:
		addDraws(d, x[first*w:(first+n)*w], s0)
	}
}

// addDraws adds the conditional means of draws s0, s0+1, …, one row each.
func addDraws[T float32 | float64](d *drawStats, rows []T, s0 int) {
	for r := range len(rows) / d.units {
		g := groupOf(s0+r, d.draws)
		d.count[g]++
		gs := d.group[g*d.units : (g+1)*d.units]
		for i, x := range rows[r*d.units : (r+1)*d.units] {
			v := float64(x)
			d.sq[i] += v * v
			gs[i] += v
		}
	}
}

// done sums the groups once every draw was added.
func (d *drawStats) done() *drawStats {
	for g := range groups {
		for i, v := range d.group[g*d.units : (g+1)*d.units] {
			d.sum[i] += v
		}
	}
	return d
}

// addRows adds, for each of the n images of a batch whose draws fill
// chunk consecutive rows each, the first k of them (draws s0 …
// s0+k−1) to the image's statistics, in parallel.
func addRows(stats []*drawStats, v any, chunk, s0, k int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, d := range stats {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			d.add(v, i*chunk, s0, k)
			<-sem
		}()
	}
	wg.Wait()
}

// replicates returns the Monte-Carlo marginal estimated from all draws
// (replicate 0) and with each nonempty jackknife group left out.
func (d *drawStats) replicates() [][]float64 {
	reps := [][]float64{make([]float64, d.units)}
	for i, s := range d.sum {
		reps[0][i] = s / float64(d.draws)
	}
	for g := range groups {
		if d.count[g] == 0 || d.count[g] == d.draws {
			continue
		}
		r := make([]float64, d.units)
		gs := d.group[g*d.units : (g+1)*d.units]
		left := float64(d.draws - d.count[g])
		for i, s := range d.sum {
			r[i] = (s - gs[i]) / left
		}
		reps = append(reps, r)
	}
	return reps
}

// se2 is the squared standard error of unit i's marginal.
func (d *drawStats) se2(i int) float64 {
	s := float64(d.draws)
	m := d.sum[i] / s
	return max(0, (d.sq[i]/s-m*m)/(s-1))
}

// meanSE is the mean over units of the standard error of their marginals.
func (d *drawStats) meanSE() float64 {
	if d.draws < 2 {
		return math.NaN()
	}
	var t float64
	for i := range d.sum {
		t += math.Sqrt(d.se2(i))
	}
	return t / float64(d.units)
}

// jackknife returns the figure of replicate 0 and the delete-a-group
// jackknife standard error from the others (NaN when there are none).
func jackknife(reps []float64) Figure {
	f := Figure{Value: reps[0], SE: math.NaN()}
	g := len(reps) - 1
	if g < 2 {
		return f
	}
	var mean float64
	for _, v := range reps[1:] {
		mean += v / float64(g)
	}
	var ss float64
	for _, v := range reps[1:] {
		ss += (v - mean) * (v - mean)
	}
	f.SE = math.Sqrt(float64(g-1) / float64(g) * ss)
	return f
}

// errAcc accumulates |MC − method| per replicate over units and images.
// The squared differences and standard errors of replicate 0 give the
// denoised RMS.
type errAcc struct {
	sum, max  []float64
	sq, noise float64
	n         int
}

func (e *errAcc) add(d *drawStats, reps [][]float64, method []float64) {
	if e.sum == nil {
		e.sum, e.max = make([]float64, len(reps)), make([]float64, len(reps))
	}
	for r, mc := range reps {
		for i, v := range mc {
			a := math.Abs(v - method[i])
			e.sum[r] += a
			e.max[r] = max(e.max[r], a)
			if r == 0 {
				e.sq += a * a
				if d.draws > 1 {
					e.noise += d.se2(i)
				}
			}
		}
	}
	e.n += len(method)
}

func (e *errAcc) result() LayerError {
	mean := make([]float64, len(e.sum))
	for r, s := range e.sum {
		mean[r] = s / float64(e.n)
	}
	rms := math.Sqrt(max(0, (e.sq-e.noise)/float64(e.n)))
	return LayerError{Mean: jackknife(mean), Max: jackknife(e.max), RMS: rms}
}

// layerAcc is one layer's accumulators: one per method, and the noise floor.
type layerAcc struct {
	layer, units int
	errs         []errAcc
	se           float64
	n            int
}

func (l *layerAcc) report(methods []graph.Inference) Layer {
	out := Layer{Layer: l.layer, Units: l.units, MCSE: l.se / float64(l.n), Errors: map[string]LayerError{}}
	for i, m := range methods {
		out.Errors[m.String()] = l.errs[i].result()
	}
	return out
}

func (l *layerAcc) add(d *drawStats, reps [][]float64, method [][]float64) {
	for i := range l.errs {
		l.errs[i].add(d, reps, method[i])
	}
	l.se += d.meanSE()
	l.n++
}

func newLayerAccs(layers []int, sizes []int, methods int) []*layerAcc {
	var ls []*layerAcc
	for i, k := range layers {
		ls = append(ls, &layerAcc{layer: k, units: sizes[i], errs: make([]errAcc, methods)})
	}
	return ls
}

// replicate repeats each of the images S times, row by row.
func replicate(images []float32, size, draws int) []float32 {
	out := make([]float32, 0, len(images)*draws)
	for i := 0; i < len(images); i += size {
		for range draws {
			out = append(out, images[i:i+size]...)
		}
	}
	return out
}

// padTo repeats the first image until there are n of them.
func padTo(images []float32, size, n int) []float32 {
	out := slices.Clone(images)
	for len(out) < n*size {
		out = append(out, images[:size]...)
	}
	return out
}

// plan is how the Monte-Carlo chains are run: each graph run holds per
// images (or one class) × chunk draws, at most Rows rows; an image with
// more draws than Rows has them in several runs, their statistics
// accumulated, so that memory does not grow with the draws.
type plan struct{ per, chunk int }

func planRuns(n, draws, rows int) plan {
	chunk := min(draws, rows)
	return plan{per: min(n, max(1, rows/chunk)), chunk: chunk}
}

// rowsOf reads a batch node's value row by row as float64, one row into a
// reused buffer at a time.
type rowsOf struct {
	f32   []float32
	f64   []float64
	width int
	buf   []float64
}

func newRows(v any, width int) *rowsOf {
	r := &rowsOf{width: width, buf: make([]float64, width)}
	switch d := v.(*tensor.Dense).Data().(type) {
	case []float32:
		r.f32 = d
	case []float64:
		r.f64 = d
	}
	return r
}

// row returns row i (valid until the next call).
func (r *rowsOf) row(i int) []float64 {
	if r.f64 != nil {
		return r.f64[i*r.width : (i+1)*r.width]
	}
	for j, v := range r.f32[i*r.width : (i+1)*r.width] {
		r.buf[j] = float64(v)
	}
	return r.buf
}

// copyRow returns a copy of row i.
func (r *rowsOf) copyRow(i int) []float64 { return slices.Clone(r.row(i)) }

// forward runs the forward chains on the images and fills rep.Forward and
// rep.Class.
func forward(p *graph.Params, images []float32, labels []uint8, o Options, rng *rand.Rand, rep *Report, progress func(int)) error {
	d, size, n, S, K := p.Depth(), p.Input.Size(), len(labels), o.Draws, p.Classes
	pl := planRuns(n, S, o.Rows)
	per := pl.per // images per batch
	mc, err := graph.NewForward(p, per*pl.chunk, graph.MonteCarlo)
	if err != nil {
		return fmt.Errorf("approx: Monte-Carlo forward chain: %w", err)
	}
	defer mc.Close()
	var approx []*graph.Forward
	for _, m := range o.Methods {
		f, err := graph.NewForward(p, per, m)
		if err != nil {
			return fmt.Errorf("approx: %v forward chain: %w", m, err)
		}
		defer f.Close()
		approx = append(approx, f)
	}
	var layers, sizes []int
	for k := 1; k < d; k++ {
		layers, sizes = append(layers, k), append(sizes, p.Shapes[k].Size())
	}
	accs := newLayerAccs(layers, sizes, len(o.Methods))
	var mcProbs [][]float64 // per replicate, n×K
	methodProbs := make([][]float64, len(o.Methods))
	for lo := 0; lo < n; lo += per {
		hi := min(n, lo+per)
		batch := padTo(images[lo*size:hi*size], size, per)
		// stats[j][i]: layer j (the class layer last) of image lo+i.
		stats := make([][]*drawStats, len(layers)+1)
		for j := range stats {
			width := K
			if j < len(layers) {
				width = sizes[j]
			}
			for range hi - lo {
				stats[j] = append(stats[j], newDrawStats(width, S))
			}
		}
		if err := mc.SetImages(replicate(batch, size, pl.chunk)); err != nil {
			return err
		}
		for s0 := 0; s0 < S; s0 += pl.chunk {
			mc.DrawNoise(rng)
			if err := mc.Run(); err != nil {
				return fmt.Errorf("approx: Monte-Carlo forward chain: %w", err)
			}
			k := min(pl.chunk, S-s0)
			for j, layer := range layers {
				addRows(stats[j], mc.Means[layer].Value(), pl.chunk, s0, k)
			}
			addRows(stats[len(layers)], mc.Probs.Value(), pl.chunk, s0, k)
		}
		for i, f := range approx {
			if err := f.SetImages(batch); err != nil {
				return err
			}
			if err := f.Run(); err != nil {
				return fmt.Errorf("approx: %v forward chain: %w", o.Methods[i], err)
			}
		}
		for j, k := range layers {
			var mRows []*rowsOf
			for _, f := range approx {
				mRows = append(mRows, newRows(f.Means[k].Value(), sizes[j]))
			}
			for i, ds := range stats[j] {
				ms := make([][]float64, len(mRows))
				for m, r := range mRows {
					ms[m] = r.copyRow(i)
				}
				ds.done()
				accs[j].add(ds, ds.replicates(), ms)
			}
		}
		for i, ds := range stats[len(layers)] {
			reps := ds.done().replicates()
			if mcProbs == nil {
				mcProbs = make([][]float64, len(reps))
			}
			for r, q := range reps {
				mcProbs[r] = append(mcProbs[r], q...)
			}
			for m, f := range approx {
				methodProbs[m] = append(methodProbs[m], newRows(f.Probs.Value(), K).copyRow(i)...)
			}
		}
		progress(hi)
	}
	for _, a := range accs {
		rep.Forward = append(rep.Forward, a.report(o.Methods))
	}
	rep.Class = classReport(mcProbs, methodProbs, o.Methods, labels, K)
	return nil
}

// tiny keeps logarithms finite where a probability underflowed.
const tiny = 1e-30

// classReport compares the class posteriors on the labelled images.
func classReport(mc [][]float64, methods [][]float64, names []graph.Inference, labels []uint8, K int) Class {
	c := Class{Methods: map[string]ClassFigures{}, KL: map[string]Figure{}}
	per := make([][3]float64, len(mc))
	for r, q := range mc {
		per[r] = classFigures(q, labels, K)
	}
	c.MC = ClassFigures{Accuracy: jackknife(column(per, 0)), NLL: jackknife(column(per, 1)), ECE: jackknife(column(per, 2))}
	for m, name := range names {
		f := classFigures(methods[m], labels, K)
		nan := math.NaN() // no draws, no standard error
		c.Methods[name.String()] = ClassFigures{Accuracy: Figure{f[0], nan}, NLL: Figure{f[1], nan}, ECE: Figure{f[2], nan}}
		kl := make([]float64, len(mc))
		for r, q := range mc {
			kl[r] = meanKL(q, methods[m], K)
		}
		c.KL[name.String()] = jackknife(kl)
	}
	return c
}

func column(rows [][3]float64, j int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = r[j]
	}
	return out
}

// meanKL is the mean over rows of KL(q ‖ p) for class posteriors of K classes.
func meanKL(q, p []float64, K int) float64 {
	var t float64
	for i, qi := range q {
		if qi > 0 {
			t += qi * math.Log(qi/max(p[i], tiny))
		}
	}
	return t / float64(len(q)/K)
}

// eceBins is the number of equal-width confidence bins of the expected
// calibration error.
const eceBins = 15

// classFigures returns the accuracy, the NLL and the expected calibration
// error of class posteriors (rows of K) against the labels.
func classFigures(probs []float64, labels []uint8, K int) [3]float64 {
	var correct, nll float64
	var binConf, binAcc [eceBins]float64
	for i, l := range labels {
		row := probs[i*K : (i+1)*K]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		hit := 0.0
		if best == int(l) {
			hit = 1
		}
		correct += hit
		nll -= math.Log(max(row[l], tiny))
		b := min(eceBins-1, int(row[best]*eceBins))
		binConf[b] += row[best]
		binAcc[b] += hit
	}
	n := float64(len(labels))
	var ece float64
	for b := range eceBins {
		ece += math.Abs(binAcc[b]-binConf[b]) / n
	}
	return [3]float64{correct / n, nll / n, ece}
}

// reverse runs the reverse chains from every class and fills rep.Reverse
// and rep.Image.
func reverse(p *graph.Params, images []float32, labels []uint8, o Options, rng *rand.Rand, rep *Report, progress func(int)) error {
	d, size, S, K := p.Depth(), p.Input.Size(), o.Draws, p.Classes
	chunk := planRuns(1, S, o.Rows).chunk // draws of a class per graph run
	mc, err := graph.NewReverse(p, chunk, graph.MonteCarlo)
	if err != nil {
		return fmt.Errorf("approx: Monte-Carlo reverse chain: %w", err)
	}
	defer mc.Close()
	all := make([]uint8, K)
	for c := range all {
		all[c] = uint8(c)
	}
	var approx []*graph.Reverse
	for _, m := range o.Methods {
		r, err := graph.NewReverse(p, K, m)
		if err != nil {
			return fmt.Errorf("approx: %v reverse chain: %w", m, err)
		}
		defer r.Close()
		if err := r.SetClasses(all); err != nil {
			return err
		}
		if err := r.Run(); err != nil {
			return fmt.Errorf("approx: %v reverse chain: %w", m, err)
		}
		approx = append(approx, r)
	}
	var layers, sizes []int
	for k := d - 1; k >= 0; k-- {
		layers, sizes = append(layers, k), append(sizes, p.Shapes[k].Size())
	}
	accs := newLayerAccs(layers, sizes, len(o.Methods))
	imgReps := make([][][]float64, K) // per class, per replicate: q(x^0 = 1)
	same := make([]uint8, chunk)
	for c := range K {
		for i := range same {
			same[i] = uint8(c)
		}
		if err := mc.SetClasses(same); err != nil {
			return err
		}
		stats := make([]*drawStats, len(layers))
		for j := range layers {
			stats[j] = newDrawStats(sizes[j], S)
		}
		for s0 := 0; s0 < S; s0 += chunk {
			mc.DrawNoise(rng)
			if err := mc.Run(); err != nil {
				return fmt.Errorf("approx: Monte-Carlo reverse chain: %w", err)
			}
			for j, k := range layers {
				stats[j].add(mc.Means[k].Value(), 0, s0, min(chunk, S-s0))
			}
		}
		for j, k := range layers {
			ds := stats[j].done()
			ms := make([][]float64, len(approx))
			for m, r := range approx {
				ms[m] = newRows(r.Means[k].Value(), sizes[j]).copyRow(c)
			}
			reps := ds.replicates()
			accs[j].add(ds, reps, ms)
			if k == 0 {
				imgReps[c] = reps
			}
		}
		progress(c + 1)
	}
	for _, a := range accs {
		rep.Reverse = append(rep.Reverse, a.report(o.Methods))
	}
	methodImg := make([][][]float64, len(approx)) // per method, per class
	for m, r := range approx {
		rows := newRows(r.Means[0].Value(), size)
		for c := range K {
			methodImg[m] = append(methodImg[m], rows.copyRow(c))
		}
	}
	rep.Image = imageReport(images, labels, size, imgReps, methodImg, o.Methods)
	return nil
}

// imageReport is the per-pixel BCE of each image under its class's image
// marginal, overall and per class.
func imageReport(images []float32, labels []uint8, size int, mc [][][]float64, methods [][][]float64, names []graph.Inference) Image {
	K := len(mc)
	R := len(mc[0])
	total := make([]float64, R)
	perClass := make([][]float64, K)
	count := make([]int, K)
	mTotal := make([]float64, len(methods))
	mPer := make([][]float64, len(methods))
	for m := range methods {
		mPer[m] = make([]float64, K)
	}
	for c := range perClass {
		perClass[c] = make([]float64, R)
	}
	for i, l := range labels {
		x := images[i*size : (i+1)*size]
		count[l]++
		for r, q := range mc[l] {
			b := bce(x, q)
			total[r] += b
			perClass[l][r] += b
		}
		for m := range methods {
			b := bce(x, methods[m][l])
			mTotal[m] += b
			mPer[m][l] += b
		}
	}
	n := float64(len(labels))
	img := Image{Methods: map[string]float64{}}
	for r := range total {
		total[r] /= n
	}
	img.MC = jackknife(total)
	for m, name := range names {
		img.Methods[name.String()] = mTotal[m] / n
	}
	for c := range K {
		ic := ImageClass{Class: c, Images: count[c], Methods: map[string]float64{}}
		if count[c] > 0 {
			for r := range perClass[c] {
				perClass[c][r] /= float64(count[c])
			}
			ic.MC = jackknife(perClass[c])
			for m, name := range names {
				ic.Methods[name.String()] = mPer[m][c] / float64(count[c])
			}
		}
		img.PerClass = append(img.PerClass, ic)
	}
	return img
}

// bceClamp keeps a pixel's probability inside (0, 1), where float32
// saturates.
const bceClamp = 1e-7

// bce is the mean per-pixel binary cross-entropy of grey levels x under
// pixel probabilities q.
func bce(x []float32, q []float64) float64 {
	var t float64
	for i, v := range x {
		qi := min(max(q[i], bceClamp), 1-bceClamp)
		t -= float64(v)*math.Log(qi) + (1-float64(v))*math.Log(1-qi)
	}
	return t / float64(len(x))
}
