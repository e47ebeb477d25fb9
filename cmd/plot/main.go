// Command plot overlays the training curves of several runs in one figure
// like the paper's Figure 1: accuracy on the left, the reverse model's loss
// on the right, training dashed and validation solid, one colour per run.
// With -frontier it draws instead each run's final validation accuracy
// against a reverse loss, with their Pareto frontier.
//
//	go run ./cmd/plot -out fig1.png runs/dense-discriminative runs/dense-generative
//	go run ./cmd/plot -frontier -target-x 0.14 -target-y 0.990 'runs/cnn-*'
package main

import (
	"cmp"
	"fmt"
	"io"
	"os"

	"dcim/cmd/internal/cli"
	"dcim/models"
	"dcim/train"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	c := cli.New("plot", "[-out fig1.png] RUN_DIR... | -frontier [-x KEY] [-target-x X] [-target-y Y] [-json] [-out frontier.png] RUN_DIR|GLOB...",
		"Overlays the accuracy and reverse-loss curves of training runs (their metrics.csv),\n"+
			"like the paper's Figure 1: training dashed, validation solid, one colour per run.\n"+
			"With -frontier, plots each run's final validation accuracy against a loss (from its\n"+
			"summary.json), labelled with the folder's name, draws the Pareto frontier (higher\n"+
			"accuracy, lower loss) as a line and prints the points as a table.")
	out := c.Flags.String("out", "", "the PNG to write (default fig1.png, or frontier.png with -frontier)")
	var f frontierFlags
	c.Flags.BoolVar(&f.on, "frontier", false, "plot final validation accuracy against a loss, one point per run folder (or glob), with the Pareto frontier")
	c.Flags.StringVar(&f.key, "x", defaultFrontierKey, "with -frontier: the loss on the x axis, a numeric `key` of summary.json (e.g. val_reverse_bce_21) or terms.KEY.val")
	c.Float(&f.target.Loss, "target-x", 0, models.NonNegative, "with -frontier: draw a target line at this loss (0: none)")
	c.Float(&f.target.Accuracy, "target-y", 0, models.Probability, "with -frontier: draw a target line at this accuracy (0: none)")
	c.Flags.BoolVar(&f.json, "json", false, "with -frontier: print the points as JSON instead of a table")
	return c.Main(stderr, func() error {
		if err := c.Parse(args, stdout, true); err != nil {
			return err
		}
		if c.Set("out") && *out == "" {
			return cli.Usagef("-out is empty")
		}
		if c.Flags.NArg() == 0 {
			return cli.Usagef("no run folders given")
		}
		if f.on {
			return frontier(f, cmp.Or(*out, "frontier.png"), c.Flags.Args(), stdout, stderr)
		}
		for _, name := range []string{"x", "target-x", "target-y", "json"} {
			if c.Set(name) {
				return cli.Usagef("-%s is for -frontier", name)
			}
		}
		return overlay(cmp.Or(*out, "fig1.png"), c.Flags.Args(), stdout, stderr)
	})
}

// overlay draws the curves of the runs in dirs (Figure 1).
func overlay(out string, dirs []string, stdout, stderr io.Writer) error {
	var runs []train.Curves
	for _, dir := range dirs {
		r, err := train.LoadRun(dir)
		if err != nil {
			return fmt.Errorf("run %s: %w", dir, err)
		}
		runs = append(runs, r)
	}
	if err := train.PlotRunsWarn(out, runs, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d runs)\n", out, len(runs))
	return nil
}
