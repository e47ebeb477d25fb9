// Command approx measures approximation (2) of the paper on a trained DCIM:
// it samples the forward chain from MNIST test images and the reverse
// chain from each class exactly (ancestral sampling) and compares every
// layer's Monte-Carlo marginals with those of mean field and of
// mean-and-variance propagation.
//
//	go run ./cmd/approx -model RUN_DIR [-n 1000] [-draws 200] [-seed 1] [-inference meanfield,moments] [-out DIR] [-json]
//
// It prints the tables (or, with -json, the report as JSON) and writes
// approx.json and approx.png (error per layer, forward and reverse, one
// line per method) into -out (default: the run folder).
package main

import (
	"os"

	"dcim/train/approx"
)

func main() { os.Exit(approx.Main(os.Args[1:], os.Stdout, os.Stderr)) }
