package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"dcim/cmd/internal/cli"
	"dcim/train"
)

// defaultFrontierKey is eq. (22)'s reverse loss, the one issue 14 targets.
const defaultFrontierKey = "val_reverse_bce_22"

// frontierFlags are the flags of -frontier.
type frontierFlags struct {
	on     bool
	key    string
	target train.FrontierTargets
	json   bool
}

// frontierJSON is what -json prints.
type frontierJSON struct {
	X      string                `json:"x"`
	Points []train.FrontierPoint `json:"points"`
}

// frontier reads the summary.json of each run folder (globs expanded),
// prints the points and draws them into out. Folders without a usable
// summary are skipped with one warning line each.
func frontier(f frontierFlags, out string, args []string, stdout, stderr io.Writer) error {
	if f.key == "" {
		return cli.Usagef("-x is empty")
	}
	dirs, err := expand(args, stderr)
	if err != nil {
		return err
	}
	var pts []train.FrontierPoint
	for _, dir := range dirs {
		p, err := train.ReadFrontierPoint(dir, f.key)
		if err != nil {
			fmt.Fprintf(stderr, "plot: warning: %v; skipped\n", err)
			continue
		}
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return fmt.Errorf("-frontier: none of the %d run folders has a summary.json with val_accuracy and %s", len(dirs), f.key)
	}
	train.MarkFrontier(pts)
	slices.SortStableFunc(pts, func(a, b train.FrontierPoint) int {
		return cmp.Or(cmp.Compare(a.Loss, b.Loss), cmp.Compare(b.Accuracy, a.Accuracy))
	})
	if err := train.PlotFrontier(out, pts, f.key, f.target, stderr); err != nil {
		return err
	}
	front := 0
	for _, p := range pts {
		if p.Frontier {
			front++
		}
	}
	msg := stdout
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(frontierJSON{X: f.key, Points: pts}); err != nil {
			return err
		}
		msg = stderr // stdout holds the JSON only
	} else {
		printPoints(stdout, f.key, pts)
	}
	fmt.Fprintf(msg, "wrote %s (%d runs, %d on the frontier)\n", out, len(pts), front)
	return nil
}

// expand replaces each argument holding a glob pattern by the folders it
// matches, with a warning for a pattern that matches none.
func expand(args []string, stderr io.Writer) ([]string, error) {
	var dirs []string
	for _, a := range args {
		if !strings.ContainsAny(a, `*?[`) {
			dirs = append(dirs, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, cli.Usagef("pattern %q: %v", a, err)
		}
		if len(m) == 0 {
			fmt.Fprintf(stderr, "plot: warning: %s matches no folder\n", a)
		}
		dirs = append(dirs, m...)
	}
	return dirs, nil
}

// printPoints writes the points as a table, sorted by loss.
func printPoints(w io.Writer, key string, pts []train.FrontierPoint) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\t%s\tval_accuracy\tfrontier\n", key)
	for _, p := range pts {
		mark := ""
		if p.Frontier {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%.5f\t%.4f\t%s\n", p.Run, p.Loss, p.Accuracy, mark)
	}
	tw.Flush()
}
