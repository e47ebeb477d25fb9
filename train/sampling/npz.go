package sampling

import (
	"fmt"

	"dcim/train/checkpoint"
)

// imageShape is the array shape of n images: N×H×W for one channel (as
// NumPy users expect of MNIST), N×C×H×W otherwise.
func imageShape(n, c, h, w int) []int {
	if c == 1 {
		return []int{n, h, w}
	}
	return []int{n, c, h, w}
}

// int64s widens labels to int64, the dtype of the label arrays.
func int64s(v []uint8) []int64 { return checkpoint.NamedArray{Data: v}.Int64s() }

// Arrays returns the samples of the tableaux, concatenated, as the arrays
// of samples.npz: images (N×28×28 float32 in [0,1]), labels (int64, the
// class drawn for), pred (int64, the forward model's class), prob
// (float32, its probability), probs (N×classes float32) and mode (int64,
// the index of each sample's mode in Modes).
func Arrays(tabs []*Tableau) ([]checkpoint.NamedArray, error) {
	if len(tabs) == 0 {
		return nil, fmt.Errorf("no samples")
	}
	t0 := tabs[0]
	var images, prob, probs []float32
	var labels, pred, mode []int64
	for _, t := range tabs {
		if t.C != t0.C || t.H != t0.H || t.W != t0.W || t.Classes != t0.Classes {
			return nil, fmt.Errorf("tableaux of different shapes")
		}
		for i := range t.N() {
			if t.blank(i) {
				continue
			}
			images = append(images, t.Image(i)...)
			labels = append(labels, int64(t.Labels[i]))
			pred = append(pred, int64(t.Pred[i]))
			prob = append(prob, t.Prob[i])
			probs = append(probs, t.Probs[i*t.Classes:(i+1)*t.Classes]...)
			mode = append(mode, int64(t.Mode.Index()))
		}
	}
	n := len(labels)
	return []checkpoint.NamedArray{
		{Name: "images", Shape: imageShape(n, t0.C, t0.H, t0.W), Data: images},
		{Name: "labels", Shape: []int{n}, Data: labels},
		{Name: "pred", Shape: []int{n}, Data: pred},
		{Name: "prob", Shape: []int{n}, Data: prob},
		{Name: "probs", Shape: []int{n, t0.Classes}, Data: probs},
		{Name: "mode", Shape: []int{n}, Data: mode},
	}, nil
}

// WriteNPZ writes the samples of the tableaux to path (see Arrays).
func WriteNPZ(path string, tabs []*Tableau) error {
	arrays, err := Arrays(tabs)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return checkpoint.WriteNPZArrays(path, arrays)
}

// Arrays returns the arrays of reconstruct.npz: originals and images
// (reconstructions), both N×28×28 float32, labels (int64, true labels),
// pred and prob (the forward model's verdict on each reconstruction).
func (r *Reconstruction) Arrays() []checkpoint.NamedArray {
	t := r.Tableau
	n := len(r.Labels)
	shape := imageShape(n, t.C, t.H, t.W)
	return []checkpoint.NamedArray{
		{Name: "originals", Shape: shape, Data: r.Originals},
		{Name: "images", Shape: shape, Data: r.Images},
		{Name: "labels", Shape: []int{n}, Data: int64s(r.Labels)},
		{Name: "pred", Shape: []int{n}, Data: int64s(r.Pred)},
		{Name: "prob", Shape: []int{n}, Data: r.Prob},
	}
}
