package models

// Experiments that train the DCIM itself rather than approximation (2):
// the sampled forward chain (-inference montecarlo: every hidden layer
// drawn from its parent's draw, the loss E[−log p(label | x^{d−1})] over
// the draws) with straight-through or PSA gradients through the draws,
// and the reverse term of every layer (layer:*, wake-sleep's wake phase:
// each reverse conditional q(x^k | x^{k+1}) fitted to one ancestral
// sample of the forward chain), so that chain-mode sampling draws from
// the conditionals that were trained. All start from the paper's eq. (21)
// on the CNN, whose label term stays the mean-field reverse chain.
func init() {
	Register(Experiment{Name: "cnn-moments", Doc: "eq. (21) on the CNN, the forward chain under the moment method (mean-and-variance propagation)",
		Arch: MNISTCNN(), Encoding: Spin, Objective: Generative(), Inference: "moments"})
	Register(Experiment{Name: "cnn-mc-st", Doc: "eq. (21) on the CNN, trained through the sampled forward chain with straight-through gradients",
		Arch: MNISTCNN(), Encoding: Spin, Objective: Generative(), Inference: "montecarlo", DrawGradient: "straight-through"})
	Register(Experiment{Name: "cnn-mc-psa", Doc: "eq. (21) on the CNN, trained through the sampled forward chain with PSA gradients",
		Arch: MNISTCNN(), Encoding: Spin, Objective: Generative(), Inference: "montecarlo", DrawGradient: "psa"})
	Register(Experiment{Name: "cnn-layers-st", Doc: "eq. (21) plus every reverse layer (layer:*) on the CNN, mean-field forward chain, straight-through draws",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+label+layer:*"), DrawGradient: "straight-through"})
	Register(Experiment{Name: "cnn-mc-st-layers", Doc: "eq. (21) plus every reverse layer (layer:*) on the CNN, sampled forward chain, straight-through",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+label+layer:*"), Inference: "montecarlo", DrawGradient: "straight-through"})
	Register(Experiment{Name: "cnn-mc-psa-layers", Doc: "eq. (21) plus every reverse layer (layer:*) on the CNN, sampled forward chain, PSA",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+label+layer:*"), Inference: "montecarlo", DrawGradient: "psa"})

	// The forward half of the recipe: the sampled chain's cross-entropy and
	// the mean-field chain's (ce-mf) together, so that the DCIM and its
	// approximation (2) are trained as one classifier, and a cosine rate.
	Register(Experiment{Name: "cnn-mc-st-mf", Doc: "eq. (21) plus the mean-field cross-entropy (ce-mf) on the CNN, sampled forward chain, straight-through, cosine rate",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+ce-mf+label"), Inference: "montecarlo", DrawGradient: "straight-through", LRSchedule: "cosine"})
	// Both directions: cnn-mc-st-mf plus the reverse term of every layer,
	// the top one (q(x^{d−1} | class), which chain-mode sampling draws
	// first) at weight 5.
	Register(Experiment{Name: "cnn-stochastic", Doc: "the DCIM both ways: sampled forward chain (ce + ce-mf, straight-through) and every reverse layer's term (the top one ×5), eq. (21)'s label term, cosine rate",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+ce-mf+label+draw:1+layer:1+layer:2+layer:3+layer:4+layer:5+layer:6+5*layer:7"),
		Inference: "montecarlo", DrawGradient: "straight-through", LRSchedule: "cosine"})
	// Wake-sleep's two phases on top of it: cnn-stochastic (the wake phase,
	// every reverse layer fitted to the forward chain's samples) plus the
	// sleep phase, the mean-field classifier fitted to the reverse chain's
	// dreams given their class.
	Register(Experiment{Name: "cnn-stochastic-sleep", Doc: "cnn-stochastic plus wake-sleep's sleep phase (sleep: the mean-field cross-entropy of chain-mode dreams given their class)",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+ce-mf+label+draw:1+layer:1+layer:2+layer:3+layer:4+layer:5+layer:6+5*layer:7+sleep"),
		Inference: "montecarlo", DrawGradient: "straight-through", LRSchedule: "cosine"})

	// The table of training methods: mean field as in the paper, moments,
	// the sampled chain with each estimator, with and without every
	// reverse layer's term, and the two recipes, 10 epochs, seed 1; the
	// recipes also with seeds 2 and 3 (the paper sweep has mean field's).
	// The points run in this order, the targets' first: an interrupted
	// sweep has the recipes' seeds before the rest of the table.
	Register(Sweep{Name: "stochastic", Doc: "eq. (21) on the CNN trained by mean field, moments, the sampled chain (straight-through, PSA), with and without every reverse layer, and the recipes; seed 1, the recipes seeds 1–3",
		Base: "cnn-generative",
		Set:  map[string]string{"eval-every": "0"},
		Axes: []Axis{
			Vary("experiment", "cnn-mc-st-mf", "cnn-mc-st-mf", "cnn-mc-st-mf", "cnn-stochastic", "cnn-generative", "cnn-stochastic", "cnn-stochastic",
				"cnn-moments", "cnn-mc-st", "cnn-layers-st", "cnn-mc-st-layers", "cnn-mc-psa", "cnn-mc-psa-layers"),
			Zip("seed", 1, 2, 3, 1, 1, 2, 3, 1, 1, 1, 1, 1, 1),
		}})
}
