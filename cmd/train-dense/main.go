// Command train-dense trains the dense network of the paper's §3.1,
// (512),(512),(10) in the {0,1}/logistic encoding by default, on MNIST
// with the discriminative or a generative objective, and writes a run
// folder (checkpoint, metrics.csv, curves.png, summary.json).
//
//	go run ./cmd/train-dense -objective discriminative
//	go run ./cmd/train-dense -objective generative -epochs 10
//	go run ./cmd/train-dense -resume runs/train-dense-generative-20250101-120000
//
// Ctrl-C finishes the current step, saves a checkpoint and prints the
// command that resumes the run. Run with -h for the flags.
package main

import (
	"os"

	"dcim/train"
)

func main() {
	os.Exit(train.Main(train.DenseDefaults(), os.Args[1:], os.Stdout, os.Stderr))
}
