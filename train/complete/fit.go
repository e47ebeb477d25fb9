package complete

import (
	"fmt"
	"math"
	"math/rand/v2"

	"dcim/data"
	"dcim/graph"
	"dcim/train"
	"dcim/train/checkpoint"
)

// defaultFitBatch is FitOptions.Batch's default.
const defaultFitBatch = 64

// FitOptions configure FitMasked.
type FitOptions struct {
	Epochs int
	Batch  int     // examples per step (default defaultFitBatch, 64)
	LR     float64 // Adam's learning rate (default train.DefaultLR)
	Seed   uint64  // order of the examples and choice of masks
	// Whole is the probability that an example is shown whole; below 0
	// it is 1/(len(masks)+1), as likely as each mask.
	Whole float64
	// Progress, if set, is called after each epoch with its number and
	// the mean training cross-entropy.
	Progress func(epoch int, ce float64)
}

// FitMasked trains the forward chain of p in place on the images of set
// with parts hidden, so that it classifies incomplete images: each
// example is shown whole (with probability o.Whole) or hidden by one of
// masks, chosen uniformly, its hidden pixels set to fill (the Mean method's input). The loss is the
// forward cross-entropy −log p(label | x^0) of eq. (15) alone; the reverse
// chain shares the weights, so its model changes too. A step whose loss,
// or an epoch after which a parameter, is not finite ends the fit with an
// error: p then holds no usable model.
func FitMasked(p *graph.Params, set *data.Set, masks []*Mask, fill []float32, o FitOptions) error {
	if o.Epochs < 1 || len(masks) == 0 {
		return fmt.Errorf("fit: %d epochs over %d masks", o.Epochs, len(masks))
	}
	if o.Batch < 1 {
		o.Batch = defaultFitBatch
	}
	if o.LR == 0 {
		o.LR = train.DefaultLR
	}
	if o.Whole < 0 {
		o.Whole = 1 / float64(len(masks)+1)
	}
	size := p.Input.Size()
	if set.PixelsPerImage() != size || len(fill) != size {
		return fmt.Errorf("fit: images of %d values and a fill of %d for a model of input %v", set.PixelsPerImage(), len(fill), p.Input)
	}
	net, err := graph.New(p, graph.Config{Batch: o.Batch, Grad: true})
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	defer net.Close()
	params := make([][]float32, len(p.Tensors()))
	sizes := make([]int, len(params))
	for i, w := range p.Tensors() {
		d, ok := w.Data().([]float32)
		if !ok {
			return fmt.Errorf("fit: parameters of dtype %v, want float32", w.Dtype())
		}
		params[i], sizes[i] = d, len(d)
	}
	adam := train.NewAdam(o.LR, sizes)
	grads := make([][]float32, len(params))
	rng := rand.New(rand.NewPCG(o.Seed, 0x666974)) // "fit"
	n := set.N
	x := make([]float32, o.Batch*size)
	labels := make([]uint8, o.Batch)
	plane := masks[0].H * masks[0].W
	obs := make([]bool, plane)
	for epoch := range o.Epochs {
		order := rng.Perm(n)
		var ce float64
		steps := 0
		for lo := 0; lo+o.Batch <= n; lo += o.Batch {
			for k, i := range order[lo : lo+o.Batch] {
				img := x[k*size : (k+1)*size]
				loadImage(img, set, i)
				labels[k] = set.Labels[i]
				if rng.Float64() < o.Whole {
					continue // shown whole
				}
				// A fresh random mask for each example and epoch.
				masks[rng.IntN(len(masks))].Observed(epoch*n+i, obs)
				for j := range img {
					if !obs[j%plane] {
						img[j] = fill[j]
					}
				}
			}
			if err := net.SetBatch(x, labels); err != nil {
				return fmt.Errorf("fit: %w", err)
			}
			if err := net.Run(); err != nil {
				return fmt.Errorf("fit: %w", err)
			}
			stepCE := graph.Scalar(net.CE)
			if math.IsNaN(stepCE) || math.IsInf(stepCE, 0) {
				return fmt.Errorf("fit: the cross-entropy is %v at epoch %d, step %d: training diverged (a learning rate of %g is too high?)", stepCE, epoch+1, steps+1, o.LR)
			}
			ce += stepCE
			steps++
			for i, g := range net.Grads {
				grads[i] = nil
				if g != nil {
					grads[i] = g.Value().Data().([]float32)
				}
			}
			if err := adam.Step(params, grads); err != nil {
				return fmt.Errorf("fit: %w", err)
			}
		}
		if err := checkpoint.CheckFinite(p); err != nil {
			return fmt.Errorf("fit: %w after epoch %d: training diverged (a learning rate of %g is too high?)", err, epoch+1, o.LR)
		}
		if o.Progress != nil {
			o.Progress(epoch+1, ce/float64(steps))
		}
	}
	return nil
}
