// Command train-cnn trains the convolutional network of the paper's §3.2,
// (3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10), in the
// ±1/tanh encoding by default (DESIGN.md §1 explains why), on MNIST with
// the discriminative objective, eq. (21) (generative) or eq. (22)
// (generative-sampled), and writes a run folder (checkpoint, metrics.csv,
// curves.png, summary.json).
//
//	go run ./cmd/train-cnn -objective generative
//	go run ./cmd/train-cnn -objective generative-sampled
//	go run ./cmd/train-cnn -resume runs/train-cnn-generative-20250101-120000
//
// Ctrl-C finishes the current step, saves a checkpoint and prints the
// command that resumes the run. Run with -h for the flags.
package main

import (
	"os"

	"dcim/train"
)

func main() {
	os.Exit(train.Main(train.CNNDefaults(), os.Args[1:], os.Stdout, os.Stderr))
}
