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
}
