package train

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses of Main.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// Main is a whole training command: it parses args over defaults,
// validates every flag, trains with SIGINT and SIGTERM stopping the run
// cleanly after the current step (a second signal kills at once), and
// returns the exit status. Errors are one line on stderr, prefixed by the
// command's name; usage errors exit 2, an interrupt 130, others 1.
func Main(defaults Flags, args []string, stdout, stderr io.Writer) int {
	name := defaults.Command
	f, err := ParseFlags(defaults, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err == nil && f.Resume == "" {
		var c *Config
		if c, err = f.Check(); err == nil { // everything checked before any work
			f = c.Flags // with the default -out named once
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", name, err, name)
		return ExitUsage
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		select {
		case s := <-sig:
			signal.Stop(sig) // a second signal kills at once
			fmt.Fprintf(stderr, "\n%s: %v: finishing the current step and saving a checkpoint (send it again to quit at once)\n", name, s)
			cancel()
		case <-ctx.Done():
		}
	}()

	_, err = Run(ctx, Options{Flags: f, Log: stdout})
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", name, err, name)
		return ExitUsage
	case errors.Is(err, ErrInterrupted):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitInterrupted
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitError
	}
}

// PlotMain is the whole cmd/plot command: it overlays the metrics of the
// run folders in args in one figure like the paper's Figure 1
// (-out, default fig1.png) and returns the exit status.
func PlotMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "fig1.png", "the PNG to write")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "Usage: plot [-out fig1.png] RUN_DIR...\n\nOverlays the accuracy and reverse-loss curves of training runs (their metrics.csv),\nlike the paper's Figure 1: training dashed, validation solid, one colour per run.\n\nFlags:\n")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return ExitOK
		}
		fmt.Fprintf(stderr, "plot: %v (see plot -h)\n", err)
		return ExitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "plot: -out is empty (see plot -h)")
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "plot: no run folders given (see plot -h)")
		return ExitUsage
	}
	var runs []Curves
	for _, dir := range fs.Args() {
		c, err := LoadRun(dir)
		if err != nil {
			fmt.Fprintf(stderr, "plot: run %s: %v\n", dir, err)
			return ExitUsage
		}
		runs = append(runs, c)
	}
	if err := PlotRuns(*out, runs); err != nil {
		fmt.Fprintf(stderr, "plot: %v\n", err)
		return ExitError
	}
	fmt.Fprintf(stdout, "wrote %s (%d runs)\n", *out, len(runs))
	return ExitOK
}
