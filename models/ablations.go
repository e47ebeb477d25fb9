package models

// Experiments beyond the paper's four runs: the CNN with logistic units,
// and reverse-layer terms that train the top reverse layer q(x^{d−1} |
// class), which eq. (22) leaves untouched.
func init() {
	Register(Experiment{Name: "cnn-binary-generative", Doc: "the CNN with {0,1} logistic units and eq. (21), initialised as Keras does (stays at chance)",
		Arch: MNISTCNN(), Encoding: Binary, Objective: Generative()})
	Register(Experiment{Name: "cnn-binary-centred", Doc: "the CNN with {0,1} logistic units and eq. (21), started as the tanh net (-init centred)",
		Arch: MNISTCNN(), Encoding: Binary, Objective: Generative(), Init: "centred"})
	Register(Experiment{Name: "cnn-sampled-layer", Doc: "the CNN with eq. (22) plus the top reverse layer −log q(x^{d−1} | class)",
		Arch: MNISTCNN(), Encoding: Spin, Objective: MustParseObjective("ce+draw+layer")})
}
