// Package sampling draws class-conditional images from a DCIM's reverse
// model (the paper's Figures 2 and 3), classifies them with
// the forward model, renders them as labelled tableaux and writes them as
// NumPy arrays.
package sampling

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"dcim/graph"

	"gonum.org/v1/gonum/stat"
)

// Mode is how the reverse chain is run from the class down.
type Mode string

// The sampling modes.
const (
	// Chain draws every hidden layer in turn, d−1 down to 1 (Figure 2 left).
	Chain Mode = "chain"
	// Layer draws layer d−1 only and propagates probabilities down to the
	// image (Figure 2 right, Figure 3).
	Layer Mode = "layer"
	// Mean draws nothing: probabilities are propagated from the one-hot
	// class down, the model's average digit of each class.
	Mean Mode = "mean"
)

// Modes lists the modes in the order "all" renders them.
var Modes = []Mode{Chain, Layer, Mean}

// ParseModes reads a -mode value: one mode, or "all" for every mode.
func ParseModes(s string) ([]Mode, error) {
	if s == "all" {
		return slices.Clone(Modes), nil
	}
	for _, m := range Modes {
		if Mode(s) == m {
			return []Mode{m}, nil
		}
	}
	return nil, fmt.Errorf("unknown mode %q (want chain, layer, mean or all)", s)
}

// Index is the mode's position in Modes (the code written in samples.npz).
func (m Mode) Index() int { return slices.Index(Modes, m) }

// Describe is a short caption for the mode's tableau.
func (m Mode) Describe() string {
	switch m {
	case Chain:
		return "chain: every layer drawn"
	case Layer:
		return "layer: layer d-1 drawn"
	case Mean:
		return "mean: no draws"
	}
	return string(m)
}

// Draws lists the layers the mode draws for a model of depth d, from the
// top down. A model without hidden layers (d = 1) has nothing to draw.
func (m Mode) Draws(d int) []int {
	switch {
	case d < 2 || m == Mean:
		return nil
	case m == Layer:
		return []int{d - 1}
	}
	var ks []int
	for k := d - 1; k >= 1; k-- {
		ks = append(ks, k)
	}
	return ks
}

// Tableau is a batch of images laid out in Rows × Cols tiles (row-major),
// each with the class it was drawn for and the forward model's verdict.
type Tableau struct {
	Title   string
	Mode    Mode      // "" for tableaux that are not samples
	Images  []float32 // N×C×H×W, q(x⁰ = 1 | ·) in [0,1]
	C, H, W int
	Rows    int
	Cols    int
	Labels  []uint8   // the class each image was drawn for (or its true label)
	Pred    []uint8   // the forward model's top class
	Prob    []float32 // its probability
	Probs   []float32 // N×classes, p(x^d | image)
	Classes int
	// RowNames, if set, are drawn left of each row (default: none).
	RowNames []string
	// Blank, if set, marks tiles that hold no image (left empty).
	Blank []bool
}

func (t *Tableau) blank(i int) bool { return t.Blank != nil && t.Blank[i] }

// N is the number of images.
func (t *Tableau) N() int { return len(t.Labels) }

// Image returns a view of image i.
func (t *Tableau) Image(i int) []float32 {
	sz := t.C * t.H * t.W
	return t.Images[i*sz : (i+1)*sz]
}

// modeStream separates the random streams of the modes, so that a mode
// gives the same samples alone as within "all".
func modeStream(m Mode) uint64 { return 0x5a3b1e00 + uint64(m.Index()) }

// Generate draws perClass images of every class with the reverse model of
// p in the given mode and classifies them with the forward model. Row c
// of the tableau holds class c. The same seed gives the same images.
func Generate(p *graph.Params, mode Mode, perClass int, seed uint64) (*Tableau, error) {
	return GenerateWith(p, mode, perClass, seed, graph.MeanField)
}

