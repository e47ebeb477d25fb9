package approx

import (
	"slices"

	"dcim/graph"
)

// MaxDraws bounds Options.Draws: the Monte-Carlo standard errors fall as
// 1/√S, to a thousandth of a unit's spread at a million draws, while the
// work grows as S (a million draws of the paper's CNN for 1,000 images take
// days).
const MaxDraws = 1_000_000

// MaxLikelihoodDraws bounds Options.LikelihoodDraws: an image's log
// weights are kept in memory, two float64 per sample.
const MaxLikelihoodDraws = 1 << 20

// Memory estimates the bytes Run's largest allocations hold together at
// their peak for n images with p under o: the images; the Monte-Carlo
// graph of a run of at most o.Rows rows and the methods' graphs; the
// statistics of every drawn layer of the images (or the class) of a run;
// the class posteriors of every image; with o.LikelihoodDraws, the joint
// graph of the importance sampling. Draws beyond o.Rows are run in
// chunks, so the estimate does not grow with them. It saturates instead of
// overflowing.
func Memory(p *graph.Params, n int, o Options) int64 {
	rows := o.Rows
	if rows == 0 {
		rows = defaultRows
	}
	pl := planRuns(n, max(o.Draws, 1), rows)
	size, k, methods := int64(p.Input.Size()), int64(p.Classes), int64(len(o.Methods))
	var hidden int64 // units of the states the statistics are kept of
	for _, s := range p.Shapes[:p.Depth()] {
		hidden = graph.SatAdd(hidden, int64(s.Size()))
	}
	stats := func(units int64) int64 { return graph.SatMul(units, 2+groups, 8) }
	fwd := graph.SatAdd(
		graph.StateBytes(p, pl.per*pl.chunk, graph.GraphValues),
		graph.SatMul(int64(pl.per*pl.chunk), size, 4), // the replicated images
		graph.SatMul(methods, graph.StateBytes(p, pl.per, graph.GraphValues)),
		graph.SatMul(int64(pl.per), stats(graph.SatAdd(hidden, k))))
	rev := graph.SatAdd(
		graph.StateBytes(p, pl.chunk, graph.GraphValues),
		graph.SatMul(methods, graph.StateBytes(p, int(k), graph.GraphValues)),
		stats(hidden),
		graph.SatMul(k, groups+1, size, 8)) // the image marginals' replicates
	images := graph.SatMul(int64(n), size, 4)
	probs := graph.SatMul(int64(n), k, groups+1+methods, 8)
	var ll int64
	if len(o.LikelihoodDraws) > 0 {
		// The joint graph (forward and reverse chains: twice a graph's
		// values) of rows/2 rows and its inputs, the binarised images, and
		// one image's log weights (two per sample) and estimates.
		r := max(1, rows/2)
		ll = graph.SatAdd(graph.StateBytes(p, r, 2*graph.GraphValues), graph.SatMul(int64(r), size, 4),
			graph.SatMul(int64(n), size, 4), graph.SatMul(int64(slices.Max(o.LikelihoodDraws)), 2*8), graph.SatMul(int64(n), int64(len(o.LikelihoodDraws)), 4*8))
	}
	return graph.SatAdd(images, probs, max(fwd, rev, ll))
}
