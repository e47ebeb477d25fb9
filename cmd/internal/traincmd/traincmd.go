// Package traincmd is the command line of the training commands
// (cmd/train-dense, cmd/train-cnn): flags over a named experiment of the
// models package, checked before any work, and a run of the train package
// that a signal stops with a checkpoint.
package traincmd

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"dcim/cmd/internal/cli"
	"dcim/graph"
	"dcim/models"
	"dcim/train"
)

// Main is a whole training command: name is the program, experiment the
// experiment it trains when -experiment is not given. It returns the exit
// status (see package cli).
func Main(name, experiment string, args []string, stdout, stderr io.Writer) int {
	c := cli.New(name, "[-experiment NAME] [flags]",
		"Trains a DCIM on MNIST and writes the run folder: model.npz, model.json,\n"+
			"resume.npz, metrics.csv, curves.png and summary.json. The run is an experiment\n"+
			"declared in the models package (default "+experiment+"); every flag overrides\n"+
			"the field of the experiment it names. Ctrl-C (SIGINT), SIGTERM or SIGHUP saves\n"+
			"a checkpoint; -resume continues the run.")
	return c.Main(stderr, func() error {
		CollectSooner()
		opts, err := parse(c, experiment, args, stdout)
		if err != nil {
			return err
		}
		// Until the run's first step a signal ends the command at once:
		// loading and the first checkpoint leave nothing half-written.
		ctx, begin, stop := cli.SignalContext(name, stderr, "finishing the current step and saving a checkpoint")
		defer stop()
		opts.Started = begin
		opts.Log = stdout
		_, err = train.Run(ctx, opts)
		if err != nil && ctx.Err() != nil {
			return cli.Interrupted(err) // its text says "interrupted"
		}
		return err
	})
}

// trainingGOGC is the garbage collector's target heap growth of a training
// run, in percent. A run's live heap is nearly all buffers that every step
// reuses, and a step leaves only tens of KB of garbage, so Go's default of
// 100 would let the heap (and the RSS) grow to twice the live buffers over a
// long run while collecting almost nothing; at 25 a collection still comes
// only every few thousand steps.
const trainingGOGC = 25

// CollectSooner sets the collector's target of a training process to
// trainingGOGC unless the GOGC environment variable chooses one.
func CollectSooner() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(trainingGOGC)
	}
}

// parse reads the flags over the experiment's settings and checks them.
// The flags are the settings of train.Table, shown with the default
// experiment's values; those given override the chosen experiment's.
func parse(c *cli.Command, experiment string, args []string, stdout io.Writer) (train.Options, error) {
	var opts train.Options
	e, err := models.Lookup(experiment)
	if err != nil {
		return opts, err
	}
	s := train.FromExperiment(e, c.Name)
	fs := c.Flags
	var name string
	fs.StringVar(&name, "experiment", experiment, "the `name` of an experiment declared in the models package (listed below)")
	for _, st := range train.Table() {
		st.Define(fs, &s)
	}
	fs.StringVar(&opts.Resume, "resume", "", "continue the run in this `folder` with its own settings; only -data and -epochs (to train a run further) may be given besides")
	fs.BoolVar(&opts.Force, "force", false, "overwrite the run files in a non-empty -out folder")
	conv := fs.String("conv", "auto", "convolution `algorithm`: auto (Winograd F(2×2,3×3) for the stride-1 3×3 layers where it pays, im2col elsewhere), im2col or winograd; a speed setting, not stored with the run")
	c.After = listExperiments
	if err := c.Parse(args, stdout, false); err != nil {
		return opts, err
	}
	alg, err := graph.ParseConvAlgorithm(*conv)
	if err != nil {
		return opts, cli.Usagef("-conv: %v", err)
	}
	graph.SetConvAlgorithm(alg)
	if opts.Resume != "" {
		var extra []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "resume", "data", "epochs", "conv":
			default:
				extra = append(extra, "-"+f.Name)
			}
		})
		if len(extra) > 0 {
			return opts, cli.Usagef("-resume continues a run with its own settings (only -data and -epochs may change); drop %s", strings.Join(extra, ", "))
		}
		if !c.Set("epochs") {
			s.Epochs = 0 // the run's own
		}
		opts.Settings = s
		return opts, nil
	}
	// The chosen experiment's settings, then the flags given over them.
	var given []train.Override
	for _, st := range train.Table() {
		if c.Set(st.Name) {
			given = append(given, train.Override{Name: st.Name, Value: st.Get(s)})
		}
	}
	if s, err = train.NewSettings(c.Name, name, given...); err != nil {
		return opts, err
	}
	cfg, err := s.Check(opts.Force) // everything checked before any work
	if err != nil {
		return opts, err
	}
	opts.Settings = cfg.Settings // with the default -out named once
	return opts, nil
}

// listExperiments prints the registered experiments for -h.
func listExperiments(w io.Writer) {
	fmt.Fprintln(w, "Experiments (-experiment; declare your own in a new file of models/):")
	for _, e := range models.Experiments() {
		fmt.Fprintf(w, "  %-24s %s\n", e.Name, e.Doc)
		fmt.Fprintf(w, "  %-24s %s, %v units, objective %v\n", "", e.Arch, e.Encoding, e.Objective)
	}
}