// GenerateWith is Generate with the chains run under inf: with the moment
// method the mean mode propagates means and variances down from the class
// and the forward model classifies with means and variances too; the
// drawn modes pass their draws on by mean field below them either way.
func GenerateWith(p *graph.Params, mode Mode, perClass int, seed uint64, inf graph.Inference) (*Tableau, error) {
	if mode.Index() < 0 {
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	if perClass < 1 {
		return nil, fmt.Errorf("%d samples per class, want at least 1", perClass)
	}
	k := p.Classes
	if k > 256 {
		return nil, fmt.Errorf("%d classes: at most 256 supported", k)
	}
	n := k * perClass
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i / perClass)
	}
	var images []float32
	if draws := mode.Draws(p.Depth()); len(draws) == 0 {
		var err error
		if images, err = classImages(p, labels, inf); err != nil {
			return nil, fmt.Errorf("sampling %s: %w", mode, err)
		}
	} else {
		gen, err := graph.NewGenerator(p, p.Depth(), draws, n)
		if err != nil {
			return nil, fmt.Errorf("sampling %s: %w", mode, err)
		}
		defer gen.Close()
		if err := gen.SetClasses(labels); err != nil {
			return nil, fmt.Errorf("sampling %s: %w", mode, err)
		}
		gen.DrawNoise(rand.New(rand.NewPCG(seed, modeStream(mode))))
		if err := gen.Run(); err != nil {
			return nil, fmt.Errorf("sampling %s: %w", mode, err)
		}
		images = gen.Images()
	}
	t := &Tableau{
		Title: mode.Describe(), Mode: mode, Images: images,
		C: p.Input.C, H: p.Input.H, W: p.Input.W,
		Rows: k, Cols: perClass, Labels: labels, Classes: k,
	}
	for c := range k {
		t.RowNames = append(t.RowNames, fmt.Sprint(c))
	}
	if err := t.classify(p, inf); err != nil {
		return nil, err
	}
	return t, nil
}

// classImages is the image of the reverse chain run from each label
// without draws: computed once per class and repeated, so that the samples
// of a class are exactly one image (a batched product may round rows
// differently).
func classImages(p *graph.Params, labels []uint8, inf graph.Inference) ([]float32, error) {
	classes := make([]uint8, p.Classes)
	for c := range classes {
		classes[c] = uint8(c)
	}
	one, err := graph.ClassImages(p, classes, inf)
	if err != nil {
		return nil, err
	}
	size := p.Input.Size()
	images := make([]float32, 0, len(labels)*size)
	for _, c := range labels {
		images = append(images, one[int(c)*size:(int(c)+1)*size]...)
	}
	return images, nil
}

// classify fills Pred, Prob and Probs from the forward model.
func (t *Tableau) classify(p *graph.Params, inf graph.Inference) error {
	probs, err := classifyWith(p, t.Images, t.Labels, inf)
	if err != nil {
		return err
	}
	t.Probs, t.Classes = probs, p.Classes
	t.Pred, t.Prob = Top(probs, p.Classes)
	return nil
}

// classifyBatch bounds the batch of the classification graph.
const classifyBatch = 500

// Classify returns p(x^d | x^0) of the forward model for images (N×C×H×W
// in [0,1]) as an N×classes slice. labels (one per image) only feed the
// graph's cross-entropy and may be nil.
func Classify(p *graph.Params, images []float32, labels []uint8) ([]float32, error) {
	return classifyWith(p, images, labels, graph.MeanField)
}

func classifyWith(p *graph.Params, images []float32, labels []uint8, inf graph.Inference) ([]float32, error) {
	size := p.Input.Size()
	if len(images)%size != 0 || len(images) == 0 {
		return nil, fmt.Errorf("classify: %d pixels is not a whole number of %v images", len(images), p.Input)
	}
	n := len(images) / size
	if labels == nil {
		labels = make([]uint8, n)
	}
	batch := min(n, classifyBatch)
	net, err := graph.New(p, graph.Config{Objective: graph.Discriminative, Batch: batch, Inference: inf})
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	defer net.Close()
	out := make([]float32, 0, n*p.Classes)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		if err := net.SetBatch(images[lo*size:hi*size], labels[lo:hi]); err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		if err := net.Run(); err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		out = append(out, graph.Float32s(net.Probs)[:(hi-lo)*p.Classes]...)
	}
	return out, nil
}

// Top returns each row's most probable class and its probability.
func Top(probs []float32, classes int) (pred []uint8, prob []float32) {
	n := len(probs) / classes
	pred, prob = make([]uint8, n), make([]float32, n)
	for i := range n {
		row := probs[i*classes : (i+1)*classes]
		best := graph.Argmax(row)
		pred[i], prob[i] = uint8(best), row[best]
	}
	return pred, prob
}

