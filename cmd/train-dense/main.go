// Command train-dense trains the dense network of the paper's §3.1,
// (512),(512),(10) in the {0,1}/logistic encoding: by default the
// experiment dense-generative of the models package (eq. 21); any other
// experiment with -experiment NAME, and every field overridden by a flag.
// It writes a run folder (checkpoint, metrics.csv, curves.png,
// summary.json).
//
//	go run ./cmd/train-dense -objective discriminative
//	go run ./cmd/train-dense -experiment dense-discriminative -epochs 5
//	go run ./cmd/train-dense -resume runs/dense-generative-20250101-120000
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
	os.Exit(traincmd.Main("train-dense", "dense-generative", os.Args[1:], os.Stdout, os.Stderr))
}
