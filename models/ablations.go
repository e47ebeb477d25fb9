package models

// Experiments beyond the paper's four runs: the CNN with logistic units;
// reverse-layer terms that train the top reverse layer q(x^{d−1} | class),
// which eq. (22) leaves untouched; and eq. (22) with the gradient passed
// through the draw of layer d−1, so that the reverse terms also shape the
// forward layers that make the draw.
func init() {
	Register(Experiment{Name: "cnn-binary-generative", Doc: "the CNN with {0,1} logistic units and eq. (21), initialised as Keras does (stays at chance)",
		Arch: MNISTCNN(), Encoding: Binary, Objective: Generative()})
	Register(Experiment{Name: "cnn-binary-centred", Doc: "the CNN with {0,1} logistic units and eq. (21), started as the tanh net (-init centred)",
		Arch: MNISTCNN(), Encoding: Binary, Objective: Generative(), Init: "centred"})
	Register(Experiment{Name: "cnn-sampled-layer", Doc: "the CNN with eq. (22) plus the top reverse layer −log q(x^{d−1} | class)",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+draw+layer")})
	Register(Experiment{Name: "cnn-sampled-st", Doc: "eq. (22), the draw of layer d−1 passing its gradient straight through, cosine learning rate: 0.990 accuracy and 0.14 reverse loss together",
		Arch: MNISTCNN(), Encoding: Spin, Objective: GenerativeSampled(),
		DrawGradient: "straight-through", LRSchedule: "cosine"})
	Register(Experiment{Name: "cnn-layer-st", Doc: "eq. (22) plus 5× the top reverse layer, straight-through draws, cosine learning rate: layer-mode samples that keep their class",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+draw+5*layer"),
		DrawGradient: "straight-through", LRSchedule: "cosine"})
}