// ClassStats is how the forward model judges the samples of one class,
// and how much they differ from each other.
type ClassStats struct {
	Class    int     `json:"class"`
	N        int     `json:"n"`         // samples drawn for the class
	Correct  int     `json:"correct"`   // of which the forward model assigns to the class
	MeanProb float64 `json:"mean_prob"` // mean p(class | sample)
	// PixelStd is the standard deviation of a pixel across the class's
	// samples (over N, in the units of the pixel probabilities),
	// averaged over the pixels: 0 when every sample is the same image.
	PixelStd float64 `json:"pixel_std"`
}

// Stats summarises a tableau per class (only classes that occur).
func (t *Tableau) Stats() []ClassStats {
	stats := make([]ClassStats, t.Classes)
	members := make([][]int, t.Classes)
	for i, c := range t.Labels {
		if t.blank(i) {
			continue
		}
		s := &stats[c]
		s.Class = int(c)
		s.N++
		if t.Pred[i] == c {
			s.Correct++
		}
		s.MeanProb += float64(t.Probs[i*t.Classes+int(c)])
		members[c] = append(members[c], i)
	}
	var out []ClassStats
	for c, s := range stats {
		if s.N > 0 {
			s.MeanProb /= float64(s.N)
			s.PixelStd = t.pixelStd(members[c])
			out = append(out, s)
		}
	}
	return out
}

// pixelStd is the (population) standard deviation of each pixel over the
// images idx, averaged over the pixels; identical images give exactly 0.
func (t *Tableau) pixelStd(idx []int) float64 {
	size := t.C * t.H * t.W
	col := make([]float64, len(idx))
	total := 0.0
	for j := range size {
		for k, i := range idx {
			col[k] = float64(t.Images[i*size+j])
		}
		_, std := stat.PopMeanStdDev(col, nil)
		total += std
	}
	return total / float64(size)
}

// Verdict is the forward model's judgement of a tableau of samples, over
// all its classes, with the spread of the samples.
type Verdict struct {
	Mode    Mode `json:"mode"`
	N       int  `json:"n"`
	Correct int  `json:"correct"` // samples classified as their class
	// PixelStd is the per-class PixelStd averaged over the classes.
	PixelStd float64      `json:"pixel_std"`
	Classes  []ClassStats `json:"classes"`
	// Judge is another model's verdict on the same samples (nil: none
	// asked), a check that does not rest on the forward model that
	// trained with the reverse one.
	Judge *Judgement `json:"judge,omitempty"`
}

// Judgement is how many samples another model's forward chain assigns to
// their class.
type Judgement struct {
	Model   string `json:"model"` // the judge's run folder
	Correct int    `json:"correct"`
}

// JudgedBy classifies the tableau's samples with the forward model of
// another network (mean field) and returns how many it assigns to their
// class. The judge must read images of the tableau's shape and have as
// many classes.
func (t *Tableau) JudgedBy(judge *graph.Params) (int, error) {
	if judge.Input.C != t.C || judge.Input.H != t.H || judge.Input.W != t.W || judge.Classes != t.Classes {
		return 0, fmt.Errorf("judge reads %v images into %d classes; the samples are %d×%d×%d of %d classes", judge.Input, judge.Classes, t.C, t.H, t.W, t.Classes)
	}
	probs, err := Classify(judge, t.Images, t.Labels)
	if err != nil {
		return 0, err
	}
	pred, _ := Top(probs, judge.Classes)
	correct := 0
	for i, c := range t.Labels {
		if !t.blank(i) && pred[i] == c {
			correct++
		}
	}
	return correct, nil
}

// Verdict sums up the tableau's Stats.
func (t *Tableau) Verdict() Verdict {
	v := Verdict{Mode: t.Mode, Classes: t.Stats()}
	for _, s := range v.Classes {
		v.N += s.N
		v.Correct += s.Correct
		v.PixelStd += s.PixelStd
	}
	if len(v.Classes) > 0 {
		v.PixelStd /= float64(len(v.Classes))
	}
	return v
}
