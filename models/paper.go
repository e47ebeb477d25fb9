package models

// MNISTInput is the shape of an MNIST image: one channel, 28×28 pixels.
var MNISTInput = Shape{C: 1, H: 28, W: 28}

// MNISTClasses is the number of MNIST classes, the size of the class layer.
const MNISTClasses = 10

// MNISTDense is the dense network of the paper's §3.1: (512),(512),(10).
func MNISTDense() Arch {
	return Arch{
		{Kind: Dense, Units: 512},
		{Kind: Dense, Units: 512},
		{Kind: Dense, Units: MNISTClasses},
	}
}

// MNISTCNN is the convolutional network of the paper's §3.2:
// (3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10).
// The (2,2,·) layers are strided 2×2 convolutions that halve the spatial size;
// on MNISTInput the states are 26, 24, 12, 10, 8, 4 pixels wide, and (50)
// flattens 64×4×4 = 1024 units.
func MNISTCNN() Arch {
	return Arch{
		{Kind: Conv, K: 3, S: 1, C: 32},
		{Kind: Conv, K: 3, S: 1, C: 32},
		{Kind: Conv, K: 2, S: 2, C: 32},
		{Kind: Conv, K: 3, S: 1, C: 64},
		{Kind: Conv, K: 3, S: 1, C: 64},
		{Kind: Conv, K: 2, S: 2, C: 64},
		{Kind: Dense, Units: 50},
		{Kind: Dense, Units: MNISTClasses},
	}
}

// The paper's four runs (§3.1 and §3.2). The CNN uses ±1 units with tanh:
// with {0,1} logistic units its six convolutions stay at chance.
func init() {
	Register(Experiment{Name: "dense-discriminative", Doc: "§3.1: the dense net trained discriminatively (Figure 1)",
		Arch: MNISTDense(), Encoding: Binary, Objective: Discriminative()})
	Register(Experiment{Name: "dense-generative", Doc: "§3.1: the dense net with eq. (21) (Figures 1 and 2)",
		Arch: MNISTDense(), Encoding: Binary, Objective: Generative()})
	Register(Experiment{Name: "cnn-generative", Doc: "§3.2: the CNN with eq. (21) (Figure 3, left)",
		Arch: MNISTCNN(), Encoding: Spin, Objective: Generative()})
	Register(Experiment{Name: "cnn-generative-sampled", Doc: "§3.2: the CNN with eq. (22) (Figure 3, right)",
		Arch: MNISTCNN(), Encoding: Spin, Objective: GenerativeSampled()})
}
