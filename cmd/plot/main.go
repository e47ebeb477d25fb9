// Command plot overlays the training curves of several runs in one figure
// like the paper's Figure 1: accuracy on the left, the reverse model's loss
// on the right, training dashed and validation solid, one colour per run.
//
//	go run ./cmd/plot -out fig1.png runs/train-dense-discriminative-* runs/train-dense-generative-*
package main

import (
	"os"

	"dcim/train"
)

func main() {
	os.Exit(train.PlotMain(os.Args[1:], os.Stdout, os.Stderr))
}
