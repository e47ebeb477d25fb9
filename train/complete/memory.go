package complete

import (
	"slices"

	"dcim/graph"
	"dcim/train/sampling"
)

// defaultBatch is Config.Batch's default.
const defaultBatch = 500

// Memory estimates the bytes Evaluate's largest allocations, and the
// outputs made of its result, hold together at their peak for n images
// under cfg with p: the forward chain's graph (and the reverse chain's,
// for Iterate) for a batch; a batch's completions and likelihoods; the
// mixture's image means for all its draws, and the graph and scores of a
// chunk of them; the results; complete.png (drawn at scale) and
// complete.npz. It saturates instead of overflowing.
func Memory(p *graph.Params, n int, cfg Config, scale int) int64 {
	batch := int64(min(n, cmpOr(cfg.Batch, defaultBatch)))
	size, k := int64(p.Input.Size()), int64(p.Classes)
	show := int64(min(max(cfg.Show, 0), n))
	masks, methods := int64(len(cfg.Masks)), int64(len(cfg.Methods))

	graphs := graph.StateBytes(p, int(batch), graph.GraphValues)
	if slices.Contains(cfg.Methods, Iterate) {
		graphs = graph.SatAdd(graphs, graph.StateBytes(p, int(batch), graph.GraphValues))
	}
	// The images, their observed pixels, the mean-filled images, two
	// completions, the likelihoods' factors (float64), a mixed mean
	// (float64) and its completion; the class means' logarithms and the
	// posteriors.
	perBatch := graph.SatAdd(graph.SatMul(batch, size, 4+1+4+2*4+2*8+8+4), graph.SatMul(k, size, 3*8), graph.SatMul(batch, k, 4*8))
	var mix int64
	if slices.Contains(cfg.Methods, Mixture) {
		draws := graph.SatMul(k, int64(max(cfg.Draws, 1)))
		chunk := min(draws, mixChunk)
		build := graph.SatAdd(graph.StateBytes(p, int(chunk), graph.GraphValues), graph.SatMul(chunk, size, 4))
		score := graph.SatAdd(graph.SatMul(chunk, size, 3*8), graph.SatMul(batch, chunk, 8), graph.SatMul(batch, size, 2*8+8))
		mix = graph.SatAdd(graph.SatMul(draws, size, 4), max(build, score))
	}
	var is int64
	if slices.Contains(cfg.Methods, GenerativeIS) || slices.Contains(cfg.Methods, JointIS) {
		// The joint graph (forward and reverse chains, twice a graph's
		// values), its inputs and, for a group of images, every sample's
		// image means and weights, and the two methods' results.
		rows := int64(min(importanceGroup, max(cfg.Draws, 1)*int(batch)))
		is = graph.SatAdd(graph.StateBytes(p, importanceRows, 2*graph.GraphValues), graph.SatMul(importanceRows, size, 3*4),
			graph.SatMul(rows, graph.SatAdd(graph.SatMul(size, 4), graph.SatMul(k, 8))), graph.SatMul(batch, graph.SatAdd(graph.SatMul(k, 2*8), graph.SatMul(size, 2*4))))
	}
	// Per mask and method a class and probability per image and Show
	// completions; the originals and observed pixels; complete.npz holds
	// them again (predictions as int64) and its archive once more.
	cells := graph.SatMul(masks, methods, graph.SatAdd(graph.SatMul(int64(n), 5), graph.SatMul(show, size, 4)))
	results := graph.SatAdd(cells, graph.SatMul(masks+1, show, size, 4), graph.SatMul(int64(n), 6))
	npz := graph.SatMul(2, graph.SatAdd(graph.SatMul(masks, methods, int64(n), 12), graph.SatMul(masks, methods+1, show, size, 4)))
	var picture int64
	if show > 0 {
		picture, _ = sampling.RenderBytes(tableauShapes(p, cfg, int(show)), scale)
	}
	return graph.SatAdd(graphs, perBatch, mix, is, results, max(npz, picture))
}

// FitMemory estimates the bytes FitMasked's largest allocations hold: the
// forward chain with gradients for a batch of o.Batch images, and Adam's
// moments and the gradients of the parameters.
func FitMemory(p *graph.Params, o FitOptions) int64 {
	var params int64
	for _, t := range p.Tensors() {
		params = graph.SatAdd(params, int64(t.Shape().TotalSize()))
	}
	return graph.SatAdd(graph.StateBytes(p, cmpOr(o.Batch, defaultFitBatch), graph.GraphValues), graph.SatMul(params, 4, 3))
}

// tableauShapes are the tableaux of complete.png without their images:
// per mask, the originals, the masked images and each method's
// completions of the first show images.
func tableauShapes(p *graph.Params, cfg Config, show int) []*sampling.Tableau {
	var tabs []*sampling.Tableau
	for _, m := range cfg.Masks {
		t := &sampling.Tableau{Title: "mask " + m.Name, C: 3, H: p.Input.H, W: p.Input.W, Rows: 2 + len(cfg.Methods), Cols: show, Classes: p.Classes, RowNames: []string{"x", "masked"}}
		for _, meth := range cfg.Methods {
			t.RowNames = append(t.RowNames, string(meth))
		}
		tabs = append(tabs, t)
	}
	return tabs
}

// cmpOr returns v if it is positive, else def.
func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
