package sampling

import (
	"fmt"

	"dcim/graph"
)

// classifyValues is GraphValues for Classify's graph, and reconstructValues
// for Reconstruct's, which runs both chains of a batch of every image.
const (
	classifyValues    = graph.GraphValues
	reconstructValues = 2 * graph.GraphValues
)

// mnistBytes is what loading MNIST holds: 70,000 images of 784 bytes and
// their labels.
const mnistBytes = 70_000 * 785

// RenderBytes is the memory Render and EncodePNG hold for tableaux of
// these shapes, drawn at scale: the RGBA picture (4 bytes a pixel) and its
// PNG encoding (counted as a byte a pixel: grey digits on a plain ground
// compress to less). It reads the tableaux' shapes, titles and row names,
// not their images.
func RenderBytes(tabs []*Tableau, scale int) (int64, error) {
	_, w, h, _, err := layOut(tabs, scale)
	if err != nil {
		return 0, err
	}
	return graph.SatMul(int64(w), int64(h), 4+1), nil
}

// Memory estimates the bytes the sample command's largest allocations
// hold together at their peak when it draws perClass samples of every
// class in each of modes with p, renders them at scale and, if
// reconstruct > 0, reconstructs that many MNIST test images: the tableaux
// of every mode, and the largest of a mode's reverse chain for all its
// samples at once, the classifier's batches, the picture and the arrays
// of samples.npz. It saturates instead of overflowing.
func Memory(p *graph.Params, modes []Mode, perClass, scale, reconstruct int) (int64, error) {
	if perClass < 1 || len(modes) == 0 {
		return 0, fmt.Errorf("%d samples per class in %d modes", perClass, len(modes))
	}
	k, size := int64(p.Classes), int64(p.Input.Size())
	n := graph.SatMul(k, int64(perClass))
	images := graph.SatMul(n, size, 4)
	m := int64(len(modes))
	tableaux := graph.SatMul(m, graph.SatAdd(images, graph.SatMul(n, k, 4), graph.SatMul(n, 5)))
	var tabs []*Tableau
	peak := graph.StateBytes(p, int(min(n, classifyBatch)), classifyValues)
	for _, mode := range modes {
		rows := n
		if len(mode.Draws(p.Depth())) == 0 {
			rows = k // one reverse chain per class, repeated
		}
		peak = max(peak, graph.SatAdd(graph.StateBytes(p, int(rows), graph.GraphValues), graph.SatMul(2, images))) // the images, and their copy
		t := &Tableau{Title: mode.Describe(), Mode: mode, C: p.Input.C, H: p.Input.H, W: p.Input.W, Rows: int(k), Cols: perClass, Classes: int(k)}
		for c := range k {
			t.RowNames = append(t.RowNames, fmt.Sprint(c))
		}
		tabs = append(tabs, t)
	}
	render, err := RenderBytes(tabs, scale)
	if err != nil {
		return 0, err
	}
	peak = max(peak, render, graph.SatMul(3, m, images)) // samples.npz: the arrays, their npy bytes, the archive
	if reconstruct > 0 {
		r := int64(reconstruct)
		peak = max(peak, graph.SatAdd(mnistBytes, graph.StateBytes(p, reconstruct, reconstructValues), graph.SatMul(6, r, size, 4)))
	}
	return graph.SatAdd(tableaux, peak), nil
}

// JudgeBytes is what classifying n samples with a judge's forward model
// (Tableau.JudgedBy) holds beyond Memory's estimate: the judge's
// classifier graph for one batch.
func JudgeBytes(judge *graph.Params, n int) int64 {
	return graph.StateBytes(judge, min(n, classifyBatch), classifyValues)
}
