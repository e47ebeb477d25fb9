package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"dcim/data"
	"dcim/graph"
	"dcim/models"
)

// Eval is a model's figures on a labelled set: the accuracy and the mean
// of every term over all its images.
type Eval struct {
	Accuracy float64
	CE       float64
	BCE21    float64   // reverse BCE from the one-hot label, eq. (21)
	BCE22    float64   // reverse BCE from a draw of layer d−1, eq. (22); NaN without hidden layers
	Terms    []float64 // the objective's terms, in its order
}

// Evaluator evaluates a model on whole sets in fixed batches: a graph for
// full batches and, when the set size is not a multiple of the batch, one
// for the short last batch, so that every image counts once.
type Evaluator struct {
	cfg    graph.Config
	p      *graph.Params
	graphs map[int]*graph.Net // by batch size
}

// EvalBatch is the batch size of evaluation graphs: 1000 images, 50 for
// networks with convolutions, whose evaluation graph (the forward chain
// and both reverse chains) holds about 1.3 MB per image beside the
// training graph (at 250 a CNN run's peak RSS was 620 MB; 50 evaluates as
// fast as 100, within the noise of three interleaved rounds).
func EvalBatch(arch models.Arch) int {
	for _, l := range arch {
		if l.Kind == models.Conv {
			return 50
		}
	}
	return 1000
}

// NewEvaluator returns an evaluator of the objective of cfg (Batch is the
// full batch size; AllTerms is set, so eq. (21) and eq. (22) are always
// reported) over the parameters p.
func NewEvaluator(p *graph.Params, cfg graph.Config) *Evaluator {
	cfg.AllTerms, cfg.Grad = true, false
	return &Evaluator{cfg: cfg, p: p, graphs: map[int]*graph.Net{}}
}

// net returns the graph of batch size n, built on first use.
func (e *Evaluator) net(n int) (*graph.Net, error) {
	if g, ok := e.graphs[n]; ok {
		return g, nil
	}
	cfg := e.cfg
	cfg.Batch = n
	g, err := graph.New(e.p, cfg)
	if err != nil {
		return nil, fmt.Errorf("building the evaluation graph: %w", err)
	}
	e.graphs[n] = g
	return g, nil
}

// ErrEvalInterrupted is Evaluate's error when its context is cancelled.
var ErrEvalInterrupted = errors.New("evaluation interrupted")

// Evaluate runs the model over every image of set. The draws of the
// reverse terms come from a generator seeded with seed, the same draws
// for the same seed.
func (e *Evaluator) Evaluate(ctx context.Context, set *data.Set, seed uint64) (Eval, error) {
	var r Eval
	rng := rand.New(rand.NewPCG(seed, 0x6576616c)) // "eval"
	if set.N < 1 {
		return r, errors.New("evaluation set is empty")
	}
	full := e.cfg.Batch
	correct := 0
	var buf []float32
	for i := 0; i < set.N; i += full {
		if ctx.Err() != nil {
			return r, ErrEvalInterrupted
		}
		n := min(full, set.N-i)
		g, err := e.net(n)
		if err != nil {
			return r, err
		}
		labels := set.Labels[i : i+n]
		buf = set.Batch(buf, i, n)
		if err := g.SetBatch(buf, labels); err != nil {
			return r, err
		}
		g.DrawNoise(rng)
		if err := g.Run(); err != nil {
			return r, fmt.Errorf("evaluation: %w", err)
		}
		w := float64(n)
		r.CE += graph.Scalar(g.CE) * w
		r.BCE21 += graph.Scalar(g.BCE21) * w
		r.BCE22 += graph.Scalar(g.BCE22) * w
		if r.Terms == nil {
			r.Terms = make([]float64, len(g.Terms))
		}
		for j, t := range g.Terms {
			r.Terms[j] += graph.Scalar(t.Value) * w
		}
		correct += CountCorrect(graph.Float32s(g.Probs), labels, e.p.Classes)
	}
	N := float64(set.N)
	r.Accuracy, r.CE, r.BCE21, r.BCE22 = float64(correct)/N, r.CE/N, r.BCE21/N, r.BCE22/N
	for j := range r.Terms {
		r.Terms[j] /= N
	}
	return r, nil
}

// Close releases the graphs.
func (e *Evaluator) Close() {
	for _, g := range e.graphs {
		g.Close()
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
