// Command train-cnn trains the convolutional network of the paper's §3.2,
// (3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10), in the
// ±1/tanh encoding: by default the experiment cnn-generative of the models
// package (eq. 21); any other experiment with -experiment NAME (a new one
// is one new file in models/), and every field overridden by a flag. It
// writes a run folder (checkpoint, metrics.csv, curves.png, summary.json).
//
//	go run ./cmd/train-cnn -objective generative-sampled
//	go run ./cmd/train-cnn -experiment mine -epochs 1 -limit 512
//	go run ./cmd/train-cnn -objective "ce+0.5*label+0.5*draw" -out runs/mixed
//	go run ./cmd/train-cnn -resume runs/cnn-generative-20250101-120000
//
// Ctrl-C finishes the current step, saves a checkpoint and prints the
// command that resumes the run. Run with -h for the flags and the list of
// experiments.
package main

import (
	"os"

	"dcim/cmd/internal/traincmd"
)

func main() {
	os.Exit(traincmd.Main("train-cnn", "cnn-generative", os.Args[1:], os.Stdout, os.Stderr))
}
