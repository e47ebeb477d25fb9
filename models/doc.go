// Package models is where experiments live. It holds the network
// architectures as plain Go values in the notation of the paper (Flach,
// Shekhovtsov, Fikar, "Generative learning for deep networks", §3) —
// (3,1,32) is a 3×3 convolution with stride 1 and 32 kernels (valid
// padding), (50) a dense layer of 50 units, and the last layer is the class
// layer — the objectives as weighted terms, and the named experiments that
// the training commands run.
//
//   - [Arch]: [Parse] reads the notation, [Arch.Shapes] infers every
//     layer's state shape, [Arch.Params] counts parameters and
//     [Arch.Summary] prints both. [MNISTDense] and [MNISTCNN] are the
//     paper's networks; edit them freely (the tests keep their own copies).
//   - [Objective]: a list of [Term]s — the forward cross-entropy, the
//     reverse chain from the label (eq. 21) or from a draw of a hidden layer
//     (eq. 22), one reverse layer, or every reverse layer (layer:*, see
//     [EveryLayer]) — each with a weight; [ParseObjective] reads
//     "ce+0.5*label+0.5*draw:-1".
//   - [Experiment]: architecture, encoding, objective and training
//     defaults under a name. The paper's four runs are registered in
//     paper.go; a new experiment is one new file whose init calls
//     [Register], trained with go run ./cmd/train-cnn -experiment NAME.
package models
