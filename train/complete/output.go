package complete

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"dcim/train/checkpoint"
	"dcim/train/sampling"
)

// WriteTable prints the accuracy and completion BCE of every mask ×
// method, one row per mask.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d images, clean accuracy %.4f\n", r.N, r.CleanAccuracy)
	parts := []struct {
		title string
		value func(Cell) float64
	}{
		{"accuracy", func(c Cell) float64 { return c.Accuracy }},
		{"BCE of the completed pixels (nats per pixel)", func(c Cell) float64 { return c.BCE }},
	}
	for _, part := range parts {
		fmt.Fprintf(w, "\n%s\n", part.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		header := []string{"mask", "missing"}
		for _, m := range r.Methods {
			header = append(header, string(m))
		}
		fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
		for _, row := range r.Cells {
			fields := []string{row[0].Mask, fmt.Sprintf("%.3f", r.missingFraction(row[0]))}
			for _, c := range row {
				fields = append(fields, fmt.Sprintf("%.4f", part.value(c)))
			}
			fmt.Fprintln(tw, strings.Join(fields, "\t")+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// missingFraction is the fraction of pixels the cell's mask hides.
func (r *Result) missingFraction(c Cell) float64 {
	return float64(c.Missing) / float64(r.N*r.C*r.H*r.W)
}

// rgb converts grey images (one channel) to three channels, painting the
// pixels that are not observed (obs may be nil) in the colour of missing.
func rgb(grey []float32, obs []bool, plane int) []float32 {
	n := len(grey) / plane
	out := make([]float32, 3*len(grey))
	missing := [3]float32{0.15, 0.25, 0.6}
	for i := range n {
		for j := range plane {
			v := grey[i*plane+j]
			for ch := range 3 {
				c := v
				if obs != nil && !obs[i*plane+j] {
					c = missing[ch]
				}
				out[(3*i+ch)*plane+j] = c
			}
		}
	}
	return out
}

// Tableaux returns one labelled tableau per mask for the first Show
// images: rows original, masked (missing pixels in blue), then each
// method's completion, each tile with the predicted class and its
// probability (red where wrong). Only single-channel images are drawn.
func (r *Result) Tableaux() ([]*sampling.Tableau, error) {
	if r.Show < 1 {
		return nil, fmt.Errorf("no images kept to draw")
	}
	if r.C != 1 {
		return nil, fmt.Errorf("drawing %d-channel images is not supported", r.C)
	}
	plane, k := r.H*r.W, r.Show
	var tabs []*sampling.Tableau
	for mi, row := range r.Cells {
		t := &sampling.Tableau{
			Title: "mask " + r.Masks[mi], C: 3, H: r.H, W: r.W,
			Rows: 2 + len(row), Cols: k, Classes: r.Classes,
			RowNames: []string{"x", "masked"},
		}
		add := func(images []float32, obs []bool, pred []uint8, prob []float32) {
			t.Images = append(t.Images, rgb(images, obs, plane)...)
			t.Labels = append(t.Labels, r.Labels[:k]...)
			t.Pred = append(t.Pred, pred[:k]...)
			t.Prob = append(t.Prob, prob[:k]...)
		}
		add(r.Originals, nil, r.CleanPred, r.CleanProb)
		add(r.Originals, r.Observed[mi], row[0].Pred, row[0].Prob)
		for _, c := range row {
			add(c.Images, nil, c.Pred, c.Prob)
			t.RowNames = append(t.RowNames, string(c.Method))
		}
		// The masked row carries the first method's verdict.
		tabs = append(tabs, t)
	}
	return tabs, nil
}

// Arrays returns the arrays of complete.npz: labels (N, int64), for the
// first Show images originals (K×H×W float32) and, per mask, MASK_observed
// (K×H×W uint8, 1 = observed), and per mask and method MASK_METHOD_pred
// (N, int64), MASK_METHOD_prob (N, float32) and MASK_METHOD_images
// (K×H×W float32 completions).
func (r *Result) Arrays() []checkpoint.NamedArray {
	k := r.Show
	shape := []int{k, r.H, r.W}
	if r.C != 1 {
		shape = []int{k, r.C, r.H, r.W}
	}
	arrays := []checkpoint.NamedArray{
		{Name: "labels", Shape: []int{r.N}, Data: convert[int64](r.Labels)},
		{Name: "clean_pred", Shape: []int{r.N}, Data: convert[int64](r.CleanPred)},
		{Name: "originals", Shape: shape, Data: r.Originals},
	}
	for mi, row := range r.Cells {
		obs := make([]uint8, len(r.Observed[mi]))
		for i, o := range r.Observed[mi] {
			if o {
				obs[i] = 1
			}
		}
		arrays = append(arrays, checkpoint.NamedArray{Name: r.Masks[mi] + "_observed", Shape: shape, Data: obs})
		for _, c := range row {
			name := r.Masks[mi] + "_" + string(c.Method)
			arrays = append(arrays,
				checkpoint.NamedArray{Name: name + "_pred", Shape: []int{r.N}, Data: convert[int64](c.Pred)},
				checkpoint.NamedArray{Name: name + "_prob", Shape: []int{r.N}, Data: c.Prob},
				checkpoint.NamedArray{Name: name + "_images", Shape: shape, Data: c.Images})
		}
	}
	return arrays
}
