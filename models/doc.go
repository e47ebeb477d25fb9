// Package models holds the network architectures of the project as plain Go
// values written in the notation of the paper (Flach, Shekhovtsov, Fikar,
// "Generative learning for deep networks", §3): (3,1,32) is a 3×3
// convolution with stride 1 and 32 kernels (valid padding), (50) is a dense
// layer of 50 units, and the last layer of an architecture is the class
// layer (dense, softmax).
//
// Editing this package — changing an architecture below or adding a new
// one — and re-running a command is the intended way to experiment. The
// functions here check an architecture against an input shape before any
// graph is built: [Arch.Shapes] infers every layer's state shape,
// [Arch.Params] counts parameters and [Arch.Summary] prints both.
package models
