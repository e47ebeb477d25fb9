// Command plot overlays the training curves of several runs in one figure
// like the paper's Figure 1: accuracy on the left, the reverse model's loss
// on the right, training dashed and validation solid, one colour per run.
//
//	go run ./cmd/plot -out fig1.png runs/dense-discriminative runs/dense-generative
package main

import (
	"fmt"
	"io"
	"os"

	"dcim/cmd/internal/cli"
	"dcim/train"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	c := cli.New("plot", "[-out fig1.png] RUN_DIR...",
		"Overlays the accuracy and reverse-loss curves of training runs (their metrics.csv),\n"+
			"like the paper's Figure 1: training dashed, validation solid, one colour per run.")
	out := c.Flags.String("out", "fig1.png", "the PNG to write")
	return c.Main(stderr, func() error {
		if err := c.Parse(args, stdout, true); err != nil {
			return err
		}
		if *out == "" {
			return cli.Usagef("-out is empty")
		}
		if c.Flags.NArg() == 0 {
			return cli.Usagef("no run folders given")
		}
		var runs []train.Curves
		for _, dir := range c.Flags.Args() {
			r, err := train.LoadRun(dir)
			if err != nil {
				return fmt.Errorf("run %s: %w", dir, err)
			}
			runs = append(runs, r)
		}
		if err := train.PlotRunsWarn(*out, runs, stderr); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d runs)\n", *out, len(runs))
		return nil
	})
}
